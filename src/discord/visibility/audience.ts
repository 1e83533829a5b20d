/**
 * The visibility rule: a summary (or anything drawn from messages) may be
 * shown in a place only when everyone who can view that place can read every
 * message it draws on.
 *
 * `audienceContained` answers "can everyone who can view `destination` read
 * `source`?" from facts about the guild, in Discord's own terms: the roles'
 * guild permissions, each channel's permission overwrites (@everyone, role,
 * member), the parent of a thread or forum post, and who is in a private
 * thread. It is pure: the caller gathers the facts (see `facts.ts`) at the
 * moment the content is shown, since permissions change.
 *
 * It proves containment for every member the guild has or may ever have:
 * any combination of the guild's roles, and, separately, every member named
 * by a member overwrite or by thread membership. A proof that depends on
 * which roles today's members happen to hold would break the moment a role
 * is handed out. Whatever is unknown counts against visibility: an unknown
 * role, an unknown thread membership, a guild too tangled to decide within
 * the work bound — all answer "not visible" and the caller answers privately.
 *
 * Discord's arithmetic (https://discord.com/developers/docs/topics/permissions):
 * the owner and Administrator see everything; otherwise guild permissions
 * (@everyone | roles), then the channel's @everyone overwrite, then all role
 * overwrites together (denies before allows), then the member's own overwrite.
 * Threads and forum posts take their parent's permissions; a private thread
 * is seen only by its members and by those with Manage Threads on the parent.
 * A category's overwrites play no part at run time: a "synced" channel holds
 * its own copy, and that copy is what counts.
 */
import { PermissionFlagsBits } from 'discord.js';

/** One entry of a channel's `permission_overwrites`. */
export interface OverwriteFacts {
  /** A role id (the guild id is @everyone) or a user id. */
  id: string;
  type: 'role' | 'member';
  allow: bigint;
  deny: bigint;
}

/** A guild channel that carries permission overwrites (text, announcement, voice, forum…). */
export interface ChannelFacts {
  id: string;
  permissionOverwrites: readonly OverwriteFacts[];
}

/** Who is known to be in a private thread, and who is known not to be; anyone else is unknown. */
export interface ThreadMembership {
  members: ReadonlySet<string>;
  nonMembers: ReadonlySet<string>;
}

/** Where messages are read from or a summary is shown. */
export type PlaceFacts =
  | { kind: 'channel'; channel: ChannelFacts }
  /** A thread or forum post, with the channel (or forum) it belongs to. */
  | { kind: 'thread'; threadId: string; parent: ChannelFacts; private: false }
  | { kind: 'thread'; threadId: string; parent: ChannelFacts; private: true; membership: ThreadMembership };

export interface GuildFacts {
  /** Also the id of the @everyone role. */
  guildId: string;
  ownerId: string;
  /** Every role of the guild, @everyone included, with its guild-wide permissions. */
  roles: ReadonlyMap<string, bigint>;
  /**
   * Bots' managed roles (role tags `bot_id`): role id → the bot's user id.
   * Discord lets no one else hold such a role, so it is that bot's alone
   * rather than a role any member might be given.
   */
  botRoles?: ReadonlyMap<string, string>;
}

export interface VisibilityQuestion {
  guild: GuildFacts;
  /** Where the summary would be shown. */
  destination: PlaceFacts;
  /** Where the summarized messages are. */
  source: PlaceFacts;
}

/** What a reader of the destination lacks in the source. */
export type MissingAccess = 'view' | 'history' | 'thread-membership';

export type HiddenReason =
  /** A member holding exactly these roles (none: just @everyone) could view the destination but not read the source. */
  | { kind: 'roles'; roleIds: readonly string[]; missing: MissingAccess }
  /** This member, named by an overwrite or a thread's member list, could. */
  | { kind: 'member'; userId: string; missing: MissingAccess }
  /** An overwrite names a role the guild facts do not hold. */
  | { kind: 'unknown-role'; roleId: string }
  /** Deciding would take more work than one request is allowed. */
  | { kind: 'too-complex' }
  /** A place, or the parent a thread takes its permissions from, is not known. */
  | { kind: 'unknown-channel' };

