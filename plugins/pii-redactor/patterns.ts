/**
 * The detectors. Every pattern is written to stay linear on hostile input:
 * a lookbehind pins each match to the start of a run (so a long run is not
 * rescanned from every position), quantifiers are bounded, and repeated
 * groups are separated by a mandatory delimiter so a digit or letter run can
 * be split only one way. Validation that a regex would do with nested
 * quantifiers (digit counts, entropy, IPv6 syntax) is done in code instead.
 */
import { isIPv6 } from 'node:net';

export type PiiKind = 'email' | 'phone' | 'ip' | 'secret';
export const PII_KINDS: readonly PiiKind[] = ['email', 'phone', 'ip', 'secret'];

export interface Rule {
  kind: PiiKind;
  /** Must be global. */
  pattern: RegExp;
  /** The replacement for one match, or undefined to leave it as it was. Defaults to the kind's marker. */
  replace?: (match: string, groups: ReadonlyArray<string | undefined>) => string | undefined;
}

export function marker(kind: PiiKind): string {
  return `[${kind}]`;
}

// ── secrets ────────────────────────────────────────────────────────────────

const PRIVATE_KEY_BLOCK =
  /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,20000}?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
/** A pasted key cut off before its END line is still a key. */
const PRIVATE_KEY_UNTERMINATED = /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\s:,.-]{0,20000}/g;

const JWT = /(?<![\w-])eyJ[A-Za-z0-9_-]{5,4096}\.eyJ[A-Za-z0-9_-]{5,4096}\.[A-Za-z0-9_-]{0,4096}(?![\w-])/g;

const KNOWN_TOKENS = new RegExp(
  '(?<![A-Za-z0-9_-])(?:' +
    [
      '(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}', // AWS access key ids
      'gh[pousr]_[A-Za-z0-9]{36,255}', // GitHub tokens
      'github_pat_[A-Za-z0-9_]{22,255}', // GitHub fine-grained tokens
      'xox[abposre]-[A-Za-z0-9-]{10,250}', // Slack tokens
      'xapp-[A-Za-z0-9-]{10,250}', // Slack app-level tokens
      'sk-[A-Za-z0-9_-]{20,250}', // Anthropic (sk-ant-…) and OpenAI (sk-…, sk-proj-…) keys
      '(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,99}', // Stripe
      'AIza[0-9A-Za-z_-]{35}', // Google API keys
      '[MNO][A-Za-z0-9_-]{23,27}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,40}', // Discord bot tokens (base64 user id . time . hmac)
    ].join('|') +
    ')(?![A-Za-z0-9_-])',
  'g',
);

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,20}:\/\/)[^\s:/@]{1,100}:[^\s/@]{1,200}@/gi;

const AUTHORIZATION = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{16,4096}={0,2}/gi;

/** `password=…`, `api_key: …`, `"token": "…"`; the key decides (see isSensitiveKey). */
const KEY_VALUE = /(?<![\w-])([A-Za-z][\w-]{0,40})(["']?[ \t]{0,4}[:=][ \t]{0,4})("[^"\n]{1,300}"|'[^'\n]{1,300}'|[^\s"',;]{1,300})/g;

const SENSITIVE_WORDS = new Set(['password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'apikey', 'credential', 'credentials']);
const SENSITIVE_PAIRS = [
  ['api', 'key'],
  ['access', 'key'],
  ['private', 'key'],
  ['secret', 'key'],
  ['session', 'id'],
] as const;

function isSensitiveKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_-]+/)
    .filter(Boolean);
  if (words.some((word) => SENSITIVE_WORDS.has(word))) return true;
  return words.some((word, index) => SENSITIVE_PAIRS.some(([first, second]) => word === first && words[index + 1] === second));
}

/** Long base64/base62-looking runs: candidates for the entropy check. */
const OPAQUE_RUN = /(?<![A-Za-z0-9+/_=.:@-])[A-Za-z0-9+/_-]{32,512}={0,2}(?![A-Za-z0-9+/_=-])/g;

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/**
 * Random keys mix cases and digits and use most of the alphabet; prose,
 * identifiers and paths do not. Hex (commit SHAs) tops out at 4 bits a
 * character and is deliberately left alone.
 */
function looksRandom(text: string): boolean {
  const body = text.replace(/=+$/, '');
  if (!/[a-z]/.test(body) || !/[A-Z]/.test(body) || !/[0-9+/_-]/.test(body)) return false;
  const threshold = Math.min(4.5, Math.log2(body.length) - 0.7);
  return shannonEntropy(body) >= threshold;
}

// ── contact details and addresses ──────────────────────────────────────────

