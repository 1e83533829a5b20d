/**
 * Writes examples/sample-export.json: one day of #dev-chat in the made-up
 * "Driftwood" server (a small open-source feed reader), in the exact JSON
 * layout DiscordChatExporter writes (see its JsonMessageWriter). All people,
 * ids and text are invented for this project.
 *
 * The export is written as `--markdown false` would write it, so content
 * keeps Discord's raw markup (`<@id>`, `<@&id>`, `<#id>`, `<:name:id>`) for
 * the importer and preparation to resolve.
 *
 * Deterministic: run it again and the file is byte-for-byte the same.
 *   npx tsx examples/make-sample-export.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DISCORD_EPOCH = 1_420_070_400_000n;
const DAY = '2024-05-14';
const GUILD = { id: '1097362114512003072', name: 'Driftwood' };
const CHANNEL = { id: '1097364402886516767', name: 'dev-chat', categoryId: '1097364265627910204', category: 'Engineering' };
const REPO = 'https://github.com/driftwood-rss/driftwood';

/** A snowflake for a moment: what Discord would have issued then. */
function snowflake(ms: number, sequence: number): string {
  return (((BigInt(ms) - DISCORD_EPOCH) << 22n) | (1n << 17n) | BigInt(sequence & 0xfff)).toString();
}