export type Visibility = { visible: true } | { visible: false; why: HiddenReason };

/**
 * Bounds the work of one decision (it runs on the event loop, and a guild
 * admin controls roles and overwrites): tens of milliseconds at most, see
 * `npm run bench -- visibility`.
 */
const MAX_ROLE_COMBINATIONS = 4_096;
const MAX_CHECKS = 500_000;

export function audienceContained(question: VisibilityQuestion): Visibility {
  const { guild, destination, source } = question;
  const everyoneBits = guild.roles.get(guild.guildId);
  if (everyoneBits === undefined) return hidden({ kind: 'unknown-role', roleId: guild.guildId });

  const channels = distinctChannels([holder(destination), holder(source)]);
  const unknown = unknownRole(guild, channels);
  if (unknown !== undefined) return hidden({ kind: 'unknown-role', roleId: unknown });

  const model = new PermissionModel(guild, everyoneBits, channels);

  const threads = [destination, source].filter((p): p is Extract<PlaceFacts, { private: true }> => p.kind === 'thread' && p.private);
  const threadIds = [...new Set(threads.map((t) => t.threadId))];
  // The same thread may arrive twice (summarized and shown in itself): what either copy knows is known.
  const membershipOf = new Map<string, ThreadMembership>();
  for (const t of threads) {
    const seen = membershipOf.get(t.threadId);
    membershipOf.set(t.threadId, seen === undefined ? t.membership : { members: new Set([...seen.members, ...t.membership.members]), nonMembers: new Set([...seen.nonMembers, ...t.membership.nonMembers]) });
  }

  const people = namedPeople(guild, channels, threads);
  const memberships = (userId: string | undefined): Array<ReadonlyMap<string, boolean>> => assignments(threadIds, (id) => known(membershipOf.get(id)!, userId));
  const readers = [undefined, ...people];
  const combinationsOf = new Map<string | undefined, number[]>();
  let work = 0;
  for (const userId of readers) {
    const combinations = model.roleCombinations(userId);
    if (combinations === undefined) return hidden({ kind: 'too-complex' });
    combinationsOf.set(userId, combinations);
    work += combinations.length * 2 ** threadIds.length;
    if (work > MAX_CHECKS) return hidden({ kind: 'too-complex' });
  }

  for (const userId of readers) {
    const combinations = combinationsOf.get(userId)!;
    for (const inThread of memberships(userId)) {
      const reader: Reader = { userId, inThread };
      for (const roles of combinations) {
        const missing = model.gap(destination, source, roles, reader);
        if (missing === undefined) continue;
        if (userId !== undefined) return hidden({ kind: 'member', userId, missing });
        const witness = model.smallestWitness(roles, (r) => model.gap(destination, source, r, reader) !== undefined);
        return hidden({ kind: 'roles', roleIds: witness.roleIds, missing: model.gap(destination, source, witness.summary, reader)! });
      }
    }
  }
  return { visible: true };
}

// ---- the model ---------------------------------------------------------------------------------

/** The permissions that matter here, packed into 4 bits so role sets combine as plain integers. */
const ADMIN = 1;
const VIEW = 2;
const HISTORY = 4;
const MANAGE_THREADS = 8;
const BITS = 4;

function pack(bits: bigint): number {
  return (
    (bits & PermissionFlagsBits.Administrator ? ADMIN : 0) |
    (bits & PermissionFlagsBits.ViewChannel ? VIEW : 0) |
    (bits & PermissionFlagsBits.ReadMessageHistory ? HISTORY : 0) |
    (bits & PermissionFlagsBits.ManageThreads ? MANAGE_THREADS : 0)
  );
}

interface Reader {
  /** undefined: any member named by no overwrite and no thread list. */
  userId: string | undefined;
  /** Thread id → whether this reader is in it (private threads only). */
  inThread: ReadonlyMap<string, boolean>;
}