/** The domain is checked in code (last label alphabetic) rather than with nested groups. */
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,256}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,10}(?![A-Za-z0-9-])/g;

const IPV6_CANDIDATE = /(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?:%[\w.]{1,20})?(?![\w:])/g;

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![\\w.])(?:${OCTET}\\.){3}${OCTET}(?:\\/\\d{1,2})?(?![\\w]|\\.\\d)`, 'g');

/** `+44 20 7946 0958`, `+1 (202) 555-0143`, `+4915112345678`. Digit count (7–15, E.164) is checked in code. */
const PHONE_INTERNATIONAL =
  /(?<![\w+])\+(?:\d{7,15}|\d{1,3}(?:[ .-]?\(\d{1,4}\)[ .-]?\d{1,8})?(?:[ .-]\d{1,8}){0,6})(?![\w]|[.-]\d)/g;
/** North American: `(202) 555-0143`, `202-555-0143`, `1 202 555 0143`. */
const PHONE_NANP = /(?<![\w+.-])(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/g;
/** Trunk-prefixed national numbers (UK, FR, DE, NL…): `020 7946 0958`, `01 23 45 67 89`, `06-12345678`. */
const PHONE_NATIONAL = /(?<![\w+.-])0\d{1,4}(?:[ ./-]\d{2,8}){1,4}(?![\w]|[.-]\d)/g;

function digitCount(text: string): number {
  let count = 0;
  for (const char of text) if (char >= '0' && char <= '9') count++;
  return count;
}

/**
 * A phone pattern can run on into a following number ("+44 20 7946 0958 2024").
 * Rather than give up on the whole match, drop trailing groups until the
 * digit count fits, and redact that prefix.
 */
function redactPhonePrefix(match: string, minDigits: number, maxDigits: number): string | undefined {
  let head = match;
  let tail = '';
  while (digitCount(head) > maxDigits) {
    const cut = /[ ./-]\d+$/.exec(head);
    if (!cut) return undefined;
    tail = cut[0] + tail;
    head = head.slice(0, cut.index);
  }
  return digitCount(head) >= minDigits ? `${marker('phone')}${tail}` : undefined;
}

// ── the rules, in the order they run ───────────────────────────────────────

/**
 * Secrets first (a key can contain an `@` or digits that other rules would
 * half-match), then credentials in URLs before e-mail (`user:pass@host`),
 * then addresses, then phones, and the catch-all entropy check last.
 */
export const RULES: readonly Rule[] = [
  { kind: 'secret', pattern: PRIVATE_KEY_BLOCK },
  { kind: 'secret', pattern: PRIVATE_KEY_UNTERMINATED },
  { kind: 'secret', pattern: JWT },
  { kind: 'secret', pattern: KNOWN_TOKENS },
  { kind: 'secret', pattern: URL_CREDENTIALS, replace: (_, [scheme]) => `${scheme ?? ''}${marker('secret')}@` },
  { kind: 'secret', pattern: AUTHORIZATION, replace: (_, [scheme]) => `${scheme ?? ''} ${marker('secret')}` },
  {
    kind: 'secret',
    pattern: KEY_VALUE,
    replace: (match, [key, separator, value]) => {
      if (!key || !isSensitiveKey(key) || value === undefined || value === marker('secret')) return undefined;
      const quote = value.startsWith('"') || value.startsWith("'") ? value[0] : '';
      return `${key}${separator ?? ''}${quote}${marker('secret')}${quote}`;
    },
  },
  {
    kind: 'email',
    pattern: EMAIL,
    replace: (match) => (/\.[A-Za-z]{2,24}$/.test(match) ? marker('email') : undefined),
  },
  {
    kind: 'ip',
    pattern: IPV6_CANDIDATE,
    replace: (match) => {
      const address = match.replace(/%.*$/, '');
      const hexDigits = (address.match(/[0-9A-Fa-f]/g) ?? []).length;
      return isIPv6(address) && (hexDigits >= 4 || address === '::1') ? marker('ip') : undefined;
    },
  },
  { kind: 'ip', pattern: IPV4 },
  {
    kind: 'phone',
    pattern: PHONE_INTERNATIONAL,
    replace: (match) => redactPhonePrefix(match, 7, 15),
  },
  { kind: 'phone', pattern: PHONE_NANP },
  {
    kind: 'phone',
    pattern: PHONE_NATIONAL,
    replace: (match) => redactPhonePrefix(match, 9, 12),
  },
  { kind: 'secret', pattern: OPAQUE_RUN, replace: (match) => (looksRandom(match) ? marker('secret') : undefined) },
];
