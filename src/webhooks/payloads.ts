import { z } from 'zod';

/**
 * The few fields of GitHub's webhook bodies the bot acts on, validated.
 * Only these are stored and processed: GitHub's body is signed, but it
 * still names repositories the bot will query and text it will show.
 */

const login = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'expected a GitHub account name');
const repoName = z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected a GitHub repository name');
const sha = z.string().regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, 'expected a commit SHA');
const ref = z.string().min(1).max(255).regex(/^[^\u0000-\u001f\u007f]+$/, 'expected a git ref');

const repository = z.looseObject({
  name: repoName,
  owner: z.looseObject({ login }),
});

export interface PushEssentials {
  kind: 'push';
  owner: string;
  repo: string;
  ref: string;
  /** The new head; forty zeros when the branch was deleted. */
  after: string;
  /** The head the push replaced (absent in rows stored before it was kept). */
  before?: string | undefined;
  deleted: boolean;
  /** The per-config hook that verified it: it may change that config only. Absent: the operator's webhook. */
  hookId?: string | undefined;
}

export type RepositoryAction = 'renamed' | 'transferred' | 'deleted';

export interface RepositoryEssentials {
  kind: 'repository';
  action: RepositoryAction;
  /** The name the bot's configs use: before the rename or transfer. */
  owner: string;
  repo: string;
  /** After a rename or transfer. */
  newOwner?: string | undefined;
  newRepo?: string | undefined;
  /** As for pushes: the per-config hook that verified it; absent for the operator's webhook. */
  hookId?: string | undefined;
}

export type DeliveryPayload = PushEssentials | RepositoryEssentials;

const pushBody = z.looseObject({
  ref,
  after: sha,
  before: sha.optional(),
  deleted: z.boolean().optional(),
  repository,
});

const repositoryBody = z.looseObject({
  action: z.string().max(100),
  repository,
  changes: z
    .looseObject({
      repository: z.looseObject({ name: z.looseObject({ from: repoName }) }).optional(),
      owner: z
        .looseObject({
          from: z.looseObject({
            user: z.looseObject({ login }).optional(),
            organization: z.looseObject({ login }).optional(),
          }),
        })
        .optional(),
    })
    .optional(),
});

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`;
}

export function parsePush(body: unknown): Parsed<PushEssentials> {
  const parsed = pushBody.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `not a push payload (${firstIssue(parsed.error)})` };
  const p = parsed.data;
  return {
    ok: true,
    value: {
      kind: 'push',
      owner: p.repository.owner.login,
      repo: p.repository.name,
      ref: p.ref,
      after: p.after,
      ...(p.before === undefined ? {} : { before: p.before }),
      deleted: p.deleted === true || /^0+$/.test(p.after),
    },
  };
}

/** Parses a `repository` event; actions the bot does not act on come back as `ignored`. */
export function parseRepositoryEvent(body: unknown): Parsed<RepositoryEssentials> | { ok: 'ignored'; action: string } {
  const parsed = repositoryBody.safeParse(body);
  if (!parsed.success) return { ok: false, reason: `not a repository payload (${firstIssue(parsed.error)})` };
  const p = parsed.data;
  const owner = p.repository.owner.login;
  const name = p.repository.name;
  switch (p.action) {
    case 'renamed': {
      const from = p.changes?.repository?.name.from;
      if (from === undefined) return { ok: false, reason: 'a rename without changes.repository.name.from' };
      return { ok: true, value: { kind: 'repository', action: 'renamed', owner, repo: from, newOwner: owner, newRepo: name } };
    }
    case 'transferred': {
      const from = p.changes?.owner?.from.user?.login ?? p.changes?.owner?.from.organization?.login;
      if (from === undefined) return { ok: false, reason: 'a transfer without changes.owner.from' };
      return { ok: true, value: { kind: 'repository', action: 'transferred', owner: from, repo: name, newOwner: owner, newRepo: name } };
    }
    case 'deleted':
      return { ok: true, value: { kind: 'repository', action: 'deleted', owner, repo: name } };
    default:
      return { ok: 'ignored', action: p.action };
  }
}

const hookId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'expected a webhook id');

/** The stored payload, read back by the sweeper; validated again since rows outlive code versions. */
const storedSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('push'), owner: login, repo: repoName, ref, after: sha, before: sha.optional(), deleted: z.boolean(), hookId: hookId.optional() }),
  z.strictObject({
    kind: z.literal('repository'),
    action: z.enum(['renamed', 'transferred', 'deleted']),
    owner: login,
    repo: repoName,
    newOwner: login.optional(),
    newRepo: repoName.optional(),
    hookId: hookId.optional(),
  }),
]);

export function parseStoredPayload(value: unknown): Parsed<DeliveryPayload> {
  const parsed = storedSchema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: `stored payload is invalid (${firstIssue(parsed.error)})` };
}

/** `main` for `refs/heads/main`; undefined for tags and other refs. */
export function branchOf(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length ? ref.slice('refs/heads/'.length) : undefined;
}
