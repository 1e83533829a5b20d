/** Applies the detectors to one string. Pure: same input, same output, no state kept between calls. */
import type { PiiKind, Rule } from './patterns.ts';
import { RULES, marker } from './patterns.ts';

export interface Redaction {
  text: string;
  counts: Record<PiiKind, number>;
}

export type Redactor = (text: string) => Redaction;

export function createRedactor(kinds: ReadonlySet<PiiKind>): Redactor {
  const rules: readonly Rule[] = RULES.filter((rule) => kinds.has(rule.kind));
  return (text) => {
    const counts: Record<PiiKind, number> = { email: 0, phone: 0, ip: 0, secret: 0 };
    let out = text;
    for (const rule of rules) {
      out = out.replace(rule.pattern, (match: string, ...rest: unknown[]) => {
        // The callback gets (match, ...captures, offset, whole string); only the captures matter here.
        const groups = rest.slice(0, -2) as Array<string | undefined>;
        const replacement = rule.replace ? rule.replace(match, groups) : marker(rule.kind);
        if (replacement === undefined || replacement === match) return match;
        counts[rule.kind] += 1;
        return replacement;
      });
    }
    return { text: out, counts };
  };
}
