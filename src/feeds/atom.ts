/**
 * An Atom 1.0 document (RFC 4287) built with fast-xml-parser's builder,
 * which escapes text and attributes. Characters XML 1.0 cannot hold at all
 * (control characters, lone surrogates), which escaping cannot fix, are
 * removed first. Content is `type="text"`: a reader shows it as text,
 * never as markup.
 */
import { XMLBuilder } from 'fast-xml-parser';

export interface AtomEntry {
  id: string;
  title: string;
  updated: Date;
  /** Plain text (Markdown as written). */
  content: string;
  link?: string;
}

export interface AtomFeed {
  id: string;
  title: string;
  updated: Date;
  selfUrl?: string;
  alternateUrl?: string;
  entries: AtomEntry[];
}

const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
const clean = (text: string): string => text.replace(NOT_XML, '\uFFFD');

export function atomDocument(feed: AtomFeed): string {
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, processEntities: true, suppressEmptyNode: true });
  const links = [
    ...(feed.selfUrl === undefined ? [] : [{ '@_rel': 'self', '@_type': 'application/atom+xml', '@_href': clean(feed.selfUrl) }]),
    ...(feed.alternateUrl === undefined ? [] : [{ '@_rel': 'alternate', '@_href': clean(feed.alternateUrl) }]),
  ];
  const body = builder.build({
    feed: {
      '@_xmlns': 'http://www.w3.org/2005/Atom',
      id: clean(feed.id),
      title: { '@_type': 'text', '#text': clean(feed.title) },
      updated: feed.updated.toISOString(),
      author: { name: 'recap-bot' },
      generator: 'recap-bot',
      ...(links.length === 0 ? {} : { link: links }),
      entry: feed.entries.map((e) => ({
        id: clean(e.id),
        title: { '@_type': 'text', '#text': clean(e.title) },
        updated: e.updated.toISOString(),
        ...(e.link === undefined ? {} : { link: { '@_rel': 'alternate', '@_href': clean(e.link) } }),
        content: { '@_type': 'text', '#text': clean(e.content) },
      })),
    },
  }) as string;
  return `<?xml version="1.0" encoding="utf-8"?>\n${body}`;
}
