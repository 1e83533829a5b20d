/** Reading request bodies (JSON or multipart with files) and writing JSON answers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DiscordApiFailure, Failures } from './errors.ts';
import { isRecord } from './json-input.ts';
import type { RecordedFile } from './model.ts';

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buffer.length;
      if (size > maxBytes) throw Failures.payloadTooLarge();
      chunks.push(buffer);
    }
  } catch (error) {
    // A client that hangs up mid-body is the client's problem, not an emulator fault.
    throw error instanceof DiscordApiFailure ? error : new DiscordApiFailure(400, 0, 'Request body was cut off');
  }
  return Buffer.concat(chunks);
}

export interface ParsedBody {
  body: unknown;
  files: RecordedFile[];
}

/**
 * JSON, or multipart/form-data as discord.js sends uploads: `payload_json` plus `files[n]` parts.
 * Other text parts are merged into the body, as Discord accepts them.
 */
export async function parseBody(contentType: string | undefined, raw: Buffer): Promise<ParsedBody> {
  if (raw.length === 0) return { body: undefined, files: [] };
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return parseMultipart(contentType ?? '', raw);
  try {
    return { body: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
  } catch {
    throw Failures.badJson();
  }
}

async function parseMultipart(contentType: string, raw: Buffer): Promise<ParsedBody> {
  let form: FormData;
  try {
    // undici's Request parses multipart the same way fetch clients build it.
    form = await new Request('http://emulator.local/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
  } catch {
    throw Failures.badJson();
  }
  let body: Record<string, unknown> = {};
  const files: RecordedFile[] = [];
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') {
      if (field === 'payload_json') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(value);
        } catch {
          throw Failures.badJson();
        }
        if (isRecord(parsed)) body = { ...body, ...parsed };
      } else {
        body[field] = value;
      }
      continue;
    }
    const content = Buffer.from(await value.arrayBuffer());
    files.push({ field, filename: value.name, size: content.length, contentType: value.type || 'application/octet-stream', content });
  }
  return { body, files };
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
