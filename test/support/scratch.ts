import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../../lib/config.js';
import { newestFirst } from '../../lib/feeds/archive.js';
import { archiveUrls, FORMAT_NAMES, feedId, feedsShowing, feedUrls, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { renderFeed } from '../../lib/feeds/render.js';
import type { Post } from '../../lib/posts/post.js';
import { createDocumentClient } from '../../lib/store/clients.js';

/** Every stored post, read straight from the table with a Scan: the truth, independent of any feed index. */
export async function scanPosts(tableName: string): Promise<Post[]> {
  const doc = createDocumentClient();
  const posts: Post[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new ScanCommand({ TableName: tableName, FilterExpression: 'SK = :post', ExpressionAttributeValues: { ':post': 'POST' }, ConsistentRead: true, ExclusiveStartKey: start }));
    for (const { PK: _pk, SK: _sk, w: _w, ...post } of page.Items ?? []) posts.push(post as Post);
    start = page.LastEvaluatedKey;
  } while (start);
  return posts;
}

/** The stored posts a feed must hold, across its current document and its archive pages. */
export function postsOfFeed(ref: FeedRef, posts: Post[]): Post[] {
  return posts.filter((p) => feedsShowing(p).some((r) => feedId(r) === feedId(ref)));
}

/** The documents of a feed as a reader walks them: the current one, then each archive page back through prev-archive. */
export async function walkArchive(baseUrl: string, ref: FeedRef, config: FeedpubConfig): Promise<{ page?: number; ids: string[] }[] | undefined> {
  const local = (url: string) => url.replace(config.site.feedsUrl, baseUrl);
  const idOf = (itemId: string) => itemId.slice(itemId.lastIndexOf(':') + 1);
  const documents: { page?: number; ids: string[] }[] = [];
  let url: string | undefined = local(feedUrls(ref, config.site.feedsUrl).json);
  while (url) {
    const response = await fetch(url);
    if (response.status !== 200) return documents.length === 0 && response.status === 404 ? undefined : [...documents, { page: -1, ids: [] }];
    const json = (await response.json()) as { items: { id: string }[]; next_url?: string };
    const page = /\/archive\/(\d+)\//.exec(url)?.[1];
    documents.push({ ...(page ? { page: Number(page) } : {}), ids: json.items.map((i) => idOf(i.id)) });
    url = json.next_url ? local(json.next_url) : undefined;
  }
  return documents;
}

/**
 * Compares a feed, as readers walk it (current document, then every archive page), with the stored posts:
 * every post of the feed appears exactly once across its documents, the current document keeps its newest
 * `feedItems` at least and fewer than `feedItems + archivePageSize`, and every document, in every format, is byte
 * for byte a from-scratch render of the posts it holds. Returns the differences (empty when equal).
 */
export async function feedDiffers(baseUrl: string, ref: FeedRef, posts: Post[], config: FeedpubConfig): Promise<string[]> {
  const id = feedId(ref);
  const expected = postsOfFeed(ref, posts);
  const documents = (await walkArchive(baseUrl, ref, config)) ?? [];
  const problems: string[] = [];
  const seen = documents.flatMap((d) => d.ids);
  const byId = new Map(posts.map((p) => [p.id, p]));
  if (documents.some((d) => d.page === -1)) problems.push(`${id}: an archive page it links to is missing`);
  const missing = expected.filter((p) => !seen.includes(p.id)).map((p) => p.id);
  const extra = seen.filter((s) => !expected.some((p) => p.id === s));
  const twice = seen.filter((s, i) => seen.indexOf(s) !== i);
  if (missing.length > 0) problems.push(`${id}: missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  if (extra.length > 0) problems.push(`${id}: holds posts not in it: ${extra.slice(0, 5).join(', ')}`);
  if (twice.length > 0) problems.push(`${id}: holds posts twice: ${twice.slice(0, 5).join(', ')}`);
  const [current, ...pages] = documents;
  const { feedItems } = config.site;
  if (current && (current.ids.length >= feedItems + config.archivePageSize || (pages.length === 0 && current.ids.length !== expected.length))) {
    problems.push(`${id}: the current document holds ${current.ids.length} of ${expected.length} posts, with ${pages.length} archive pages`);
  }
  if (problems.length > 0) return problems;
  for (const document of documents) {
    const held = document.ids.map((postId) => byId.get(postId)!).sort((a, b) => newestFirst({ id: a.id, date: a.date, w: '' }, { id: b.id, date: b.date, w: '' }));
    if (held.length === 0) continue;
    const rendered = renderFeed({ ref, posts: held, emptySince: '1970-01-01T00:00:00.000Z', archive: document.page ? { pages: 0, page: document.page } : { pages: pages.length } }, config.site);
    for (const format of FORMAT_NAMES) {
      const url = (document.page ? archiveUrls(ref, document.page, config.site.feedsUrl) : feedUrls(ref, config.site.feedsUrl))[format].replace(config.site.feedsUrl, baseUrl);
      const response = await fetch(url);
      const body = response.status === 200 ? await response.text() : '';
      if (body !== rendered[format]) problems.push(`${id} ${document.page ? `page ${document.page}` : 'current'} ${format}: ${response.status === 200 ? 'differs from a from-scratch render' : `HTTP ${response.status}`}`);
    }
  }
  return problems;
}

/** Waits until every feed equals its from-scratch render; returns what still differs at the deadline. */
export async function converge(baseUrl: string, refs: FeedRef[], config: FeedpubConfig, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const posts = await scanPosts(config.tableName);
    const problems = (await Promise.all(refs.map((ref) => feedDiffers(baseUrl, ref, posts, config)))).flat();
    if (problems.length === 0 || Date.now() > deadline) return problems;
    await new Promise((r) => setTimeout(r, 200));
  }
}
