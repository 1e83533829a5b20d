/**
 * The visibility rule as a pure function: "can everyone who can view the
 * destination read the source?", over roles, overwrites, threads and
 * private-thread membership. Cross-checked against a brute force over every
 * set of roles, with the Discord emulator's own permission arithmetic.
 */
import { PermissionFlagsBits as P } from 'discord.js';
import { describe, expect, it } from 'vitest';
import {
  audienceContained,
  type ChannelFacts,
  type GuildFacts,
  type HiddenReason,
  type Visibility,
  type OverwriteFacts,
  type PlaceFacts,
  type ThreadMembership,
} from '../../src/discord/visibility/audience.ts';
import { privateBecause } from '../../src/discord/visibility/shown-to.ts';
import { channelPermissions } from '../emulators/discord/permissions.ts';

const GUILD = '100';
const OWNER = '900';
const READ = P.ViewChannel | P.ReadMessageHistory;
const MEMBER_DEFAULT = P.ViewChannel | P.ReadMessageHistory | P.SendMessages;

function guild(roles: Record<string, bigint> = {}, everyone = MEMBER_DEFAULT): GuildFacts {
  return { guildId: GUILD, ownerId: OWNER, roles: new Map([[GUILD, everyone], ...Object.entries(roles)]) };
}
const role = (id: string, allow: bigint = 0n, deny: bigint = 0n): OverwriteFacts => ({ id, type: 'role', allow, deny });
const member = (id: string, allow: bigint = 0n, deny: bigint = 0n): OverwriteFacts => ({ id, type: 'member', allow, deny });
const everyone = (allow: bigint = 0n, deny: bigint = 0n): OverwriteFacts => role(GUILD, allow, deny);
const channel = (id: string, ...permissionOverwrites: OverwriteFacts[]): ChannelFacts => ({ id, permissionOverwrites });
const inChannel = (c: ChannelFacts): PlaceFacts => ({ kind: 'channel', channel: c });
const publicThread = (threadId: string, parent: ChannelFacts): PlaceFacts => ({ kind: 'thread', threadId, parent, private: false });
const privateThread = (threadId: string, parent: ChannelFacts, members: string[] = [], nonMembers: string[] = []): PlaceFacts => ({
  kind: 'thread',
  threadId,
  parent,
  private: true,
  membership: { members: new Set(members), nonMembers: new Set(nonMembers) },
});

function whyOf(verdict: Visibility): HiddenReason {
  if (verdict.visible) throw new Error('expected a hidden verdict');
  return verdict.why;
}

// A guild like most: #general open to all; #staff only for the Staff role.
const STAFF = '201';
const MODS = '202';
const general = channel('1');
const staff = channel('2', everyone(0n, P.ViewChannel), role(STAFF, P.ViewChannel));
const acme = guild({ [STAFF]: 0n, [MODS]: P.KickMembers });

