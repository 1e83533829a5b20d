/**
 * What a member reads when a summary or an answer could not be made: short,
 * specific, and saying when trying again can help. Times are Discord
 * timestamps, shown in each reader's own time zone.
 */
import { CONNECTION_LOST_MESSAGE, isConnectionLost } from '../../db/connection-errors.ts';
import { ChatError, SummarizeError } from '../../summaries/errors.ts';
import { RouterError, RouterRefusal } from '../../llm/router/errors.ts';
import { discordTime } from '../format/text.ts';

/** `<t:…:R>` ("in 5 minutes"), rounded up so it never shows a time already past. */
function when(at: number): string {
  return discordTime(Math.ceil(at / 1000) * 1000, 'R');
}

function refusalText(refusal: RouterRefusal): string {
  if (refusal.kind === 'rate') {
    const who = refusal.scope === 'user' ? "You're sending requests faster than allowed" : 'This server is sending requests faster than allowed';
    return refusal.resetAt === null ? `${who}; please wait a little.` : `${who}; try again ${when(refusal.resetAt)}.`;
  }
  if (refusal.resetAt === null) {
    return "Language-model calls are switched off for this server (its daily budget is $0). An admin can raise it.";
  }
  return `This server's daily language-model budget is used up; it resets ${when(refusal.resetAt)}.`;
}

function unavailableText(cause: unknown): string {
  // A lost database connection is not the providers' fault: say what happened.
  if (isConnectionLost(cause)) return CONNECTION_LOST_MESSAGE;
  // Every provider refused the request itself: waiting will not help, a settings change might.
  if (cause instanceof RouterError && cause.kind === 'bad_request') {
    return "None of the configured model providers accepted this request; an admin can check the server's prompt settings (model, temperature) and the bot's logs.";
  }
  const retryAt = cause instanceof RouterError ? cause.retryAt : undefined;
  return retryAt === undefined
    ? 'The model providers are unavailable right now; please try again in a few minutes.'
    : `The model providers are unavailable right now; try again ${when(retryAt)}.`;
}

/** The member-facing text for a failed summary. */
export function summarizeFailureText(error: SummarizeError): string {
  const cause = error.details.cause;
  switch (error.kind) {
    case 'refused':
      return cause instanceof RouterRefusal ? refusalText(cause) : 'That request was refused by a usage limit; please try again later.';
    case 'unavailable':
    case 'failed': {
      const partial =
        error.details.chunksDone !== undefined && error.details.chunksTotal !== undefined && error.details.chunksDone > 0
          ? ` (${error.details.chunksDone} of ${error.details.chunksTotal} parts were done and are kept, so a retry is quicker)`
          : '';
      return `${unavailableText(cause)}${partial}`;
    }
    case 'too_large':
      return 'That conversation is too large for the available models; try fewer messages or a shorter time window.';
    case 'empty':
      return capitalize(error.message);
    case 'aborted':
      return 'The summary was cancelled before it finished.';
  }
}

/** The member-facing text for a failed chat answer. */
export function chatFailureText(error: ChatError): string {
  const cause = error.cause;
  switch (error.kind) {
    case 'invalid_question':
      return `I can't take that question: ${error.message}.`;
    case 'refused':
      return cause instanceof RouterRefusal ? refusalText(cause) : 'That request was refused by a usage limit; please try again later.';
    case 'unavailable':
    case 'failed':
      return unavailableText(cause);
    case 'too_large':
      return 'That question and the conversation before it are too large for the available models; start over with `/ask reset`.';
    case 'aborted':
      return 'The answer was cancelled before it finished.';
  }
}

function capitalize(text: string): string {
  return text.length === 0 ? text : `${text[0]!.toUpperCase()}${text.slice(1)}`;
}
