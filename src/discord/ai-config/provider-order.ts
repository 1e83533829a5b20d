import { UserFacingError } from '../errors.ts';
import { DiscordLimits } from '../format/limits.ts';
import { inlineCode } from '../format/text.ts';

/** How an order is shown: "anthropic → local". */
export function orderText(order: readonly string[]): string {
  return order.join(' → ');
}

function enabledText(enabled: readonly string[]): string {
  return enabled.length === 0 ? 'none' : enabled.map((name) => inlineCode(name)).join(', ');
}

/**
 * The providers named in `text` ("anthropic,local", spaces allowed), each
 * enabled and named once. Anything else is refused, naming what is wrong and
 * which providers are enabled.
 */
export function parseProviderOrder(text: string, enabled: readonly string[]): string[] {
  const names = text
    .split(/[\s,]+/)
    .map((name) => name.toLowerCase())
    .filter((name) => name !== '');
  const example = enabled.length > 0 ? ` (e.g. ${inlineCode(enabled.join(','))})` : '';
  if (names.length === 0) {
    throw new UserFacingError(`Name at least one provider, separated by commas${example}. Enabled providers: ${enabledText(enabled)}.`);
  }
  const unknown = [...new Set(names.filter((name) => !enabled.includes(name)))];
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).map((name) => inlineCode(name, 40));
    const more = unknown.length > shown.length ? ` and ${unknown.length - shown.length} more` : '';
    throw new UserFacingError(
      `${unknown.length === 1 ? 'Unknown provider' : 'Unknown providers'} ${shown.join(', ')}${more}: ` +
        `${unknown.length === 1 ? 'it is' : 'they are'} not enabled on this bot. Enabled providers: ${enabledText(enabled)}. Nothing was changed.`,
    );
  }
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) {
    throw new UserFacingError(`${inlineCode(repeated)} is named twice; name each provider once${example}. Nothing was changed.`);
  }
  return names;
}

export interface OrderChoice {
  name: string;
  value: string;
}

/**
 * Orders to offer while a member types: the current one first (when nothing
 * is typed yet), then, after the providers already typed, each remaining
 * provider matching the last partial name, alone and followed by the rest.
 */
export function suggestOrders(typed: string, enabled: readonly string[], current: readonly string[] | undefined): OrderChoice[] {
  const parts = typed.toLowerCase().split(',').map((part) => part.trim());
  const partial = parts.pop() ?? '';
  const done = parts.filter((part) => part !== '');
  const out: OrderChoice[] = [];
  const add = (order: readonly string[], note = ''): void => {
    const value = order.join(',');
    const name = `${orderText(order)}${note}`;
    if (value.length > DiscordLimits.choiceValue || name.length > DiscordLimits.choiceName) return;
    if (!out.some((choice) => choice.value === value)) out.push({ name, value });
  };
  if (typed.trim() === '' && current !== undefined && current.length > 0) add(current, ' (current)');
  // A typed prefix naming something not enabled (or twice) cannot be completed into a valid order.
  if (done.every((name) => enabled.includes(name)) && new Set(done).size === done.length) {
    const rest = enabled.filter((name) => !done.includes(name));
    for (const name of rest.filter((candidate) => candidate.startsWith(partial))) {
      const others = rest.filter((other) => other !== name);
      if (others.length > 0) add([...done, name, ...others]);
      add([...done, name]);
    }
  }
  return out.slice(0, DiscordLimits.autocompleteChoices);
}