/** A stable fake hex hash, so avatars and signed URLs look real without being random. */
function fakeHash(seed: string, length = 32): string {
  let h = 2166136261;
  let out = '';
  while (out.length < length) {
    for (const ch of seed + out.length) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out.slice(0, length);
}

interface Role {
  id: string;
  name: string;
  color: string | null;
  position: number;
}

const ROLES = {
  maintainers: { id: '1097366030112378900', name: 'Maintainers', color: '#E67E22', position: 3 },
  contributors: { id: '1097366150585372732', name: 'Contributors', color: '#1ABC9C', position: 2 },
  bots: { id: '1097366298401013800', name: 'Bots', color: '#95A5A6', position: 1 },
} satisfies Record<string, Role>;

interface Person {
  id: string;
  name: string;
  discriminator: string;
  nickname: string;
  color: string | null;
  isBot: boolean;
  roles: Role[];
  avatarUrl: string;
}

function person(id: string, name: string, nickname: string, roles: Role[], isBot = false): Person {
  return {
    id,
    name,
    discriminator: '0000',
    nickname,
    color: roles[0]?.color ?? null,
    isBot,
    roles,
    avatarUrl: `https://cdn.discordapp.com/avatars/${id}/${fakeHash(id)}.png?size=512`,
  };
}

const PEOPLE = {
  maya: person('612348790112345607', 'maya.chen', 'Maya', [ROLES.maintainers]),
  jonas: person('689012345678901234', 'jberg', 'Jonas', [ROLES.maintainers]),
  priya: person('734561234567890129', 'priyar', 'Priya', [ROLES.contributors]),
  // No server nickname: DiscordChatExporter then writes the username as `nickname`.
  theo: person('701234567890123456', 'theo_m', 'theo_m', [ROLES.maintainers]),
  sam: person('845612378901234567', 'samokafor', 'Sam', [ROLES.contributors]),
  ren: person('780123456789012345', 'ren.ito', 'Ren', [ROLES.contributors]),
  lena: person('1239876543210987654', 'lenafischer', 'Lena', []),
  ci: person('1097367712345678901', 'Driftwood CI', 'Driftwood CI', [ROLES.bots], true),
  // Discord replaces a deleted account with this placeholder user.
  gone: {
    id: '456226577798135808',
    name: 'Deleted User',
    discriminator: '0000',
    nickname: 'Deleted User',
    color: null,
    isBot: false,
    roles: [],
    avatarUrl: 'https://cdn.discordapp.com/embed/avatars/0.png',
  },
} satisfies Record<string, Person>;

type Who = keyof typeof PEOPLE;

interface CustomEmoji {
  id: string;
  name: string;
}
const SHIPIT: CustomEmoji = { id: '1101234567890123456', name: 'shipit' };

// Standard emoji used below: character → DiscordChatExporter's code name.
const EMOJI_CODES: Record<string, string> = {
  '👍': 'thumbsup',
  '😍': 'heart_eyes',
  '✅': 'white_check_mark',
  '🎉': 'tada',
  '🙏': 'pray',
  '❤️': 'heart',
  '👋': 'wave',
  '☕': 'coffee',
  '🤦': 'person_facepalming',
  '😅': 'sweat_smile',
  '🙂': 'slight_smile',
  '🌙': 'crescent_moon',
};

interface EmbedSpec {
  title: string;
  url: string;
  description?: string;
  color?: string;
  fields?: Array<[string, string]>;
}

interface Line {
  at: string;
  by: Who;
  text?: string;
  /** Name this line so others can reply to or pin it. */
  key?: string;
  reply?: string;
  attach?: Array<[fileName: string, bytes: number]>;
  sticker?: string;
  reactions?: Array<[emoji: string | CustomEmoji, count: number]>;
  edited?: string;
  embed?: EmbedSpec;
  join?: true;
  pins?: string;
}

function ci(run: number, passed: boolean, branch: string, commit: string, detail?: string): EmbedSpec {
  return {
    title: `Build #${run} ${passed ? 'passed' : 'failed'} — ${branch}`,
    url: `${REPO}/actions/runs/${9100000000 + run}`,
    ...(detail ? { description: detail } : {}),
    color: passed ? '#2ECC71' : '#E74C3C',
    fields: [
      ['Branch', branch],
      ['Commit', commit],
    ],
  };
}

function pr(number: number, title: string, author: string): EmbedSpec {
  return {
    title: `${title} by ${author} · Pull Request #${number} · driftwood-rss/driftwood`,
    url: `${REPO}/pull/${number}`,
    description: title,
    color: '#1E2327',
  };
}

// Text markup: {@who} mentions a person, {@&role} a role, {#dev-chat} this channel, {:shipit:} the custom emoji.
const SCRIPT: Line[] = [
  { at: '08:02:11', by: 'maya', key: 'kickoff', text: "morning all ☕ quick heads-up: I'd like to talk about cutting 0.9.0 this week. Main blockers as far as I know are #412 (OPML import crash) and #415 (duplicate entries after refresh)." },
  { at: '08:04:40', by: 'jonas', text: "morning! #415 is mine, I have a branch but it's not pretty yet" },
  { at: '08:06:02', by: 'gone', key: 'gone', text: 'fwiw #415 also happens on the SQLite backend, not just Postgres' },
  { at: '08:09:25', by: 'jonas', reply: 'gone', text: 'good to know, thanks. that narrows it down to the dedupe step, not the storage layer' },
  { at: '08:11:48', by: 'priya', text: "morning 👋 I can look at #418 (dark mode contrast) since that's mostly CSS" },
  { at: '08:12:30', by: 'maya', text: "{@priya} that'd be great, it's been annoying people on the forum" },
  { at: '08:20:03', by: 'ci', embed: ci(1287, false, 'main', '3f9c2a1', '3 tests failed in packages/sync: dedupe.test.ts') },
  { at: '08:22:15', by: 'jonas', text: "that's me, sorry. pushed a half-finished commit to main instead of my branch 🤦" },
  { at: '08:22:41', by: 'jonas', text: 'reverting' },
  { at: '08:31:09', by: 'ci', embed: ci(1288, true, 'main', '8d01e77') },
  { at: '08:33:20', by: 'maya', text: '👍' },
  { at: '08:40:00', by: 'lena', join: true },
  { at: '08:41:12', by: 'sam', text: 'welcome {@lena}! 👋' },
  { at: '08:41:20', by: 'sam', sticker: 'wave' },
  { at: '08:45:33', by: 'lena', key: 'lena-hi', text: "hi everyone! found the project through the awesome-selfhosted list. I'd love to help. I saw #412 is labelled good-first-issue?" },
  { at: '08:47:02', by: 'maya', reply: 'lena-hi', text: "hi Lena, welcome! yes, #412 is a good one. the OPML parser chokes on files that aren't UTF-8. here's the repro file from the issue:" },
  { at: '08:47:30', by: 'maya', attach: [['broken-feeds.opml', 18_344]] },
  { at: '08:52:44', by: 'lena', text: 'thanks! looking now' },
  { at: '09:05:10', by: 'theo', key: 'node18', text: 'morning. re 0.9.0: are we still planning to drop Node 18 support in this release? the Docker image is already on 20' },
  { at: '09:07:31', by: 'ren', text: '+1 for dropping 18, it keeps the Helm chart simpler too' },
  { at: '09:09:02', by: 'jonas', text: 'no objections from me, the sync worker uses AbortSignal.any which needs 20+ anyway' },
  { at: '09:12:17', by: 'maya', key: 'decision-node', text: 'ok, decision: 0.9.0 requires Node 20+. {@sam} can you add that to the upgrade notes?', reactions: [['👍', 4]] },
  { at: '09:13:05', by: 'sam', reply: 'decision-node', text: 'yep, on it' },
  { at: '09:30:40', by: 'priya', key: 'contrast', text: 'before/after for #418, body text contrast is now 7.1:1', attach: [['dark-mode-before-after.png', 412_877]], reactions: [['😍', 3], ['👍', 2]] },
  { at: '09:31:22', by: 'theo', text: 'looks so much better' },
  { at: '09:40:05', by: 'priya', text: `PR is up: ${REPO}/pull/421`, embed: pr(421, 'Fix dark mode contrast (#418)', 'priyar') },
  { at: '10:00:00', by: 'maya', key: 'triage', text: "{@&maintainers} triage time, let's go through the new issues. there are 9 open since last week" },
  { at: '10:00:48', by: 'jonas', text: 'here' },
  { at: '10:01:10', by: 'theo', text: 'here' },
  { at: '10:02:03', by: 'maya', text: '#419: "Feeds with relative URLs in <link> show broken links". repro looks solid' },
  { at: '10:04:12', by: 'theo', text: "that's the sanitizer dropping the base URL. I can take it, should be small" },
  { at: '10:04:40', by: 'maya', text: 'assigned to {@theo}. milestone 0.9.0?' },
  { at: '10:05:02', by: 'theo', text: "0.9.1 is fine, it's not a regression" },
  { at: '10:05:30', by: 'maya', text: 'ok, 0.9.1' },
  { at: '10:07:11', by: 'maya', text: '#420: "Memory grows to 2 GB with 5000 feeds"' },
  { at: '10:09:36', by: 'jonas', text: 'ugh. I think that\'s the favicon cache, it never evicts. we talked about an LRU months ago' },
  { at: '10:10:20', by: 'jonas', text: "I'll take it but not for 0.9.0, it needs a proper fix and a benchmark" },
  { at: '10:11:45', by: 'ren', text: 'can we at least document a workaround? restarting the container daily is what I do on my instance 😅' },
  { at: '10:12:08', by: 'maya', text: 'yes. {@sam} known-issues section please' },
  { at: '10:12:30', by: 'sam', text: 'noted' },
  { at: '10:14:02', by: 'maya', text: '#422: "Add Mastodon feed support"' },
  { at: '10:15:19', by: 'theo', text: 'that already works? every Mastodon account has an RSS feed at /@user.rss' },
  { at: '10:16:01', by: 'maya', text: 'lol ok, closing with a comment pointing to the docs' },
  { at: '10:16:40', by: 'sam', text: "I'll add a FAQ entry for that, we get this question a lot" },
  { at: '10:18:22', by: 'maya', text: "#423: crash on startup when DATABASE_URL has a password with '@' in it" },
  { at: '10:19:50', by: 'ren', text: "oh, that's the config loader, we split on '@' by hand somewhere in there" },
  { at: '10:21:14', by: 'jonas', text: "that's a security-ish bug too: the error message prints the full URL. with the password." },
  { at: '10:22:00', by: 'maya', text: "ok, that's a 0.9.0 blocker then. who wants it?" },
  { at: '10:22:31', by: 'ren', text: 'mine, I touched that code last' },
  { at: '10:23:15', by: 'maya', key: 'blockers', text: 'thanks Ren. so the blockers for 0.9.0 are now #412, #415 and #423' },
  { at: '10:24:02', by: 'maya', text: '#424 and #425 are duplicates of #415, closing' },
  { at: '10:26:10', by: 'maya', text: '#426: "Support JSON Feed 1.1". feature request, moving it to discussions' },
  { at: '10:27:03', by: 'theo', text: 'we support 1.0 already and 1.1 is tiny. but yes, after the release' },
  { at: '10:30:12', by: 'maya', text: 'last one, #427: "Typo in settings page". {@lena} want a second quick one?' },
  { at: '10:31:00', by: 'lena', text: 'sure!' },
  { at: '10:31:30', by: 'maya', text: 'thanks all, triage done ✅', reactions: [['✅', 2]] },
  { at: '10:32:05', by: 'maya', pins: 'blockers' },
  { at: '11:02:40', by: 'lena', key: 'encoding-q', text: 'question about #412: should we try to detect the encoding (from the XML declaration) or just fall back to latin1 when UTF-8 decoding fails?' },
  { at: '11:05:13', by: 'jonas', reply: 'encoding-q', text: "XML declaration first, it's usually right. then fall back to windows-1252 rather than latin1, that's what browsers do" },
  { at: '11:06:02', by: 'theo', text: '+1, TextDecoder supports windows-1252 so no new dependency' },
  { at: '11:08:29', by: 'lena', text: "makes sense, thanks! I'll also add the repro file as a test fixture" },
  { at: '11:40:55', by: 'jonas', text: 'progress on #415: the duplicates come from feeds that change the guid when they edit a post. we dedupe on guid only' },
  { at: '11:41:40', by: 'jonas', key: 'proposal', text: 'proposal: dedupe on guid, and if the guid is new but link + title match an entry from the last 7 days, treat it as an update' },
  { at: '11:44:03', by: 'maya', reply: 'proposal', text: 'sounds reasonable. any risk of merging two genuinely different posts?' },
  { at: '11:46:18', by: 'jonas', text: 'only if a feed publishes two posts with the same link and title within a week. none of the 200 feeds in our test corpus do' },
  { at: '11:47:02', by: 'priya', text: 'podcast feeds sometimes reuse the link (the show page) for every episode, but the titles differ' },
  { at: '11:48:15', by: 'jonas', text: "right, that's why it's link AND title" },
  { at: '11:50:00', by: 'maya', key: 'decision-415', text: 'ok, go with it. please put the 7 days behind a config option though', reactions: [['👍', 3]] },
  { at: '11:50:31', by: 'jonas', text: 'will do 👍' },
  { at: '12:15:07', by: 'ren', text: 'lunch, back in 45' },
  { at: '12:30:44', by: 'sam', key: 'notes', text: 'first draft of the upgrade notes, comments welcome', attach: [['upgrade-notes-0.9.0.md', 3_912]] },
  { at: '12:34:10', by: 'maya', reply: 'notes', text: "reads well. can you move the Node 20 requirement to the very top? that's the one thing that will bite people" },
  { at: '12:35:02', by: 'sam', text: 'done, moved it up and made it bold', edited: '12:36:40' },
  { at: '12:50:18', by: 'priya', text: "{@jonas} #421 needs a review when you have a minute, it's small" },
  { at: '13:05:33', by: 'jonas', text: 'approved, nice work' },
  { at: '13:06:10', by: 'ci', embed: ci(1291, true, 'pull/421', 'c47a9e0') },
  { at: '13:07:02', by: 'priya', text: 'merged 🎉', reactions: [['🎉', 4]] },
  { at: '13:20:45', by: 'ren', text: 'back. looking at #423 now' },
  {
    at: '14:00:00',
    by: 'maya',
    key: 'plan',
    text: 'release plan, so we are all on the same page:\n1. feature freeze today (no new features merged to main)\n2. RC tomorrow, once #412, #415 and #423 are in\n3. final 0.9.0 on Friday if nobody finds anything nasty in the RC',
    reactions: [['👍', 5]],
  },
  { at: '14:02:10', by: 'theo', text: 'Friday works for me' },
  { at: '14:03:22', by: 'jonas', text: '#415 should be ready for review tonight' },
  { at: '14:05:01', by: 'ren', key: 'pr428', text: `#423 fix is up: ${REPO}/pull/428. I also redact credentials in every config error now, not just that one`, embed: pr(428, 'Redact credentials in config errors (#423)', 'ren-ito') },
  { at: '14:10:40', by: 'jonas', reply: 'pr428', text: 'reviewing' },
  { at: '14:22:05', by: 'jonas', text: 'one nit, otherwise 👍' },
  { at: '14:25:30', by: 'ren', text: 'fixed, thanks' },
  { at: '14:31:12', by: 'ci', embed: ci(1293, true, 'pull/428', '5be21f4') },
  { at: '14:32:00', by: 'ren', text: 'merged' },
  { at: '14:40:18', by: 'sam', key: 'changelog-q', text: "who's writing the changelog this time? last release it was a scramble on release day" },
  { at: '14:42:03', by: 'maya', reply: 'changelog-q', key: 'changelog', text: "I'll update the changelog by Friday, before we tag", edited: '14:43:30', reactions: [['🙏', 2]] },
  { at: '14:43:51', by: 'sam', text: 'thank you!' },
  { at: '14:50:26', by: 'theo', text: 'should we announce the Node 20 requirement ahead of the release? a post on the forum maybe' },
  { at: '14:52:14', by: 'sam', key: 'forum', text: "I can write a short forum post today so people get a few days' notice" },
  { at: '14:53:00', by: 'maya', reply: 'forum', text: 'yes please' },
  { at: '15:10:09', by: 'lena', key: 'pr429', text: `PR for #412 is up: ${REPO}/pull/429 🙂 first PR here, so feedback very welcome`, embed: pr(429, 'Detect OPML encoding before parsing (#412)', 'lenafischer'), reactions: [['🎉', 5], ['❤️', 2]] },
  { at: '15:12:40', by: 'maya', text: '{@lena} amazing, that was fast!' },
  { at: '15:14:02', by: 'theo', reply: 'pr429', text: "I'll review it" },
  { at: '15:35:47', by: 'theo', text: 'left a few comments, mostly small. one question about what happens when the declared encoding is wrong' },
  { at: '15:50:20', by: 'lena', text: 'good catch: if decoding with the declared encoding produces replacement characters we now retry with windows-1252. added a test' },
  { at: '16:02:11', by: 'theo', text: 'LGTM 👍 {:shipit:}' },
  { at: '16:03:05', by: 'ci', embed: ci(1296, true, 'pull/429', 'e1d2c3b') },
  { at: '16:04:30', by: 'theo', text: 'merged. congrats on the first contribution {@lena}!', reactions: [['🎉', 3], [SHIPIT, 2]] },
  { at: '16:05:12', by: 'lena', text: '🎉 thanks!' },
  { at: '16:20:40', by: 'priya', text: 'random thought: should the RC go out as a Docker tag too? last time people only tested the npm package' },
  { at: '16:22:15', by: 'ren', key: 'docker-rc', text: "yes, I'll push driftwood:0.9.0-rc.1 to the registry along with the npm RC" },
  { at: '16:23:00', by: 'maya', text: '👍 please do' },
  { at: '16:24:10', by: 'maya', text: "and let's keep RC feedback in {#dev-chat} so it's all in one place" },
  { at: '17:45:32', by: 'jonas', key: 'pr430', text: `#415 PR: ${REPO}/pull/430. the config option is dedupe.updateWindowDays, default 7` },
  { at: '17:50:04', by: 'ci', embed: ci(1299, false, 'pull/430', '0a9b8c7', 'lint: 2 problems in packages/sync/src/dedupe.ts') },
  { at: '17:52:10', by: 'jonas', text: 'lint, fixing' },
  { at: '17:58:41', by: 'ci', embed: ci(1300, true, 'pull/430', '7f6e5d4') },
  { at: '18:10:00', by: 'maya', text: 'reviewing #430 now' },
  { at: '18:35:22', by: 'maya', key: 'migration-q', text: 'approved. one question: do we need a migration for existing duplicates, or do we leave them?' },
  { at: '18:37:09', by: 'jonas', reply: 'migration-q', text: "leave them, a migration would be risky. I'll add a cleanup command in 0.9.1 instead" },
  { at: '18:38:00', by: 'maya', text: "ok, agreed. let's note that in the known issues too {@sam}" },
  { at: '18:40:12', by: 'sam', text: 'added' },
  {
    at: '18:45:00',
    by: 'maya',
    key: 'recap',
    text: 'recap for today:\n• 0.9.0 requires Node 20+\n• blockers: #412 ✅ #423 ✅ #415 (merging tonight)\n• RC tomorrow (npm + Docker), final on Friday\n• changelog: me, by Friday\n• forum post about Node 20: Sam, today\n• duplicate cleanup command: Jonas, 0.9.1',
    reactions: [['👍', 5]],
  },
  { at: '18:47:33', by: 'sam', text: 'forum post is up 👍' },
  { at: '18:50:02', by: 'jonas', text: 'merged #430' },
  { at: '18:52:40', by: 'ci', embed: ci(1302, true, 'main', 'b2c3d4e') },
  { at: '18:55:18', by: 'ren', text: "I'll cut the RC first thing tomorrow, around 08:00 UTC" },
  { at: '19:05:00', by: 'priya', text: 'night all 🌙' },
  { at: '19:10:27', by: 'maya', text: 'great day, thanks everyone 🙏', reactions: [['❤️', 3]] },
];

// Who reacts, in order of preference; the author never reacts to themselves.
const REACTORS: Who[] = ['maya', 'jonas', 'theo', 'priya', 'sam', 'ren', 'lena'];

function at(time: string): number {
  return Date.parse(`${DAY}T${time}.000Z`);
}

/** DiscordChatExporter writes times as .NET DateTimeOffset: milliseconds only when non-zero, offset +00:00 in UTC mode. */
function dceTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.replace('.000Z', '+00:00') : iso.replace('Z', '+00:00');
}

