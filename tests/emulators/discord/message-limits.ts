/**
 * Discord's limits on message payloads (content 2,000; 10 embeds; title 256; description 4,096;
 * 25 fields of name 256 / value 1,024; footer 2,048; author 256; 6,000 embed characters per message).
 * Lengths are UTF-16 code units, which is never more lenient than Discord's own count.
 */
import { Failures, invalidFormBody, type FieldProblem } from './errors.ts';
import { isRecord } from './json-input.ts';
import { MessageFlag, type JsonObject } from './model.ts';

export const MessageLimits = {
  content: 2000,
  embeds: 10,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  embedTotal: 6000,
  actionRows: 5,
  files: 10,
} as const;

function tooLong(path: (string | number)[], max: number): FieldProblem {
  return { path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` };
}

function notString(path: (string | number)[], value: unknown): FieldProblem {
  return { path, code: 'BASE_TYPE_STRING', message: `Could not interpret "${String(value)}" as string.` };
}

function checkText(
  problems: FieldProblem[],
  path: (string | number)[],
  value: unknown,
  max: number,
  required = false,
): number {
  if (value === undefined || value === null) {
    if (required) problems.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
    return 0;
  }
  if (typeof value !== 'string') {
    problems.push(notString(path, value));
    return 0;
  }
  if (value.length > max) problems.push(tooLong(path, max));
  return value.length;
}

function checkEmbed(problems: FieldProblem[], index: number, embed: unknown): number {
  const at = (...rest: (string | number)[]) => ['embeds', index, ...rest];
  if (!isRecord(embed)) {
    problems.push({ path: at(), code: 'MODEL_TYPE_CONVERT', message: 'Only dictionaries may be used in a ModelType' });
    return 0;
  }
  let total = checkText(problems, at('title'), embed['title'], MessageLimits.title);
  total += checkText(problems, at('description'), embed['description'], MessageLimits.description);
  if (isRecord(embed['footer'])) total += checkText(problems, at('footer', 'text'), embed['footer']['text'], MessageLimits.footerText, true);
  if (isRecord(embed['author'])) total += checkText(problems, at('author', 'name'), embed['author']['name'], MessageLimits.authorName, true);
  const fields = embed['fields'];
  if (Array.isArray(fields)) {
    if (fields.length > MessageLimits.fields) problems.push(tooLong(at('fields'), MessageLimits.fields));
    fields.forEach((field: unknown, i) => {
      const f = isRecord(field) ? field : {};
      total += checkText(problems, at('fields', i, 'name'), f['name'], MessageLimits.fieldName, true);
      total += checkText(problems, at('fields', i, 'value'), f['value'], MessageLimits.fieldValue, true);
    });
  }
  return total;
}

export interface MessageCheck {
  /** Creating needs something to show; edits may change a single field. */
  creating: boolean;
  fileCount: number;
}

/** Throws a Discord-style 400 when the payload breaks a limit, 50006 when a new message is empty. */
export function validateMessagePayload(body: JsonObject, check: MessageCheck): void {
  const problems: FieldProblem[] = [];
  checkText(problems, ['content'], body['content'], MessageLimits.content);
  const embeds = body['embeds'];
  if (embeds !== undefined && embeds !== null) {
    if (!Array.isArray(embeds)) {
      problems.push({ path: ['embeds'], code: 'BASE_TYPE_LIST', message: 'Must be a list.' });
    } else {
      if (embeds.length > MessageLimits.embeds) problems.push(tooLong(['embeds'], MessageLimits.embeds));
      const total = embeds.reduce<number>((sum, embed: unknown, i) => sum + checkEmbed(problems, i, embed), 0);
      if (total > MessageLimits.embedTotal) {
        problems.push({
          path: ['embeds'],
          code: 'MAX_EMBED_SIZE_EXCEEDED',
          message: `Embed size exceeds maximum size of ${MessageLimits.embedTotal}`,
        });
      }
    }
  }
  const components = body['components'];
  const flags = typeof body['flags'] === 'number' ? body['flags'] : 0;
  if (Array.isArray(components) && !(flags & MessageFlag.IsComponentsV2) && components.length > MessageLimits.actionRows) {
    problems.push(tooLong(['components'], MessageLimits.actionRows));
  }
  if (check.fileCount > MessageLimits.files) problems.push(tooLong(['files'], MessageLimits.files));
  if (problems.length > 0) throw invalidFormBody(problems);

  if (check.creating && !hasVisibleBody(body, check.fileCount)) throw Failures.emptyMessage();
}

function hasVisibleBody(body: JsonObject, fileCount: number): boolean {
  const content = body['content'];
  const nonEmpty = (v: unknown) => Array.isArray(v) && v.length > 0;
  return (
    (typeof content === 'string' && content.length > 0) ||
    nonEmpty(body['embeds']) ||
    nonEmpty(body['components']) ||
    nonEmpty(body['sticker_ids']) ||
    isRecord(body['poll']) ||
    fileCount > 0
  );
}
