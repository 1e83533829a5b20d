/**
 * Custom ids of /prompt-config's buttons and modal. The dispatcher routes
 * anything starting with `prompt-config:` back to the command; the nonce
 * names the pending confirmation the button belongs to.
 */
export const COMMAND_NAME = 'prompt-config';

export type PromptConfigAction = 'save-anyway' | 'cancel-set' | 'remove' | 'cancel-remove' | 'token';

const ACTIONS: ReadonlySet<string> = new Set<PromptConfigAction>(['save-anyway', 'cancel-set', 'remove', 'cancel-remove', 'token']);

export function customId(action: PromptConfigAction, nonce?: string): string {
  return nonce === undefined ? `${COMMAND_NAME}:${action}` : `${COMMAND_NAME}:${action}:${nonce}`;
}

export function parseCustomId(id: string): { action: PromptConfigAction; nonce: string | undefined } | undefined {
  const [prefix, action, nonce, ...rest] = id.split(':');
  if (prefix !== COMMAND_NAME || action === undefined || !ACTIONS.has(action) || rest.length > 0) return undefined;
  if (nonce !== undefined && !/^[0-9a-f]{16}$/.test(nonce)) return undefined;
  return { action: action as PromptConfigAction, nonce };
}