function user(p: Person, withRoles = true): Record<string, unknown> {
  const { roles, avatarUrl, ...rest } = p;
  return withRoles ? { ...rest, roles, avatarUrl } : { ...rest, avatarUrl };
}

function emojiObject(emoji: string | CustomEmoji): Record<string, unknown> {
  if (typeof emoji !== 'string') {
    return { id: emoji.id, name: emoji.name, code: emoji.name, isAnimated: false, imageUrl: `https://cdn.discordapp.com/emojis/${emoji.id}.png` };
  }
  const codepoints = [...emoji].map((c) => c.codePointAt(0)!).filter((cp) => cp !== 0xfe0f);
  return {
    id: '',
    name: emoji,
    code: EMOJI_CODES[emoji] ?? 'emoji',
    isAnimated: false,
    imageUrl: `https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/${codepoints.map((cp) => cp.toString(16)).join('-')}.svg`,
  };
}

function embedObject(spec: EmbedSpec, ms: number): Record<string, unknown> {
  return {
    title: spec.title,
    url: spec.url,
    timestamp: spec.fields ? dceTime(ms) : null,
    description: spec.description ?? '',
    ...(spec.color ? { color: spec.color } : {}),
    images: [],
    fields: (spec.fields ?? []).map(([name, value]) => ({ name, value, isInline: true })),
    inlineEmojis: [],
  };
}

