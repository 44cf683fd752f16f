import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../../lib/config.js';
import { FEED_FORMATS, FORMAT_NAMES, feedDirectory, feedsOf, feedId, type FeedRef } from '../../lib/feeds/feed-ref.js';
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
    for (const { PK: _pk, SK: _sk, ...post } of page.Items ?? []) posts.push(post as Post);
    start = page.LastEvaluatedKey;
  } while (start);
  return posts;
}

/** What a feed must hold: its posts, newest first (ties by id, as the index orders them), at most N. */
export function scratchFeed(ref: FeedRef, posts: Post[], config: FeedpubConfig): Post[] {
  const id = feedId(ref);
  return posts
    .filter((p) => feedsOf(p).some((r) => feedId(r) === id))
    .sort((a, b) => (a.date === b.date ? (a.id < b.id ? 1 : -1) : a.date < b.date ? 1 : -1))
    .slice(0, config.site.feedItems);
}

/**
 * Compares every format of a feed, as readers fetch it, with a from-scratch render of the stored posts.
 * Returns the differences (empty when equal). An empty feed is compared by its items only, since its date is
 * that of its last change.
 */
export async function feedDiffers(baseUrl: string, ref: FeedRef, posts: Post[], config: FeedpubConfig): Promise<string[]> {
  const expectedPosts = scratchFeed(ref, posts, config);
  const expected = renderFeed({ ref, posts: expectedPosts, emptySince: '1970-01-01T00:00:00.000Z' }, config.site);
  const problems: string[] = [];
  for (const format of FORMAT_NAMES) {
    const response = await fetch(`${baseUrl}/${feedDirectory(ref, encodeURIComponent)}/${FEED_FORMATS[format].file}`);
    const body = response.status === 200 ? await response.text() : '';
    if (expectedPosts.length === 0) {
      if (body && (format === 'json' ? JSON.parse(body).items.length : (body.match(/<(item|entry)>/g) ?? []).length) !== 0) problems.push(`${feedId(ref)} ${format}: should be empty`);
    } else if (body !== expected[format]) {
      problems.push(`${feedId(ref)} ${format}: ${response.status === 200 ? 'differs from a from-scratch render' : `HTTP ${response.status}`}`);
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
