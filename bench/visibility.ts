/**
 * `npm run bench -- visibility [--runs 2000]`: the cost of one visibility
 * decision ("can everyone who can view the destination read the source?"),
 * which runs before every public summary, on a typical guild and on one an
 * admin built to be as expensive as possible.
 *
 *   visibility-typical-p50     a guild of 50 roles, 6 role and 3 member overwrites per channel
 *   visibility-typical-p99
 *   visibility-hostile-max     250 roles, each with its own overwrites on both channels, 100 member overwrites
 *   visibility-hostile-decided 1 when the hostile case was decided, 0 when refused as too complex (private either way)
 *   visibility-exhaustive-max  a visible case that must try every combination: 4,096 role sets × 101 readers
 *   visibility-exhaustive-visible 1 when it was (correctly) found visible
 */
import { PermissionFlagsBits as P } from 'discord.js';
import { audienceContained, type ChannelFacts, type GuildFacts, type OverwriteFacts, type VisibilityQuestion } from '../src/discord/visibility/audience.ts';
import { quantile, report } from './_report.ts';

const GUILD = '1000';
const BITS = [P.ViewChannel, P.ReadMessageHistory, P.ManageThreads, P.SendMessages, P.Administrator];

function typical(): VisibilityQuestion {
  const roles = new Map<string, bigint>([[GUILD, P.ViewChannel | P.ReadMessageHistory | P.SendMessages]]);
  for (let i = 0; i < 50; i++) roles.set(String(2_000 + i), i === 0 ? P.Administrator : i < 5 ? P.ManageThreads | P.KickMembers : P.SendMessages);
  const overwrites = (offset: number): OverwriteFacts[] => [
    { id: GUILD, type: 'role', allow: 0n, deny: P.ViewChannel },
    ...Array.from({ length: 6 }, (_, i) => ({ id: String(2_000 + offset + i), type: 'role' as const, allow: P.ViewChannel, deny: 0n })),
    ...Array.from({ length: 3 }, (_, i) => ({ id: String(9_000 + offset + i), type: 'member' as const, allow: P.ViewChannel, deny: 0n })),
  ];
  const guild: GuildFacts = { guildId: GUILD, ownerId: '1', roles };
  return { guild, destination: { kind: 'channel', channel: { id: '10', permissionOverwrites: overwrites(0) } }, source: { kind: 'channel', channel: { id: '11', permissionOverwrites: overwrites(2) } } };
}

function hostile(): VisibilityQuestion {
  const roles = new Map<string, bigint>([[GUILD, P.SendMessages]]);
  const destination: ChannelFacts = { id: '10', permissionOverwrites: [] };
  const source: ChannelFacts = { id: '11', permissionOverwrites: [] };
  const d = destination.permissionOverwrites as OverwriteFacts[];
  const s = source.permissionOverwrites as OverwriteFacts[];
  for (let i = 0; i < 250; i++) {
    const id = String(2_000 + i);
    roles.set(id, BITS[i % 4]!);
    d.push({ id, type: 'role', allow: BITS[(i >> 1) % 3]!, deny: BITS[(i >> 3) % 3]! });
    s.push({ id, type: 'role', allow: BITS[(i >> 2) % 3]!, deny: BITS[(i >> 4) % 3]! });
  }
  for (let i = 0; i < 100; i++) {
    d.push({ id: String(9_000 + i), type: 'member', allow: BITS[i % 3]!, deny: 0n });
    s.push({ id: String(9_000 + i), type: 'member', allow: 0n, deny: BITS[(i + 1) % 3]! });
  }
  return { guild: { guildId: GUILD, ownerId: '1', roles }, destination: { kind: 'channel', channel: destination }, source: { kind: 'channel', channel: source } };
}

/** Every check must run: 12 roles each moving a different permission bit (4,096 combinations, the bound), 100 member overwrites, and the answer is "visible". */
function exhaustive(): VisibilityQuestion {
  const roles = new Map<string, bigint>([[GUILD, P.ViewChannel | P.ReadMessageHistory]]);
  const d: OverwriteFacts[] = [{ id: GUILD, type: 'role', allow: 0n, deny: P.ViewChannel }];
  const s: OverwriteFacts[] = [];
  const role = (i: number, base: bigint) => {
    const id = String(2_000 + i);
    roles.set(id, base);
    return id;
  };
  d.push({ id: role(0, 0n), type: 'role', allow: P.ViewChannel, deny: 0n });
  d.push({ id: role(1, 0n), type: 'role', allow: P.ReadMessageHistory, deny: 0n });
  d.push({ id: role(2, 0n), type: 'role', allow: P.ManageThreads, deny: 0n });
  d.push({ id: role(3, 0n), type: 'role', allow: 0n, deny: P.ReadMessageHistory });
  d.push({ id: role(4, 0n), type: 'role', allow: 0n, deny: P.ManageThreads });
  d.push({ id: role(5, 0n), type: 'role', allow: 0n, deny: P.ViewChannel });
  s.push({ id: role(6, 0n), type: 'role', allow: P.ManageThreads, deny: 0n });
  s.push({ id: role(7, 0n), type: 'role', allow: 0n, deny: P.ManageThreads });
  s.push({ id: role(8, 0n), type: 'role', allow: P.ReadMessageHistory, deny: 0n });
  s.push({ id: role(9, 0n), type: 'role', allow: P.ViewChannel, deny: 0n });
  role(10, P.ManageThreads);
  role(11, P.ManageThreads | P.ReadMessageHistory | P.ViewChannel | P.SendMessages);
  for (let i = 0; i < 240; i++) roles.set(String(3_000 + i), P.SendMessages);
  for (let i = 0; i < 100; i++) d.push({ id: String(9_000 + i), type: 'member', allow: P.ViewChannel, deny: 0n });
  return { guild: { guildId: GUILD, ownerId: '1', roles }, destination: { kind: 'channel', channel: { id: '10', permissionOverwrites: d } }, source: { kind: 'channel', channel: { id: '11', permissionOverwrites: s } } };
}

function timeIt(question: VisibilityQuestion, runs: number): { samples: number[]; last: ReturnType<typeof audienceContained> } {
  const samples: number[] = [];
  let last = audienceContained(question);
  // Warm up, so the figures are of the compiled code.
  for (let i = 0; i < Math.min(runs, 200); i++) last = audienceContained(question);
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    last = audienceContained(question);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return { samples, last };
}

export async function run(args: string[]): Promise<void> {
  const at = args.indexOf('--runs');
  const runs = at >= 0 ? Number(args[at + 1]) : 2_000;
  const usual = timeIt(typical(), runs);
  report('visibility-typical-p50', quantile(usual.samples, 0.5) * 1_000, 'µs');
  report('visibility-typical-p99', quantile(usual.samples, 0.99) * 1_000, 'µs');
  const worst = timeIt(hostile(), Math.max(1, Math.floor(runs / 100)));
  report('visibility-hostile-max', Math.max(...worst.samples), 'ms');
  report('visibility-hostile-decided', worst.last.visible || worst.last.why.kind !== 'too-complex' ? 1 : 0, '');
  const full = timeIt(exhaustive(), Math.max(1, Math.floor(runs / 100)));
  report('visibility-exhaustive-max', Math.max(...full.samples), 'ms');
  report('visibility-exhaustive-visible', full.last.visible ? 1 : 0, '');
}
