/**
 * What any part of the bot tells a guild's admins about: a push that failed
 * validation, a prompt repository gone or back, the budget crossing 80% and
 * 100%, a digest failing or paused, a webhook delivery given up. Producers
 * only describe the notice; the sink decides where it goes (the guild's
 * notices channel, or the status views when none is set) and keeps it to one
 * per cause per hour, counting the repeats.
 */
export type NoticeKind =
  | 'prompt-push-invalid'
  | 'prompt-repo-unreachable'
  | 'prompt-repo-back'
  | 'budget-threshold'
  | 'digest-failing'
  | 'digest-paused'
  | 'digest-not-posted'
  | 'webhook-given-up';

export interface AdminNotice {
  guildId: string;
  kind: NoticeKind;
  /** What makes two notices the same one for dedupe, e.g. `budget:2026-12-06:80` or `digest:42:paused`. */
  cause: string;
  title: string;
  /** Plain lines of detail; member- and repo-supplied text is shown as data, never as markup. */
  lines: readonly string[];
  /** Where to look, e.g. the file at the failing line on GitHub. */
  link?: string;
}

export interface AdminNotices {
  post(notice: AdminNotice): Promise<void>;
}
