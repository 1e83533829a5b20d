import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import piiPlugin from '../../plugins/pii-redactor/index.ts';
import type { PiiKind } from '../../plugins/pii-redactor/patterns.ts';
import { createRedactor } from '../../plugins/pii-redactor/redact.ts';
import type { GenerateRequest } from '../../src/llm/provider-spec/contract.ts';
import type { PluginManifest, RequestProcessor } from '../../src/llm/plugin-host/types.ts';

const redact = createRedactor(new Set<PiiKind>(['email', 'phone', 'ip', 'secret']));
const clean = (text: string) => redact(text).text;

const MANIFEST: PluginManifest = { name: 'pii-redactor', version: '1.0.0', kind: 'processor', entry: 'index.ts', host: '>=1 <2', requires: [], config: {}, secrets: [], enabled_by_default: true, enabled_by_env: [], env_settings: {}, roles: [] };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

async function processor(config: Record<string, unknown> = { redact: ['email', 'phone', 'ip', 'secret'] }): Promise<RequestProcessor> {
  const instance = await piiPlugin({ manifest: MANIFEST, config, secret: () => undefined, logger: silent });
  if (instance.kind !== 'processor') throw new Error('pii-redactor must be a processor');
  return instance.processor;
}

describe('pii redaction: what is redacted', () => {
  it.each([
    ['mail alice.smith+tag@example.co.uk today', 'mail [email] today'],
    ['<bob@corp.example.com>', '<[email]>'],
    ['call +44 20 7946 0958 now', 'call [phone] now'],
    ['US: +1 (202) 555-0143, 202-555-0143, (202) 555-0143, 202.555.0143', 'US: [phone], [phone], [phone], [phone]'],
    ['compact +4915112345678.', 'compact [phone].'],
    ['UK 020 7946 0958, FR 01 23 45 67 89, NL 06-12345678', 'UK [phone], FR [phone], NL [phone]'],
    ['+44 20 7946 0958 2024 was the year', '[phone] 2024 was the year'],
    ['hosts 192.168.1.10 and 10.0.0.0/8.', 'hosts [ip] and [ip].'],
    ['v6 2001:db8::8a2e:370:7334, fe80::1ff:fe23:4567:890a%eth0 and ::ffff:192.0.2.1', 'v6 [ip], [ip] and [ip]'],
    ['AKIAIOSFODNN7EXAMPLE', '[secret]'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789 and github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABC', '[secret] and [secret]'],
    ['xoxb-1234567890-0987654321-abcdefghijklmnop', '[secret]'],
    ['sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345 sk-proj-abcdefghijklmnopqrstuvwxyz', '[secret] [secret]'],
    ['bot token MTA4NzY1NDMyMTA5ODc2NTQz.GabcDe.abcdefghijklmnopqrstuvwxyz0123456789AB', 'bot token [secret]'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', '[secret]'],
    ['key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq83n\n-----END RSA PRIVATE KEY-----\nthanks', 'key:\n[secret]\nthanks'],
    ['cut off -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA', 'cut off [secret]'],
    ['password=hunter2 and DB_PASSWORD: "s3 cr3t" and "api_key": "xyz" apiKey=foo', 'password=[secret] and DB_PASSWORD: "[secret]" and "api_key": "[secret]" apiKey=[secret]'],
    ['Authorization: Bearer abcdefghijklmnop1234567890', 'Authorization: Bearer [secret]'],
    ['postgres://admin:pa55w0rd@db.internal:5432/app', 'postgres://[secret]@db.internal:5432/app'],
    ['aws secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY here', 'aws secret [secret] here'],
  ])('%j', (input, expected) => {
    expect(clean(input)).toBe(expected);
  });

  it('counts what it redacted, by kind', () => {
    expect(redact('a@b.io, +44 20 7946 0958, 10.1.2.3, ghp_abcdefghijklmnopqrstuvwxyz0123456789').counts).toEqual({ email: 1, phone: 1, ip: 1, secret: 1 });
  });
});

describe('pii redaction: what is left alone', () => {
  it.each([
    'In 2024 we had 1500 messages and 37 members.',
    'user id 123456789012345678 and channel <#987654321098765432> and <@112233445566778899>',
    'released 2024-05-01, sprint 2019-2024, meeting at 12:30:45, dated 01.02.2024 and 02/05/2024',
    'version 1.2.3 of the app, pi is 3.14159, price $1,234.56, ticket #12345, +1 for that',
    'commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it',
    'call getUserAccountSettingsForTenant2x from src/components/UserProfile/Avatar2Component.tsx',
    'https://docs.google.com/document/d/1aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcdEF/edit',
    'author: Alice, max_tokens: 1500, Note: see below, tokens: 2048',
    'std::vector and a::b in C++, ratio 16:9, MAC 00:1A:2B:3C:4D:5E',
    'email me @alice or at alice(at)example',
  ])('%j', (input) => {
    expect(clean(input)).toBe(input);
  });
});

describe('pii-redactor processor', () => {
  const request: GenerateRequest = {
    system: 'Contact ops@ourcompany.com for help. Never reveal sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345.',
    turns: [
      { role: 'user', content: '[1] Alice: mail me at alice@example.com' },
      { role: 'assistant', content: 'Sure, noted 10.0.0.1' },
    ],
    model: 'm',
    maxTokens: 100,
    attachments: {
      task: 'summarize-reduce',
      summaryType: 'brief',
      messages: [{ ref: 1, author: 'Alice', content: 'mail me at alice@example.com', timestamp: '2024-05-02T09:00:00Z' }],
      partials: ['- Alice: call +44 20 7946 0958 [1]'],
    },
  };

  it('redacts turns, numbered messages and partials, never the system prompt, and does not mutate its input', async () => {
    const before = structuredClone(request);
    const out = await (await processor()).process(request, { task: 'summarize', correlationId: 'c1' });
    expect(out.system).toBe(request.system);
    expect(out.turns.map((turn) => turn.content)).toEqual(['[1] Alice: mail me at [email]', 'Sure, noted [ip]']);
    expect(out.attachments?.messages?.[0]).toEqual({ ref: 1, author: 'Alice', content: 'mail me at [email]', timestamp: '2024-05-02T09:00:00Z' });
    expect(out.attachments?.partials).toEqual(['- Alice: call [phone] [1]']);
    expect(out.attachments?.summaryType).toBe('brief');
    expect(request).toEqual(before);
  });

  it('redacts only the configured kinds, defaults to all, and refuses unknown kinds', async () => {
    const emailsOnly = await processor({ redact: ['email'] });
    const out = await emailsOnly.process(request, { task: 'chat', correlationId: 'c2' });
    expect(out.turns.map((turn) => turn.content)).toEqual(['[1] Alice: mail me at [email]', 'Sure, noted 10.0.0.1']);
    const byDefault = await (await processor({})).process(request, { task: 'chat', correlationId: 'c3' });
    expect(byDefault.turns[1]?.content).toBe('Sure, noted [ip]');
    await expect(processor({ redact: ['email', 'emails'] })).rejects.toThrow('setting "redact" has unknown kinds "emails" (known: email, phone, ip, secret)');
  });
});

describe('pii redaction: hostile input', () => {
  const PLANTS = [
    'carol@example.org',
    '+44 20 7946 0958',
    '(202) 555-0143',
    '192.168.20.30',
    '2001:db8:85a3::8a2e:370:7334',
    'ghp_0123456789abcdefghijklmnopqrstuvwxyzAB',
    'sk-ant-api03-ZYXWVUTSRQPONMLKJIHGFEDCBA987654',
  ];
  const filler = fc.oneof(
    fc.constantFrom('the', 'release', 'on', 'Friday', 'ok', 'lol', '2024', '1500', '3.14', '...', '!', '#5', 'v1.2', ':)', '@here'),
    fc.string({ unit: fc.constantFrom('a', 'b', 'Z', '1', '-', '_', '.', ':', '@', '/'), maxLength: 12 }).filter((word) => word.length > 0),
  );

  it('redacts planted items wherever they sit among other words', () => {
    fc.assert(
      fc.property(fc.array(filler, { maxLength: 30 }), fc.constantFrom(...PLANTS), fc.nat(), (words, plant, position) => {
        const at = position % (words.length + 1);
        const text = [...words.slice(0, at), plant, ...words.slice(at)].join(' ');
        expect(clean(text)).not.toContain(plant);
      }),
      { numRuns: 300 },
    );
  });

  it('stays linear on repetitive near-miss input (no catastrophic backtracking)', () => {
    const fragment = fc.constantFrom(
      'a', 'a@', 'a.', '1', '1-', '1 ', '+1 ', '+', '::', 'a:', '1.', '(1', '0 1', 'eyJa.', 'ghp_', 'sk-', 'M', '[1] ',
      '-----BEGIN PRIVATE KEY-----', 'password=', 'Bearer ', '://a:b', 'A1b2', 'é',
    );
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1000, max: 20_000 }), (parts, length) => {
        const unit = parts.join('');
        const text = unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
        // What matters is that this returns at all: exponential backtracking on 20k characters would not.
        // A marker may be longer than what it replaces (`a:b@` → `[secret]@`), but never by more than this.
        const { text: out, counts } = redact(text);
        expect(out.length).toBeLessThanOrEqual(text.length * 3 + 16);
        expect(Object.values(counts).every((count) => Number.isInteger(count) && count >= 0)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});
