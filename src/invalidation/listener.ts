/**
 * The receiving half of LISTEN/NOTIFY. Real Postgres and embedded PGlite
 * deliver notifications differently (a dedicated connection vs. a callback
 * on the one in-process instance); the bus sees only this interface.
 */
export interface ListenerCallbacks {
  onPayload(payload: string): void;
  /**
   * The listener was away (the connection dropped, or never came up) and is
   * subscribed again: anything sent meanwhile is lost.
   */
  onResubscribed(): void;
}

export interface NotificationListener {
  /** Subscribes; resolves once LISTEN is in place (or, when the server is unreachable, once a retry is scheduled). */
  start(callbacks: ListenerCallbacks): Promise<void>;
  close(): Promise<void>;
}

/** Channel names are interpolated into LISTEN, so only plain identifiers are allowed. */
export function assertChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) {
    throw new Error(`invalid notification channel "${channel.slice(0, 70)}": expected a lowercase identifier`);
  }
}