describe('audienceContained', () => {
  it('restricted → public channel: not visible, the witness being a member with no special role', () => {
    const verdict = audienceContained({ guild: acme, destination: inChannel(general), source: inChannel(staff) });
    expect(verdict).toEqual({ visible: false, why: { kind: 'roles', roleIds: [], missing: 'view' } });
    expect(privateBecause(whyOf(verdict), '1', '2')).toBe("Only you can see this summary: some members can see <#1> but can't see <#2>.");
  });

  it('restricted → the same channel, and public → restricted: visible', () => {
    expect(audienceContained({ guild: acme, destination: inChannel(staff), source: inChannel(staff) })).toEqual({ visible: true });
    expect(audienceContained({ guild: acme, destination: inChannel(staff), source: inChannel(general) })).toEqual({ visible: true });
  });

  it('names the role that widens the destination: a second role let into it but not into the source', () => {
    const staffAndMods = channel('3', everyone(0n, P.ViewChannel), role(STAFF, P.ViewChannel), role(MODS, P.ViewChannel));
    const verdict = audienceContained({ guild: acme, destination: inChannel(staffAndMods), source: inChannel(staff) });
    expect(verdict).toEqual({ visible: false, why: { kind: 'roles', roleIds: [MODS], missing: 'view' } });
    expect(privateBecause(whyOf(verdict), '3', '2')).toBe(`Only you can see this summary: members with <@&${MODS}> can see <#3> but can't see <#2>.`);
    // The other way round every reader of #staff (Staff holders) can read the wider channel.
    expect(audienceContained({ guild: acme, destination: inChannel(staff), source: inChannel(staffAndMods) })).toEqual({ visible: true });
  });

  it('a member overwrite letting one user into the destination but not the source', () => {
    const staffPlusCarol = channel('4', everyone(0n, P.ViewChannel), role(STAFF, P.ViewChannel), member('777', P.ViewChannel));
    const verdict = audienceContained({ guild: acme, destination: inChannel(staffPlusCarol), source: inChannel(staff) });
    expect(verdict).toEqual({ visible: false, why: { kind: 'member', userId: '777', missing: 'view' } });
    expect(privateBecause(whyOf(verdict), '4', '2')).toBe("Only you can see this summary: <@777> can see <#4> but can't see <#2>.");
    // Carol let into both: fine. The owner is never a counterexample.
    const staffWithCarol = channel('2', ...staff.permissionOverwrites, member('777', P.ViewChannel));
    expect(audienceContained({ guild: acme, destination: inChannel(staffPlusCarol), source: inChannel(staffWithCarol) })).toEqual({ visible: true });
    const staffPlusOwner = channel('5', ...staff.permissionOverwrites, member(OWNER, P.ViewChannel));
    expect(audienceContained({ guild: acme, destination: inChannel(staffPlusOwner), source: inChannel(staff) })).toEqual({ visible: true });
  });

  it('Administrator bypasses overwrites: an admins-only channel may show anything', () => {
    const ADMINS = '203';
    const admins = guild({ [ADMINS]: P.Administrator, [STAFF]: 0n });
    const adminOnly = channel('6', everyone(0n, P.ViewChannel));
    const lockedForAdmins = channel('7', everyone(0n, P.ViewChannel), role(ADMINS, 0n, P.ViewChannel));
    expect(audienceContained({ guild: admins, destination: inChannel(adminOnly), source: inChannel(lockedForAdmins) })).toEqual({ visible: true });
    // @everyone with Administrator: everyone sees everything.
    expect(audienceContained({ guild: guild({ [STAFF]: 0n }, P.Administrator), destination: inChannel(general), source: inChannel(staff) })).toEqual({ visible: true });
  });

  it('a role denied in the source; a role allow beats another role deny, as on Discord', () => {
    const MUTED = '204';
    const g = guild({ [MUTED]: 0n, [STAFF]: 0n });
    const noMuted = channel('8', role(MUTED, 0n, P.ViewChannel));
    expect(audienceContained({ guild: g, destination: inChannel(general), source: inChannel(noMuted) })).toEqual({
      visible: false,
      why: { kind: 'roles', roleIds: [MUTED], missing: 'view' },
    });
    // Staff allowed in the source too: a muted staff member still gets in, a muted non-staff does not.
    const noMutedButStaff = channel('8', role(MUTED, 0n, P.ViewChannel), role(STAFF, P.ViewChannel));
    expect(audienceContained({ guild: g, destination: inChannel(general), source: inChannel(noMutedButStaff) })).toMatchObject({ why: { roleIds: [MUTED] } });
    const mutedBarredFromBoth = channel('9', role(MUTED, 0n, P.ViewChannel));
    expect(audienceContained({ guild: g, destination: inChannel(mutedBarredFromBoth), source: inChannel(noMutedButStaff) })).toEqual({ visible: true });
  });

  it('reading needs history: viewers without Read Message History in the source make it private', () => {
    const noHistory = channel('10', everyone(0n, P.ReadMessageHistory));
    const verdict = audienceContained({ guild: acme, destination: inChannel(general), source: inChannel(noHistory) });
    expect(verdict).toEqual({ visible: false, why: { kind: 'roles', roleIds: [], missing: 'history' } });
    expect(privateBecause(whyOf(verdict), '1', '10')).toBe("Only you can see this summary: some members can see <#1> but can't read the history of <#10>.");
  });

  it('threads take their parent permissions: a thread of the destination, and the destination being a thread', () => {
    expect(audienceContained({ guild: acme, destination: inChannel(general), source: publicThread('11', general) })).toEqual({ visible: true });
    expect(audienceContained({ guild: acme, destination: publicThread('12', staff), source: inChannel(staff) })).toEqual({ visible: true });
    expect(audienceContained({ guild: acme, destination: publicThread('12', general), source: publicThread('13', staff) })).toMatchObject({ visible: false });
    // A public thread of #staff shown in #staff: fine.
    expect(audienceContained({ guild: acme, destination: inChannel(staff), source: publicThread('13', staff) })).toEqual({ visible: true });
  });

  it('a forum post belongs to its forum: shown in the post or the forum is fine, in a wider channel it is not', () => {
    const forum = channel('20', everyone(0n, P.ViewChannel), role(STAFF, P.ViewChannel));
    const post = publicThread('21', forum);
    expect(audienceContained({ guild: acme, destination: post, source: post })).toEqual({ visible: true });
    expect(audienceContained({ guild: acme, destination: inChannel(general), source: post })).toMatchObject({ visible: false, why: { missing: 'view' } });
    expect(audienceContained({ guild: acme, destination: inChannel(staff), source: post })).toEqual({ visible: true });
  });

  it('a private thread is for its members and thread managers only', () => {
    const secretThread = privateThread('30', general, ['501'], ['502']);
    // Shown in itself: whoever sees it is in it.
    expect(audienceContained({ guild: acme, destination: secretThread, source: secretThread })).toEqual({ visible: true });
    // Shown in its parent: members outside the thread would see it.
    const verdict = audienceContained({ guild: acme, destination: inChannel(general), source: secretThread });
    expect(verdict).toMatchObject({ visible: false, why: { missing: 'thread-membership' } });
    expect(privateBecause(whyOf(verdict), '1', '30')).toMatch(/can see <#1> but (aren't|isn't) in the private thread <#30>\.$/);
    // The parent shown in the private thread: every thread member can read the parent.
    expect(audienceContained({ guild: acme, destination: secretThread, source: inChannel(general) })).toEqual({ visible: true });
    // #staff shown in a private thread of #general: its members need not be staff.
    expect(audienceContained({ guild: acme, destination: secretThread, source: inChannel(staff) })).toMatchObject({ visible: false });
  });

  it('a private thread shown where only its known members (and thread managers) can look', () => {
    const MANAGERS = '205';
    const g = guild({ [MANAGERS]: P.ManageThreads });
    // #huddle: only alice and bob, by member overwrites, plus thread managers.
    const huddle = channel('40', everyone(0n, P.ViewChannel), member('601', P.ViewChannel), member('602', P.ViewChannel), role(MANAGERS, P.ViewChannel));
    const both = privateThread('41', general, ['601', '602']);
    expect(audienceContained({ guild: g, destination: inChannel(huddle), source: both })).toEqual({ visible: true });
    // Bob known to be out of the thread: he is the counterexample.
    const aliceOnly = privateThread('42', general, ['601'], ['602']);
    expect(audienceContained({ guild: g, destination: inChannel(huddle), source: aliceOnly })).toEqual({
      visible: false,
      why: { kind: 'member', userId: '602', missing: 'thread-membership' },
    });
    // Bob's membership unknown: not provable either.
    const unknownBob = privateThread('43', general, ['601']);
    expect(audienceContained({ guild: g, destination: inChannel(huddle), source: unknownBob })).toMatchObject({ visible: false, why: { userId: '602' } });
  });

  it("a bot's managed role is that bot's alone, not a role any member might be given", () => {
    const BOT_ROLE = '206';
    const BOT = '555';
    const g: GuildFacts = { ...guild({ [BOT_ROLE]: P.ViewChannel }), botRoles: new Map([[BOT_ROLE, BOT]]) };
    const huddle = channel('70', everyone(0n, P.ViewChannel), role(BOT_ROLE, P.ViewChannel), member('601', P.ViewChannel));
    // The bot is in the thread: visible. Without the managed-role rule "anyone given the bot's role" would not be.
    expect(audienceContained({ guild: g, destination: inChannel(huddle), source: privateThread('71', general, ['601', BOT]) })).toEqual({ visible: true });
    // The bot's membership unknown: it is the counterexample.
    expect(audienceContained({ guild: g, destination: inChannel(huddle), source: privateThread('71', general, ['601']) })).toEqual({
      visible: false,
      why: { kind: 'member', userId: BOT, missing: 'thread-membership' },
    });
    // The same role, not managed: a member given it is the counterexample.
    expect(audienceContained({ guild: guild({ [BOT_ROLE]: P.ViewChannel }), destination: inChannel(huddle), source: privateThread('71', general, ['601', BOT]) })).toEqual({
      visible: false,
      why: { kind: 'roles', roleIds: [BOT_ROLE], missing: 'thread-membership' },
    });
  });

  it('unknown facts count against visibility', () => {
    const ghost = channel('50', role('299', P.ViewChannel));
    expect(audienceContained({ guild: acme, destination: inChannel(ghost), source: inChannel(general) })).toEqual({ visible: false, why: { kind: 'unknown-role', roleId: '299' } });
    expect(audienceContained({ guild: { ...acme, roles: new Map() }, destination: inChannel(general), source: inChannel(general) })).toMatchObject({ why: { kind: 'unknown-role' } });
  });

  it('says why in one line for every reason, naming places by mention only', () => {
    expect(privateBecause({ kind: 'roles', roleIds: ['1', '2'], missing: 'history' }, '10', '20')).toBe(
      "Only you can see this summary: members with <@&1> + <@&2> can see <#10> but can't read the history of <#20>.",
    );
    expect(privateBecause({ kind: 'member', userId: '7', missing: 'thread-membership' }, '10', '20')).toBe(
      "Only you can see this summary: <@7> can see <#10> but isn't in the private thread <#20>.",
    );
    expect(privateBecause({ kind: 'unknown-role', roleId: '3' }, '10', '20')).toBe(
      "Only you can see this summary: a permission on <#10> or <#20> names a role I don't know, so I can't confirm who would see it.",
    );
    expect(privateBecause({ kind: 'too-complex' }, '10', '20')).toBe(
      'Only you can see this summary: the permissions of <#10> and <#20> are too intricate for me to confirm that everyone here can read <#20>.',
    );
    expect(privateBecause({ kind: 'unknown-channel' }, '10', '20')).toBe("Only you can see this summary: I couldn't check who can see <#10>.");
  });

  it('stays bounded when an admin builds a maze of roles and overwrites', () => {
    const roles: Record<string, bigint> = {};
    const overwrites: OverwriteFacts[] = [];
    const bits = [P.ViewChannel, P.ReadMessageHistory, P.ManageThreads, P.Administrator];
    for (let i = 0; i < 250; i++) {
      roles[String(1_000 + i)] = bits[i % 3]!;
      overwrites.push(role(String(1_000 + i), bits[(i >> 2) % 3]!, bits[(i >> 4) % 3]!));
    }
    const maze = channel('60', ...overwrites);
    const maze2 = channel('61', ...overwrites.map((o, i) => ({ ...o, allow: o.deny, deny: bits[i % 2]! })));
    const verdict = audienceContained({ guild: guild(roles), destination: inChannel(maze), source: inChannel(maze2) });
    expect(verdict.visible).toBe(false);
    // Either decided or refused as too complex; never an unbounded search.
    expect(['roles', 'member', 'too-complex']).toContain((verdict as { why: { kind: string } }).why.kind);
  });
});

// ---- brute force ---------------------------------------------------------------------------------

/** A tiny deterministic PRNG so failures reproduce. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [P.ViewChannel, P.ReadMessageHistory, P.ManageThreads, P.Administrator, P.SendMessages];

function randomBits(next: () => number, density: number): bigint {
  let bits = 0n;
  for (const bit of INTERESTING) if (next() < density && (bit !== P.Administrator || next() < 0.3)) bits |= bit;
  return bits;
}

interface World {
  guild: GuildFacts;
  roleIds: string[];
  users: string[];
  destination: PlaceFacts;
  source: PlaceFacts;
  /** Ground truth of thread membership, for the brute force. */
  threadMembers: Map<string, Set<string>>;
}