/** Replaces {@who}, {@&role}, {#dev-chat} and {:shipit:} with Discord markup, collecting mentioned people. */
function markup(text: string): { content: string; mentioned: Person[] } {
  const mentioned: Person[] = [];
  const content = text.replace(/\{(@&|@|#|:)([\w-]+):?\}/g, (_whole, sigil: string, name: string) => {
    if (sigil === '@') {
      const p = PEOPLE[name as Who];
      if (!mentioned.includes(p)) mentioned.push(p);
      return `<@${p.id}>`;
    }
    if (sigil === '@&') return `<@&${ROLES[name as keyof typeof ROLES].id}>`;
    if (sigil === '#') return `<#${CHANNEL.id}>`;
    return `<:${SHIPIT.name}:${SHIPIT.id}>`;
  });
  return { content, mentioned };
}

function inlineEmojis(content: string): Array<Record<string, unknown>> {
  const found: Array<string | CustomEmoji> = [];
  if (content.includes(`<:${SHIPIT.name}:`)) found.push(SHIPIT);
  for (const emoji of Object.keys(EMOJI_CODES)) if (content.includes(emoji)) found.push(emoji);
  return found.map(emojiObject);
}

function buildMessages(): Array<Record<string, unknown>> {
  const ids = new Map<string, string>();
  const messages: Array<Record<string, unknown>> = [];
  SCRIPT.forEach((line, index) => {
    const ms = at(line.at);
    const id = snowflake(ms, index);
    if (line.key) ids.set(line.key, id);
    const author = PEOPLE[line.by];
    const refKey = line.reply ?? line.pins;
    const refId = refKey ? ids.get(refKey) : undefined;
    if (refKey && !refId) throw new Error(`line ${index}: unknown key ${refKey}`);

    const { content, mentioned } = line.text ? markup(line.text) : { content: '', mentioned: [] };
    const type = line.join ? 'GuildMemberJoin' : line.pins ? 'ChannelPinnedMessage' : line.reply ? 'Reply' : 'Default';
    const replied = line.reply ? messages.find((m) => m['id'] === refId) : undefined;
    // Discord lists the replied-to author among the mentions of a reply.
    const repliedAuthor = replied ? Object.values(PEOPLE).find((p) => p.id === (replied['author'] as { id: string }).id) : undefined;
    if (repliedAuthor && repliedAuthor.id !== PEOPLE.gone.id && !mentioned.includes(repliedAuthor)) mentioned.push(repliedAuthor);

    const reactors = REACTORS.filter((who) => who !== line.by);
    messages.push({
      id,
      type,
      timestamp: dceTime(ms),
      timestampEdited: line.edited ? dceTime(at(line.edited)) : null,
      callEndedTimestamp: null,
      isPinned: line.key === 'blockers',
      content: line.join ? 'Joined the server.' : line.pins ? 'Pinned a message.' : content,
      author: user(author),
      attachments: (line.attach ?? []).map(([fileName, bytes], i) => {
        const attachmentId = snowflake(ms, index * 8 + i + 1);
        return {
          id: attachmentId,
          url: `https://cdn.discordapp.com/attachments/${CHANNEL.id}/${attachmentId}/${fileName}?ex=6655c1f0&is=66547070&hm=${fakeHash(attachmentId, 64)}&`,
          fileName,
          fileSizeBytes: bytes,
        };
      }),
      embeds: line.embed ? [embedObject(line.embed, ms)] : [],
      stickers: line.sticker
        ? [{ id: '749054660769218631', name: line.sticker, format: 'Lottie', sourceUrl: 'https://cdn.discordapp.com/stickers/749054660769218631.json' }]
        : [],
      reactions: (line.reactions ?? []).map(([emoji, count]) => ({
        emoji: emojiObject(emoji),
        count,
        users: reactors.slice(0, count).map((who) => user(PEOPLE[who], false)),
      })),
      mentions: mentioned.map((p) => user(p)),
      ...(refId ? { reference: { type: 'Default', messageId: refId, channelId: CHANNEL.id, guildId: GUILD.id } } : {}),
      inlineEmojis: inlineEmojis(content),
    });
  });
  return messages;
}

function buildExport(): Record<string, unknown> {
  const messages = buildMessages();
  return {
    guild: { id: GUILD.id, name: GUILD.name, iconUrl: `https://cdn.discordapp.com/icons/${GUILD.id}/${fakeHash(GUILD.id)}.png?size=512` },
    channel: {
      id: CHANNEL.id,
      type: 'GuildTextChat',
      categoryId: CHANNEL.categoryId,
      category: CHANNEL.category,
      name: CHANNEL.name,
      topic: 'Development of Driftwood, the little self-hosted feed reader. Releases, reviews, triage.',
    },
    dateRange: { after: null, before: null },
    exportedAt: '2024-05-15T06:00:12.4471827+00:00',
    messages,
    messageCount: messages.length,
  };
}

/** The file's exact text (tests compare it with the committed copy). */
export function sampleExportText(): string {
  return `${JSON.stringify(buildExport(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL('./sample-export.json', import.meta.url));
  writeFileSync(target, sampleExportText());
  console.log(`wrote ${target}`);
}
