import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parseFeed } from 'feedsmith';

const SCHEMAS = join(import.meta.dirname, '../schemas');

// strictRequired off: the spec's "at least one of" rules are anyOf-of-required over declared properties.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
addFormats.default(ajv);
const jsonFeedSchema = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, 'jsonfeed-1.1.schema.json'), 'utf8')));

/** Problems the external validators find: xmllint (well-formedness), jing with the Atom schema, ajv with the JSON Feed schema. */
export function schemaProblems(format: 'rss' | 'atom' | 'json', body: string): string[] {
  if (format === 'json') {
    return jsonFeedSchema(JSON.parse(body)) ? [] : (jsonFeedSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'feedpub-validate-'));
  const file = join(dir, `feed.${format}.xml`);
  writeFileSync(file, body);
  try {
    execFileSync('xmllint', ['--noout', '--nonet', file], { stdio: 'pipe' });
    if (format === 'atom') execFileSync('jing', ['-c', join(SCHEMAS, 'atom.rnc'), file], { stdio: 'pipe' });
    return [];
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer; message: string };
    // Debian's jing wrapper warns about optional jars on stderr; only the validation errors matter.
    const output = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`.split('\n').filter((l) => l && !l.startsWith('[warning]'));
    return [output.join('\n') || e.message];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const isAbsoluteHttp = (url: unknown) => typeof url === 'string' && /^https?:\/\/[^/\s]+/.test(url);
const RFC822 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$/;
const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const TAG = /<\/?[a-z][a-z0-9]*(\s[^<>]*)?\/?>/i;

/** Numeric character references as well as the named ones `decode` knows, as a browser reads an attribute value. */
const decodeReferences = (s: string) =>
  decode(
    s.replace(/&#(x?)([0-9a-f]+);?/gi, (_, hex: string, digits: string) => {
      const code = Number.parseInt(digits, hex ? 16 : 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
    }),
  );

/** The elements of an HTML fragment with their attributes, values decoded. Text never matches: feeds carry HTML whose
 * text escapes "<" and whose attribute values escape quotes, so a "<" always opens a tag (text that merely reads
 * like markup, "onclick=" or "javascript:" in a sentence or a title attribute, is not an element or attribute). */
function elementsOf(html: string): { name: string; attributes: [string, string][] }[] {
  return [...html.matchAll(/<([a-z][^\s/>]*)([^<>]*)>/gi)].map(([, name, rest]) => ({
    name: name!.toLowerCase(),
    attributes: [...rest!.matchAll(/([^\s=/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)].map(
      ([, attribute, ...values]): [string, string] => [attribute!.toLowerCase(), decodeReferences(values.find((v) => v !== undefined) ?? '')],
    ),
  }));
}

/** What the W3C Feed Validator warns about in HTML content: scripts, event handlers, javascript: and relative URLs. */
function contentProblems(where: string, html: string): string[] {
  const problems: string[] = [];
  for (const { name, attributes } of elementsOf(html)) {
    if (['script', 'iframe', 'object', 'embed'].includes(name)) problems.push(`${where}: content contains a script or embedded object`);
    for (const [attribute, value] of attributes) {
      if (attribute.startsWith('on')) problems.push(`${where}: content has an event handler attribute`);
      if (/^[\s\u0000-\u001f]*javascript:/i.test(value)) problems.push(`${where}: content has a javascript: URL`);
      if ((attribute === 'href' || attribute === 'src') && !/^(https?:|mailto:)/.test(value)) problems.push(`${where}: relative or odd URL in content: ${value}`);
    }
  }
  return problems;
}

type Anyish = Record<string, any>;

/**
 * The W3C Feed Validator's rules that feeds like ours can break (https://validator.w3.org/feed/docs/): absolute
 * URLs, self links, content:encoded, RSS authors as email or dc:creator, guid isPermaLink="false" for ids that are
 * not URLs, RFC 822 and RFC 3339 dates, no script in content, no HTML in plain-text titles; and RFC 4287's
 * co-occurrence rules that a schema cannot express.
 */
export function lintProblems(format: 'rss' | 'atom' | 'json', body: string): string[] {
  const problems: string[] = [];
  const { feed } = parseFeed(body) as { feed: Anyish };
  if (format === 'rss') {
    if (!feed.title || !feed.description) problems.push('channel: title and description must not be empty');
    if (!isAbsoluteHttp(feed.link)) problems.push('channel: link must be an absolute URL');
    const self = /<atom:link href="([^"]+)" rel="self" type="application\/rss\+xml"\/>/.exec(body);
    if (!self || !isAbsoluteHttp(decode(self[1]!))) problems.push('channel: missing atom:link rel="self"');
    if (feed.lastBuildDate && !RFC822.test(feed.lastBuildDate)) problems.push(`channel: lastBuildDate not RFC 822: ${feed.lastBuildDate}`);
    if (/<item>[\s\S]*?<author>(?![^<]*@)/.test(body)) problems.push('item: <author> without an email address (use dc:creator)');
    for (const [i, item] of (feed.items ?? []).entries()) {
      const where = `item ${i}`;
      if (!isAbsoluteHttp(item.link)) problems.push(`${where}: link must be an absolute URL`);
      if (!item.guid?.value) problems.push(`${where}: missing guid`);
      else if (item.guid.isPermaLink !== false && !isAbsoluteHttp(item.guid.value)) problems.push(`${where}: guid is not a URL but isPermaLink is not false`);
      if (!RFC822.test(item.pubDate ?? '')) problems.push(`${where}: pubDate not RFC 822: ${item.pubDate}`);
      if (TAG.test(item.title ?? '')) problems.push(`${where}: HTML in the title`);
      if (!item.content?.encoded) problems.push(`${where}: missing content:encoded`);
      else problems.push(...contentProblems(where, item.content.encoded));
    }
  } else if (format === 'atom') {
    const links = (feed.links ?? []) as Anyish[];
    if (!links.some((l) => l.rel === 'self' && isAbsoluteHttp(l.href))) problems.push('feed: missing link rel="self"');
    const entries = (feed.entries ?? []) as Anyish[];
    if (!(feed.authors ?? []).length && !entries.every((e) => (e.authors ?? []).length)) problems.push('feed: no author on the feed nor on every entry (RFC 4287 4.1.1)');
    for (const [i, entry] of entries.entries()) {
      const where = `entry ${i}`;
      const alternates = ((entry.links ?? []) as Anyish[]).filter((l) => !l.rel || l.rel === 'alternate');
      if (alternates.length !== 1 || !isAbsoluteHttp(alternates[0]!.href)) problems.push(`${where}: needs one absolute alternate link`);
      if (TAG.test(decode(entry.title?.value ?? ''))) problems.push(`${where}: HTML in the title`);
      if (!entry.content?.value) problems.push(`${where}: missing content`);
      else problems.push(...contentProblems(where, entry.content.value));
    }
  } else {
    for (const [i, item] of (feed.items ?? []).entries()) {
      const where = `item ${i}`;
      if (!isAbsoluteHttp(item.url)) problems.push(`${where}: url must be an absolute URL`);
      if (TAG.test(item.title ?? '')) problems.push(`${where}: HTML in the title`);
      problems.push(...contentProblems(where, item.content_html ?? ''));
    }
  }
  return problems;
}

/** Every check above, for one feed file. */
export function feedProblems(format: 'rss' | 'atom' | 'json', body: string): string[] {
  return [...schemaProblems(format, body), ...lintProblems(format, body)];
}
