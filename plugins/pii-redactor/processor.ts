/**
 * The request processor: redacts channel content before it leaves the
 * process. It rewrites the conversation turns, the numbered messages and the
 * partial summaries of a reduce step, and never `system`, which is our own
 * prompt. Returns a new request; the input is not modified.
 */
import type { GenerateRequest, RequestAttachments } from '../../src/llm/provider-spec/contract.ts';
import type { RequestProcessor } from '../../src/llm/plugin-host/types.ts';
import type { Redactor } from './redact.ts';

export function createPiiProcessor(redact: Redactor): RequestProcessor {
  const clean = (text: string) => redact(text).text;
  return {
    name: 'pii-redactor',
    process(request: GenerateRequest): GenerateRequest {
      const attachments = request.attachments;
      let redactedAttachments: RequestAttachments | undefined = attachments;
      if (attachments) {
        redactedAttachments = { ...attachments };
        if (attachments.messages) {
          redactedAttachments.messages = attachments.messages.map((message) => ({ ...message, content: clean(message.content) }));
        }
        if (attachments.partials) redactedAttachments.partials = attachments.partials.map(clean);
      }
      return {
        ...request,
        turns: request.turns.map((turn) => ({ ...turn, content: clean(turn.content) })),
        ...(redactedAttachments === undefined ? {} : { attachments: redactedAttachments }),
      };
    },
  };
}
