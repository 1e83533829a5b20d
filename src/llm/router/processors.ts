/**
 * Applies request processors (redaction and the like) in order before a
 * request leaves the process. A failing processor fails the call: sending
 * the unprocessed text would defeat the point of having it.
 */
import type { CallContext, RequestProcessor } from '../plugin-host/types.ts';
import type { GenerateRequest } from '../provider-spec/contract.ts';
import { RouterError } from './errors.ts';

export type ProcessorEnabled = (guildId: string | undefined, name: string) => boolean;

export async function applyProcessors(
  processors: readonly RequestProcessor[],
  enabled: ProcessorEnabled | undefined,
  request: GenerateRequest,
  ctx: CallContext,
): Promise<GenerateRequest> {
  let current = request;
  for (const processor of processors) {
    if (enabled !== undefined && !enabled(ctx.guildId, processor.name)) continue;
    let next: GenerateRequest;
    try {
      next = await processor.process(current, ctx);
    } catch (err) {
      throw new RouterError('processor_failed', `request processor "${processor.name}" failed, so the request was not sent`, {
        cause: err,
      });
    }
    if (next === null || typeof next !== 'object' || typeof next.system !== 'string' || !Array.isArray(next.turns)) {
      throw new RouterError(
        'processor_failed',
        `request processor "${processor.name}" returned something that is not a request, so the request was not sent`,
      );
    }
    current = next;
  }
  return current;
}
