/** The tasks the router routes; a plugin's default models and the config's `router.tasks` are keyed by these. */
export const ROUTED_TASKS = ['summarize', 'summarize-map', 'chat'] as const;
export type RoutedTask = (typeof ROUTED_TASKS)[number];
