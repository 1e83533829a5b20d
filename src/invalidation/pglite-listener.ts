import { assertChannelName, type NotificationListener } from './listener.ts';

/**
 * Embedded PGlite has one in-process session; its own LISTEN/NOTIFY calls
 * back here, so the bus takes the same publish-and-receive path as with a
 * real server (and nothing is ever lost, so there is no reconnecting).
 */
export function createPgliteListener(
  listen: (channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>,
  channel: string,
): NotificationListener {
  assertChannelName(channel);
  let unlisten: (() => Promise<void>) | undefined;
  return {
    async start(callbacks) {
      unlisten = await listen(channel, (payload) => callbacks.onPayload(payload));
    },
    async close() {
      const stop = unlisten;
      unlisten = undefined;
      if (stop !== undefined) await stop().catch(() => undefined);
    },
  };
}
