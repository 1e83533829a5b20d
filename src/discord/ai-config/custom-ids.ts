/**
 * Custom ids of /ai-config's modal. The dispatcher routes anything starting
 * with `ai-config:` back to the command. The provider rides in the id so the
 * submit knows which key it carries; a submit can be crafted, so the id is
 * parsed strictly and the provider checked again when the key is stored.
 */
export const COMMAND_NAME = 'ai-config';

/** The same shape guild keys and settings accept. */
export const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,62}$/;

export function keyModalId(provider: string): string {
  return `${COMMAND_NAME}:key:${provider}`;
}

/** The provider of a key modal's custom id, or undefined when the id is not one. */
export function parseKeyModalId(id: string): string | undefined {
  const [prefix, action, provider, ...rest] = id.split(':');
  if (prefix !== COMMAND_NAME || action !== 'key' || provider === undefined || rest.length > 0) return undefined;
  return PROVIDER_NAME.test(provider) ? provider : undefined;
}
