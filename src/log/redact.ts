/**
 * Deep redaction for anything that may be logged. Keys that name credentials
 * are blanked wherever they sit in an object, and string values that look
 * like credentials are masked even under innocent keys (an error message that
 * quotes a token, a URL with a password), because a secret in a log line
 * cannot be taken back.
 */

const REDACTED = '[redacted]';

const SENSITIVE_KEY =
  /^(?:authorization|proxy-authorization|cookie|set-cookie|x-hub-signature(?:-256)?|x-api-key|password|passwd|secret|token|api[-_]?key|private[-_]?key|master[-_]?keys?|client[-_]?secret|webhook[-_]?secret|access[-_]?token|refresh[-_]?token|bot[-_]?token|ciphertext|plaintext|nonce)$|(?:_token|_secret|_key|Token|Secret|ApiKey|PrivateKey|Password)$/i;

const VALUE_PATTERNS: RegExp[] = [
  /\b(?:Bearer|Bot|token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, // Authorization header values
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, // GitHub tokens
  /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g,
  /\bsk-(?:ant-)?[A-Za-z0-9_-]{16,}\b/g, // Anthropic / OpenAI keys
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, // Slack
  /\bAKIA[0-9A-Z]{16}\b/g, // AWS access key id
  /\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}\b/g, // Discord bot token
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g, // JWT
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /(?<=\/\/[^/\s:@]*:)[^@\s/]+(?=@)/g, // password in a URL's userinfo
  /\bsha256=[0-9a-f]{64}\b/g, // webhook signatures
];

export function redactString(value: string): string {
  let out = value;
  for (const pattern of VALUE_PATTERNS) {
    pattern.lastIndex = 0;
    if (pattern.test(out)) {
      pattern.lastIndex = 0;
      out = out.replace(pattern, REDACTED);
    }
  }
  return out;
}

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/** Returns a redacted copy; never mutates the input. Cycles and depth are bounded. */
export function redact(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[depth limit]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Date)) {
    return redact((value as { toJSON(): unknown }).toJSON(), depth + 1, seen);
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1, seen));
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.constructor?.name ?? value.name,
      message: redactString(value.message),
      stack: value.stack === undefined ? undefined : redactString(value.stack),
    };
    for (const [k, v] of Object.entries(value)) out[k] = isSensitiveKey(k) ? REDACTED : redact(v, depth + 1, seen);
    if (value.cause !== undefined) out.cause = redact(value.cause, depth + 1, seen);
    return out;
  }
  if (value instanceof Map) {
    return redact(Object.fromEntries(value), depth + 1, seen);
  }
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSensitiveKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}