/**
 * A set of roles is summarised by one integer: the OR of its roles' guild
 * permissions, and per channel the OR of their overwrites' allows and
 * denies. That is all Discord's formula reads, so the integers reachable by
 * OR-ing role summaries are exactly the situations any member can be in.
 */
class PermissionModel {
  readonly #roleSignatures: Array<{ roleId: string; signature: number }>;
  readonly #everyone: number;
  readonly #everyoneOverwrites: Array<{ allow: number; deny: number }>;
  readonly #memberOverwrites: Array<Map<string, { allow: number; deny: number }>>;
  readonly #slot: Map<string, number>;
  readonly #closures = new Map<string, number[] | undefined>();

  constructor(
    private readonly guild: GuildFacts,
    everyoneBits: bigint,
    channels: readonly ChannelFacts[],
  ) {
    this.#everyone = pack(everyoneBits);
    this.#slot = new Map(channels.map((c, i) => [c.id, i]));
    this.#everyoneOverwrites = channels.map((c) => {
      const o = c.permissionOverwrites.find((w) => w.type === 'role' && w.id === guild.guildId);
      return { allow: o ? pack(o.allow) : 0, deny: o ? pack(o.deny) : 0 };
    });
    this.#memberOverwrites = channels.map((c) => new Map(c.permissionOverwrites.filter((w) => w.type === 'member').map((w) => [w.id, { allow: pack(w.allow), deny: pack(w.deny) }])));
    this.#roleSignatures = [...guild.roles]
      .filter(([roleId]) => roleId !== guild.guildId)
      .map(([roleId, bits]) => {
        let signature = pack(bits);
        channels.forEach((c, i) => {
          const o = c.permissionOverwrites.find((w) => w.type === 'role' && w.id === roleId);
          if (o) signature |= (pack(o.allow) << (BITS * (1 + 2 * i))) | (pack(o.deny) << (BITS * (2 + 2 * i)));
        });
        return { roleId, signature };
      });
  }

  /** Every role-set summary `userId` (undefined: any member who is not a bot) could have, or undefined beyond the bound. */
  roleCombinations(userId: string | undefined): number[] | undefined {
    const own = [...(this.guild.botRoles ?? [])].filter(([, botId]) => botId === userId).map(([roleId]) => roleId);
    const key = own.join(',');
    if (this.#closures.has(key)) return this.#closures.get(key);
    const reachable = new Set<number>([0]);
    let bounded = true;
    for (const signature of new Set(this.#universe(userId).map((r) => r.signature))) {
      for (const existing of [...reachable]) {
        reachable.add(existing | signature);
        if (reachable.size > MAX_ROLE_COMBINATIONS) bounded = false;
      }
      if (!bounded) break;
    }
    const result = bounded ? [...reachable] : undefined;
    this.#closures.set(key, result);
    return result;
  }

  /** The roles a member may hold: every role but other bots' managed ones. */
  #universe(userId: string | undefined): Array<{ roleId: string; signature: number }> {
    const bots = this.guild.botRoles;
    if (bots === undefined) return this.#roleSignatures;
    return this.#roleSignatures.filter((r) => {
      const botId = bots.get(r.roleId);
      return botId === undefined || botId === userId;
    });
  }

  /** Fewest roles (no proper subset will do) that reach a summary for which `failing` holds. */
  smallestWitness(summary: number, failing: (summary: number) => boolean): { roleIds: string[]; summary: number } {
    const combine = (roles: ReadonlyArray<{ signature: number }>) => roles.reduce((acc, r) => acc | r.signature, 0);
    let chosen = this.#universe(undefined).filter((r) => r.signature !== 0 && (r.signature & ~summary) === 0);
    for (const role of [...chosen]) {
      const without = chosen.filter((r) => r !== role);
      if (failing(combine(without))) chosen = without;
    }
    return { roleIds: chosen.map((r) => r.roleId), summary: combine(chosen) };
  }

  /** What `reader` with role summary `roles` lacks in the source while seeing the destination; undefined if nothing. */
  gap(destination: PlaceFacts, source: PlaceFacts, roles: number, reader: Reader): MissingAccess | undefined {
    if (reader.userId === this.guild.ownerId) return undefined;
    if (!this.sees(destination, roles, reader)) return undefined;
    const where = this.bits(holder(source), roles, reader.userId);
    if (!(where & VIEW)) return 'view';
    if (!(where & HISTORY)) return 'history';
    if (source.kind === 'thread' && source.private && !reader.inThread.get(source.threadId) && !(where & MANAGE_THREADS)) return 'thread-membership';
    return undefined;
  }

  private sees(place: PlaceFacts, roles: number, reader: Reader): boolean {
    const where = this.bits(holder(place), roles, reader.userId);
    if (!(where & VIEW)) return false;
    if (place.kind === 'thread' && place.private) return reader.inThread.get(place.threadId) === true || (where & MANAGE_THREADS) !== 0;
    return true;
  }

  /** Discord's channel permissions for a member with these roles (and this user's own overwrite). */
  private bits(channel: ChannelFacts, roles: number, userId: string | undefined): number {
    const i = this.#slot.get(channel.id)!;
    const base = this.#everyone | (roles & 0xf);
    if (base & ADMIN) return ADMIN | VIEW | HISTORY | MANAGE_THREADS;
    const everyone = this.#everyoneOverwrites[i]!;
    let bits = (base & ~everyone.deny) | everyone.allow;
    const roleAllow = (roles >> (BITS * (1 + 2 * i))) & 0xf;
    const roleDeny = (roles >> (BITS * (2 + 2 * i))) & 0xf;
    bits = (bits & ~roleDeny) | roleAllow;
    const own = userId === undefined ? undefined : this.#memberOverwrites[i]!.get(userId);
    if (own) bits = (bits & ~own.deny) | own.allow;
    return bits;
  }
}

