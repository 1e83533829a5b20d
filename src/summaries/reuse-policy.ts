/**
 * Whether a stored answer may be served again, judged by who gave it.
 *
 * A request's key says what was asked; it cannot say who will answer, since
 * that is only known after the call. So the answering provider/model is kept
 * with the summary, and at lookup its rank in the guild's current plan is
 * compared with the best target that could be called now. A summary made by
 * a fallback (say the offline `local` provider during an Anthropic outage) is
 * served only while every target ranked above it is known to be down (its
 * breaker open, or failing its health check); once a preferred target is
 * callable again the request goes to it, and its answer replaces the
 * fallback's. The rank is computed at lookup rather than stored because a
 * guild may reorder its providers between the two requests.
 */
import type { TargetStandingEntry } from '../llm/service.ts';
import type { EngineTask } from './types.ts';

/** The task's plan for a guild with each target's state; the LLM service provides it. */
export type TargetStanding = (task: EngineTask, guildId: string | undefined) => readonly TargetStandingEntry[];

type ReuseVerdict = { reuse: true } | { reuse: false; reason: string };

export function judgeReuse(answeredBy: { provider: string; model: string }, standing: readonly TargetStandingEntry[]): ReuseVerdict {
  const best = standing.findIndex((t) => t.callable);
  // Nothing could answer now: the stored answer is the best there is.
  if (best === -1) return { reuse: true };
  const rank = rankOf(answeredBy, standing);
  if (rank === -1) {
    return { reuse: false, reason: `it was made by ${answeredBy.provider}/${answeredBy.model}, which this plan no longer lists` };
  }
  if (rank <= best) return { reuse: true };
  const preferred = standing[best]!;
  return {
    reuse: false,
    reason: `it was made by ${answeredBy.provider}/${answeredBy.model} while ${preferred.provider}/${preferred.model}, preferred, was unavailable`,
  };
}

/** The exact target; failing that (a provider reporting a dated model id), the provider's first target. */
function rankOf(answeredBy: { provider: string; model: string }, standing: readonly TargetStandingEntry[]): number {
  const exact = standing.findIndex((t) => t.provider === answeredBy.provider && t.model === answeredBy.model);
  return exact !== -1 ? exact : standing.findIndex((t) => t.provider === answeredBy.provider);
}

/**
 * The plan as the router orders it for one request: a prompt's front matter
 * may ask for a provider or model, and the router then tries matching targets
 * first (router/targets.ts). Without this, an answer from the prompt's chosen
 * target would rank below the plan's first and never be reused.
 */
export function preferFirst(
  standing: readonly TargetStandingEntry[],
  preferred: { provider?: string | undefined; model?: string | undefined },
): readonly TargetStandingEntry[] {
  if (preferred.provider === undefined && preferred.model === undefined) return standing;
  const matches = (t: TargetStandingEntry): boolean =>
    (preferred.provider === undefined || t.provider === preferred.provider) && (preferred.model === undefined || t.model === preferred.model);
  return [...standing.filter(matches), ...standing.filter((t) => !matches(t))];
}