function randomWorld(seed: number): World {
  const next = random(seed);
  const roleIds = ['301', '302', '303', '304'];
  const users = ['701', '702', '703'];
  const roles: Record<string, bigint> = {};
  for (const id of roleIds) roles[id] = randomBits(next, 0.25);
  const g: GuildFacts = { ...guild(roles, randomBits(next, 0.6) & ~P.Administrator), ...(next() < 0.5 ? { botRoles: new Map([['304', '703']]) } : {}) };
  const randomChannel = (id: string): ChannelFacts => {
    const overwrites: OverwriteFacts[] = [];
    if (next() < 0.6) overwrites.push(everyone(randomBits(next, 0.2) & ~P.Administrator, randomBits(next, 0.3) & ~P.Administrator));
    for (const r of roleIds) if (next() < 0.4) overwrites.push(role(r, randomBits(next, 0.3) & ~P.Administrator, randomBits(next, 0.3) & ~P.Administrator));
    for (const u of users) if (next() < 0.2) overwrites.push(member(u, randomBits(next, 0.3) & ~P.Administrator, randomBits(next, 0.3) & ~P.Administrator));
    return channel(id, ...overwrites);
  };
  const channels = [randomChannel('81'), randomChannel('82')];
  const threadMembers = new Map<string, Set<string>>();
  const told = new Map<string, ThreadMembership>();
  const place = (): PlaceFacts => {
    const parent = channels[Math.floor(next() * 2)]!;
    const kind = next();
    if (kind < 0.4) return inChannel(parent);
    if (kind < 0.7) return publicThread(`9${parent.id}`, parent);
    const threadId = `8${parent.id}`;
    if (!told.has(threadId)) {
      const truth = new Set(users.filter(() => next() < 0.5));
      threadMembers.set(threadId, truth);
      // The rule is told about some users only; the others stay unknown.
      const asked = users.filter(() => next() < 0.7);
      told.set(threadId, { members: new Set(asked.filter((u) => truth.has(u))), nonMembers: new Set(asked.filter((u) => !truth.has(u))) });
    }
    return { kind: 'thread', threadId, parent, private: true, membership: told.get(threadId)! };
  };
  return { guild: g, roleIds, users, destination: place(), source: place(), threadMembers };
}