// ---- helpers -----------------------------------------------------------------------------------

/** The channel whose overwrites govern a place: itself, or a thread's parent. */
function holder(place: PlaceFacts): ChannelFacts {
  return place.kind === 'channel' ? place.channel : place.parent;
}

function distinctChannels(channels: readonly ChannelFacts[]): ChannelFacts[] {
  const seen = new Map<string, ChannelFacts>();
  for (const c of channels) if (!seen.has(c.id)) seen.set(c.id, c);
  return [...seen.values()];
}

function unknownRole(guild: GuildFacts, channels: readonly ChannelFacts[]): string | undefined {
  for (const c of channels) for (const o of c.permissionOverwrites) if (o.type === 'role' && !guild.roles.has(o.id)) return o.id;
  return undefined;
}

/** Members whose access differs from "any member with some roles": named by a member overwrite or a thread list. */
function namedPeople(guild: GuildFacts, channels: readonly ChannelFacts[], threads: ReadonlyArray<{ membership: ThreadMembership }>): string[] {
  const ids = new Set<string>();
  for (const c of channels) for (const o of c.permissionOverwrites) if (o.type === 'member') ids.add(o.id);
  for (const t of threads) for (const id of [...t.membership.members, ...t.membership.nonMembers]) ids.add(id);
  for (const botId of guild.botRoles?.values() ?? []) ids.add(botId);
  ids.delete(guild.ownerId);
  return [...ids];
}

function known(membership: ThreadMembership, userId: string | undefined): boolean | undefined {
  if (userId === undefined) return undefined;
  if (membership.members.has(userId)) return true;
  if (membership.nonMembers.has(userId)) return false;
  return undefined;
}

/** Every way the reader could be in or out of each thread, given what is known. */
function assignments(threadIds: readonly string[], knownIn: (threadId: string) => boolean | undefined): Array<ReadonlyMap<string, boolean>> {
  let all: Array<Map<string, boolean>> = [new Map()];
  for (const id of threadIds) {
    const k = knownIn(id);
    const values = k === undefined ? [true, false] : [k];
    all = all.flatMap((m) => values.map((v) => new Map(m).set(id, v)));
  }
  return all;
}

function hidden(why: HiddenReason): Visibility {
  return { visible: false, why };
}
