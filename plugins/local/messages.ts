/** The numbered messages the engine attaches. */

export interface NumberedMessage {
  ref: number;
  author: string;
  content: string;
  timestamp: string;
  /** A platform notice (pinned a message, started a thread), not something a member wrote. */
  notice?: boolean;
  /** The reference number of the message this one replies to, when it is in the conversation. */
  replyTo?: number;
}