/** Directly from the emulator's arithmetic: does some member (any roles, any unknown membership) see D but not read S? */
function bruteForceVisible(world: World): boolean {
  const people = [undefined, ...world.users];
  const overwritesOf = (p: PlaceFacts) => (p.kind === 'channel' ? p.channel : p.parent).permissionOverwrites.map((o) => ({ ...o }));
  for (const userId of people) {
    for (let mask = 0; mask < 1 << world.roleIds.length; mask++) {
      const roleIds = world.roleIds.filter((_, i) => mask & (1 << i));
      // A bot's managed role is held by that bot only.
      if (roleIds.some((id) => world.guild.botRoles?.has(id) && world.guild.botRoles.get(id) !== userId)) continue;
      const subject = { guildId: GUILD, ownerId: OWNER, userId: userId ?? 'someone-else', roleIds, rolePermissions: (id: string) => world.guild.roles.get(id) };
      // Membership: what the rule was told is true; anything untold may be either way.
      const options = (p: PlaceFacts): boolean[] => {
        if (p.kind !== 'thread' || !p.private) return [true];
        if (userId !== undefined && p.membership.members.has(userId)) return [true];
        if (userId !== undefined && p.membership.nonMembers.has(userId)) return [false];
        return [true, false];
      };
      const threadIds = [world.destination, world.source].filter((p) => p.kind === 'thread' && p.private).map((p) => (p as { threadId: string }).threadId);
      const combos: Array<Map<string, boolean>> = [new Map()];
      for (const id of new Set(threadIds)) {
        const place = [world.destination, world.source].find((p) => p.kind === 'thread' && p.threadId === id)!;
        const next = combos.splice(0).flatMap((m) => options(place).map((v) => new Map(m).set(id, v)));
        combos.push(...next);
      }
      for (const inThread of combos) {
        const can = (p: PlaceFacts, needed: bigint): boolean => {
          const bits = channelPermissions(subject, overwritesOf(p));
          if ((bits & needed) !== needed) return false;
          if (p.kind === 'thread' && p.private) return inThread.get(p.threadId) === true || (bits & P.ManageThreads) !== 0n;
          return true;
        };
        if (can(world.destination, P.ViewChannel) && !can(world.source, READ)) return false;
      }
    }
  }
  return true;
}

describe('audienceContained against a brute force over every set of roles', () => {
  it('agrees on 3,000 random guilds', () => {
    let hiddenCount = 0;
    for (let seed = 1; seed <= 3_000; seed++) {
      const world = randomWorld(seed);
      const expected = bruteForceVisible(world);
      const verdict = audienceContained({ guild: world.guild, destination: world.destination, source: world.source });
      if (verdict.visible !== expected) throw new Error(`seed ${seed}: rule says ${JSON.stringify(verdict)}, brute force says ${expected}\n${JSON.stringify(world, (_k, v) => (typeof v === 'bigint' ? v.toString(2) : v instanceof Set ? [...v] : v instanceof Map ? [...v] : v), 1)}`);
      if (!verdict.visible) hiddenCount++;
    }
    // Both answers occur often enough for the comparison to mean something.
    expect(hiddenCount).toBeGreaterThan(300);
    expect(hiddenCount).toBeLessThan(2_700);
  });
});
