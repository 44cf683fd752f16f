import { parseFeed as parseWithRowanmanning } from '@rowanmanning/feed-parser';
import { parseFeed as parseWithFeedsmith } from 'feedsmith';
import { SaxesParser } from 'saxes';
import { expect } from 'vitest';

/** What a feed reader takes from an item, the same whichever format and parser it came through. */
export interface ReaderItem {
  id: string;
  title: string;
  link: string;
  published: string;
  categories: string[];
  content: string;
}

export interface ReaderFeed {
  title: string;
  items: ReaderItem[];
}

export type FeedSet = Record<'rss' | 'atom' | 'json', ReaderFeed>;

const FILES = { rss: 'rss.xml', atom: 'atom.xml', json: 'feed.json' } as const;

/** Strict XML 1.0 well-formedness (saxes), stricter than any feed parser. */
export function assertWellFormedXml(xml: string): void {
  const parser = new SaxesParser({ xmlns: true });
  parser.on('error', (error) => {
    throw new Error(`not well-formed XML: ${error.message}`);
  });
  parser.write(xml).close();
}

const decodeEntities = (s: string) =>
  s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : '');

type Anyish = Record<string, any>;

function viaRowanmanning(xml: string): ReaderFeed {
  const feed = parseWithRowanmanning(xml);
  return {
    title: feed.title ?? '',
    items: feed.items.map((item) => ({
      id: item.id ?? '',
      title: item.title ?? '',
      link: item.url ?? '',
      published: iso(item.published),
      categories: item.categories.map((c) => c.label ?? c.term),
      content: item.content ?? '',
    })),
  };
}

function viaFeedsmith(text: string): ReaderFeed {
  const { format, feed } = parseWithFeedsmith(text) as { format: string; feed: Anyish };
  if (format === 'rss') {
    return {
      title: feed.title,
      items: (feed.items ?? []).map((i: Anyish) => ({
        id: i.guid?.value ?? '',
        title: i.title ?? '',
        link: i.link ?? '',
        published: iso(i.pubDate),
        categories: (i.categories ?? []).map((c: Anyish) => c.name),
        content: i.content?.encoded ?? '',
      })),
    };
  }
  if (format === 'atom') {
    const text = (t: Anyish | undefined) => (t?.type === 'html' ? decodeEntities(t.value ?? '') : (t?.value ?? ''));
    return {
      title: text(feed.title),
      items: (feed.entries ?? []).map((e: Anyish) => ({
        id: e.id,
        title: text(e.title),
        link: e.links?.[0]?.href ?? '',
        published: iso(e.published),
        categories: (e.categories ?? []).map((c: Anyish) => c.label ?? c.term),
        content: e.content?.value ?? '',
      })),
    };
  }
  expect(format).toBe('json');
  return {
    title: feed.title,
    items: (feed.items ?? []).map((i: Anyish) => ({
      id: i.id,
      title: i.title ?? '',
      link: i.url ?? '',
      published: iso(i.date_published),
      categories: i.tags ?? [],
      content: i.content_html ?? '',
    })),
  };
}

/** Reads a feed the way two independent readers would, and insists they agree. */
export function readFeed(format: keyof FeedSet, body: string): ReaderFeed {
  if (format === 'json') {
    const raw = JSON.parse(body) as Anyish;
    expect(raw.version).toBe('https://jsonfeed.org/version/1.1');
    return viaFeedsmith(body);
  }
  assertWellFormedXml(body);
  const a = viaRowanmanning(body);
  const b = viaFeedsmith(body);
  // The lenient parser trims, and decodes character references inside HTML content a second time ("&lt;" in a
  // post's HTML becomes "<"); the strict one keeps both as they are. Both must see the same items.
  const norm = (f: ReaderFeed) => ({ ...f, items: f.items.map((i) => ({ ...i, content: decodeEntities(i.content.trim()) })) });
  expect(norm(a)).toEqual(norm(b));
  return b;
}

export interface FetchedFeed {
  status: number;
  headers: Headers;
  body: string;
}

export async function fetchFeedFile(baseUrl: string, dir: string, format: keyof FeedSet): Promise<FetchedFeed> {
  const response = await fetch(`${baseUrl}/${dir}/${FILES[format]}`);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** All three formats of one feed, as readers see them; undefined while any is missing. */
export async function fetchFeedSet(baseUrl: string, dir: string): Promise<FeedSet | undefined> {
  const files = await Promise.all((['rss', 'atom', 'json'] as const).map((f) => fetchFeedFile(baseUrl, dir, f)));
  if (files.some((f) => f.status === 404)) return undefined;
  for (const f of files) expect(f.status).toBe(200);
  return { rss: readFeed('rss', files[0]!.body), atom: readFeed('atom', files[1]!.body), json: readFeed('json', files[2]!.body) };
}

/**
 * Polls one feed until all three formats satisfy `check`. The promise publishers are given is that every touched
 * feed shows a write within a second of the answer: pass `deadline` as the answer's time plus a second, the same
 * for every feed of that write (a number is an absolute Date.now() deadline; default: a second from now).
 */
export async function waitForFeedSet(baseUrl: string, dir: string, check: (feed: ReaderFeed) => boolean, deadline: number | { timeoutMs: number } = { timeoutMs: 1000 }): Promise<FeedSet> {
  const until = typeof deadline === 'number' ? deadline : Date.now() + deadline.timeoutMs;
  let last: FeedSet | undefined;
  for (;;) {
    last = await fetchFeedSet(baseUrl, dir);
    if (last && check(last.rss) && check(last.atom) && check(last.json)) return last;
    if (Date.now() > until) {
      throw new Error(`feed ${dir} did not reach the expected state by its deadline (${Date.now() - until} ms late); last seen: ${JSON.stringify(last, null, 1)?.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The deadline of the one-second promise for a write answered now. */
export const withinASecond = () => Date.now() + 1000;

export const titles = (feed: ReaderFeed) => feed.items.map((i) => i.title);

/** What a reader shows about a feed itself: its title, the site it links to, its language, and its author. */
export interface FeedHead {
  title: string;
  link: string;
  language: string;
  /** RSS names none for the feed (its <managingEditor> wants an email address). */
  author?: string;
}

/** The attributes of an XML document's root element, read by a strict parser. */
function rootAttributes(xml: string): Record<string, string> {
  const parser = new SaxesParser();
  let root: Record<string, string> | undefined;
  parser.on('opentag', (tag) => {
    root ??= Object.fromEntries(Object.entries(tag.attributes).map(([name, value]) => [name, String(value)]));
  });
  parser.write(xml).close();
  return root ?? {};
}

export function readFeedHead(format: keyof FeedSet, body: string): FeedHead {
  const { feed } = parseWithFeedsmith(body) as { feed: Anyish };
  if (format === 'rss') return { title: feed.title, link: feed.link, language: feed.language };
  if (format === 'atom') {
    return { title: feed.title?.value, link: feed.links?.find((l: Anyish) => l.rel === 'alternate')?.href, language: rootAttributes(body)['xml:lang'] ?? '', author: feed.authors?.[0]?.name };
  }
  return { title: feed.title, link: feed.home_page_url, language: feed.language, author: feed.authors?.[0]?.name };
}

/** The head of each format of a feed, as served. */
export async function fetchFeedHeads(baseUrl: string, dir: string): Promise<Record<keyof FeedSet, FeedHead>> {
  const [rss, atom, json] = await Promise.all((['rss', 'atom', 'json'] as const).map(async (format) => readFeedHead(format, (await fetchFeedFile(baseUrl, dir, format)).body)));
  return { rss: rss!, atom: atom!, json: json! };
}
