import { createHash } from 'node:crypto';
import type { Post } from '../posts/post.js';

/**
 * What the regenerator publishes from the table: feeds (the site, a category, a tag), a post's page, and the
 * directory of feeds (feeds/index.html and feeds/opml.xml).
 */
export type FeedKind = 'site' | 'category' | 'tag' | 'post' | 'directory';

export interface FeedRef {
  kind: FeedKind;
  /** Exact category or tag name, or the post id; empty for the site feed and the directory. */
  name: string;
}

export const SITE_FEED: FeedRef = { kind: 'site', name: '' };
export const DIRECTORY: FeedRef = { kind: 'directory', name: '' };

const KIND_PREFIX = { category: 'c:', tag: 't:', post: 'p:' } as const;

/** Stable identifier in the table: `site`, `dir`, `c:<name>`, `t:<name>` or `p:<post id>`. */
export function feedId(ref: FeedRef): string {
  if (ref.kind === 'site') return 'site';
  if (ref.kind === 'directory') return 'dir';
  return `${KIND_PREFIX[ref.kind]}${ref.name}`;
}

export function parseFeedId(id: string): FeedRef {
  if (id === 'site') return SITE_FEED;
  if (id === 'dir') return DIRECTORY;
  if (id.startsWith('c:')) return { kind: 'category', name: id.slice(2) };
  if (id.startsWith('t:')) return { kind: 'tag', name: id.slice(2) };
  if (id.startsWith('p:')) return { kind: 'post', name: id.slice(2) };
  throw new Error(`Not a feed id: ${id}`);
}

/** A syndication feed (three formats), as opposed to a page. */
export const isFeed = (ref: FeedRef) => ref.kind === 'site' || ref.kind === 'category' || ref.kind === 'tag';

const SEGMENT_MAX = 60;

/**
 * How a category or tag name becomes one path segment (docs/FEEDS.md):
 * - fold it: Unicode NFKC, lower case, every run of characters that are not letters or digits -> "-",
 *   no leading or trailing "-", at most 60 characters;
 * - a name that is already its own folded form ("emnews", "东财滚动新闻", "hong-kong") is used as is;
 * - any other name gets "_" and 8 hex digits of the SHA-256 of the exact name: "TechWeb" -> "techweb_…",
 *   "Techweb" -> "techweb_…" with other digits.
 * Folded names never contain "_" or upper case, so two names never share a segment, not even on a
 * case-insensitive file system, and a segment never changes once a name has one.
 */
export function pathSegment(name: string): string {
  const folded = [...name.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '')]
    .slice(0, SEGMENT_MAX)
    .join('')
    .replace(/-+$/, '');
  if (folded === name) return name;
  const digest = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
  return `${folded}_${digest}`;
}

export type FeedFormat = 'rss' | 'atom' | 'json';

export const FEED_FORMATS: Record<FeedFormat, { file: string; contentType: string }> = {
  rss: { file: 'rss.xml', contentType: 'application/rss+xml; charset=utf-8' },
  atom: { file: 'atom.xml', contentType: 'application/atom+xml; charset=utf-8' },
  json: { file: 'feed.json', contentType: 'application/feed+json; charset=utf-8' },
};

export const FORMAT_NAMES = Object.keys(FEED_FORMATS) as FeedFormat[];

/** The S3 key prefix of a feed; its three files sit below it. */
export function feedDirectory(ref: FeedRef, encode: (segment: string) => string = (s) => s): string {
  if (ref.kind === 'site') return 'feeds';
  return `feeds/${ref.kind === 'category' ? 'categories' : 'tags'}/${encode(pathSegment(ref.name))}`;
}

export function feedKey(ref: FeedRef, format: FeedFormat): string {
  return `${feedDirectory(ref)}/${FEED_FORMATS[format].file}`;
}

export function feedUrl(ref: FeedRef, format: FeedFormat, feedsUrl: string): string {
  return `${feedsUrl}/${feedDirectory(ref, encodeURIComponent)}/${FEED_FORMATS[format].file}`;
}

export function feedUrls(ref: FeedRef, feedsUrl: string): Record<FeedFormat, string> {
  return { rss: feedUrl(ref, 'rss', feedsUrl), atom: feedUrl(ref, 'atom', feedsUrl), json: feedUrl(ref, 'json', feedsUrl) };
}

/** Archive page `page` (1 the oldest) of a feed: `feeds/…/archive/<page>/rss.xml`, and the other two formats. */
export function archiveKey(ref: FeedRef, page: number, format: FeedFormat): string {
  return `${feedDirectory(ref)}/archive/${page}/${FEED_FORMATS[format].file}`;
}

export function archiveUrls(ref: FeedRef, page: number, feedsUrl: string): Record<FeedFormat, string> {
  const url = (format: FeedFormat) => `${feedsUrl}/${feedDirectory(ref, encodeURIComponent)}/archive/${page}/${FEED_FORMATS[format].file}`;
  return { rss: url('rss'), atom: url('atom'), json: url('json') };
}

/** The feeds a post appears in: the site feed, one per category, one per tag. */
export function feedsOf(post: Pick<Post, 'categories' | 'tags'>): FeedRef[] {
  return [
    SITE_FEED,
    ...post.categories.map((name): FeedRef => ({ kind: 'category', name })),
    ...post.tags.map((name): FeedRef => ({ kind: 'tag', name })),
  ];
}

/** The feeds that show a post now: those of feedsOf once it is published, none while it is scheduled. */
export function feedsShowing(post: Pick<Post, 'categories' | 'tags' | 'status'>): FeedRef[] {
  return post.status === 'scheduled' ? [] : feedsOf(post);
}

/** How a write changes a feed's membership: the post joins it, stays in it (edited), or leaves it. */
export type FeedChange = 'join' | 'stay' | 'leave';

/**
 * The feeds a write touches (the site, categories and tags the post leaves, joins or stays in), each with how its
 * membership changes; a scheduled post is in none, so its publication joins them all. A post's page and the directory follow from the post and the feeds, not from this list.
 */
export function feedChanges(before: Post | undefined, after: Post | undefined): Map<string, { ref: FeedRef; change: FeedChange }> {
  const was = new Map((before ? feedsShowing(before) : []).map((ref) => [feedId(ref), ref]));
  const is = new Map((after ? feedsShowing(after) : []).map((ref) => [feedId(ref), ref]));
  const changes = new Map<string, { ref: FeedRef; change: FeedChange }>();
  for (const [id, ref] of was) changes.set(id, { ref, change: is.has(id) ? 'stay' : 'leave' });
  for (const [id, ref] of is) if (!was.has(id)) changes.set(id, { ref, change: 'join' });
  return changes;
}

export const postPageKey = (id: string) => `posts/${id}.html`;
export const DIRECTORY_KEYS = { index: 'feeds/index.html', opml: 'feeds/opml.xml' } as const;
