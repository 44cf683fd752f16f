import { parseFeedId } from '../../lib/feeds/feed-ref.js';
import { renderFeedDocument } from '../../lib/regen/documents.js';
import { createDocumentClient, createS3Client } from '../../lib/store/clients.js';
import { DynamoFeedStateRepository } from '../../lib/store/dynamo-feed-state.js';
import { DynamoPostRepository } from '../../lib/store/dynamo-posts.js';
import { S3FeedStore } from '../../lib/store/s3-feed-store.js';
import { inParallel } from '../lib/context.js';
import { printTable, type BenchStack } from '../lib/stack.js';

/**
 * What a static site generator does on every change, against what feedpub does: every feed of the bench's site
 * rebuilt from the table (its newest posts read, three formats rendered and written, 8 at a time), timed; beside
 * feedpub's regeneration of the 3 feeds a post touches (from the flatness section, 1,000 posts stored).
 */
export async function baseline(stack: BenchStack, incrementalOneFeedMs: number) {
  const doc = createDocumentClient();
  const { tableName, bucketName, site } = stack.config;
  const feeds = await new DynamoFeedStateRepository(doc, tableName).listFeeds();
  const posts = new DynamoPostRepository(doc, tableName, 0);
  const store = new S3FeedStore(createS3Client(), bucketName);
  const started = performance.now();
  await inParallel(feeds, 8, async ({ feedId }) => {
    const ref = parseFeedId(feedId);
    const { posts: newest } = await posts.listFeed(feedId, site.feedItems);
    for (const file of renderFeedDocument(ref, newest, newest[0]?.date ?? '1970-01-01T00:00:00.000Z', site).files) await store.put(file.key, file.body, file.contentType);
  });
  const rebuildMs = performance.now() - started;
  const stored = feeds.find((f) => f.feedId === 'site')?.count ?? 0;
  const incrementalMs = incrementalOneFeedMs * 3;
  const result = { feeds: feeds.length, posts: stored, fullRebuildMs: Math.round(rebuildMs), feedpubThreeFeedsMs: Math.round(incrementalMs), ratio: Math.round(rebuildMs / incrementalMs) };
  printTable('A change: every feed rebuilt (as a static site generator does) against feedpub regenerating the 3 it touches', [result]);
  return result;
}
