import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { feedId, feedsOf, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { renderFeed } from '../../lib/feeds/render.js';
import type { Post } from '../../lib/posts/post.js';
import { buildRegeneration } from '../../lib/regen/build-regeneration.js';
import { createDocumentClient, createS3Client } from '../../lib/store/clients.js';
import { DynamoPostRepository } from '../../lib/store/dynamo-posts.js';
import { keys, SCHEMA_VERSION } from '../../lib/store/table.js';
import { inParallel } from '../lib/context.js';
import { generatePosts, type CorpusSample } from '../lib/generate.js';
import { printTable, summarize, type BenchStack } from '../lib/stack.js';
import { latencyChart } from '../lib/svg.js';

const TARGET: FeedRef = { kind: 'category', name: 'target' };
/** Posts of the target feed before the writes: with 50 kept and pages of 50, the 5th write seals a page. */
const TARGET_POSTS = 95;

/**
 * The cost of a write against posts stored: tables of 1,000, 10,000 and 100,000 posts (loaded straight through
 * BatchWriteItem: posts, index entries, the target category's current document), then, again and again, one post
 * written into that category (one transaction, as the API does) and the feed regenerated (inbox, current document,
 * archive pages sealed as it fills, three formats each, S3 writes). The category starts with the same 95 texts at
 * every size, so that only the size of the table differs.
 */
export async function flatness(stack: BenchStack, samples: CorpusSample[], quick: boolean) {
  const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
  const dynamo = new DynamoDBClient({});
  const doc = createDocumentClient(dynamo);
  const rows: { stored: number; loadSeconds: number; regenP50: number; regenP95: number; renderP50: number; ioP50: number }[] = [];
  for (const size of sizes) {
    const table = `stored-${size}-${Date.now().toString(36)}`;
    // Keys only: regenerating one category feed needs neither the stream nor the directory index.
    await dynamo.send(new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }] }));
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 60, minDelay: 1 }, { TableName: table });
    await doc.send(new PutCommand({ TableName: table, Item: { ...keys.schema, version: SCHEMA_VERSION } }));
    const loadStart = performance.now();
    await bulkLoad(doc, table, size, samples);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const config = { ...stack.config, tableName: table };
    const { regenerator } = buildRegeneration(config, doc, createS3Client());
    const posts = new DynamoPostRepository(doc, table);
    const total: number[] = [];
    for (let i = 0; i < (quick ? 10 : 30); i++) {
      const sample = samples[i % samples.length]!;
      const date = new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();
      // A write into the category, as the API makes it; then its feed regenerated.
      await posts.write(undefined, { id: `new-${size}-${i}`, title: `${sample.title}（新${i}）`, content: sample.body, summary: sample.title, date, updated: date, categories: ['target'], tags: [], authors: [], contentHash: `n${i}`, version: 1 });
      const t = performance.now();
      await regenerator.ensureRendered(TARGET);
      total.push(performance.now() - t);
    }
    const { posts: newest } = await posts.listFeed(feedId(TARGET), stack.config.site.feedItems);
    const render: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      renderFeed({ ref: TARGET, posts: newest, emptySince: newest[0]!.date }, config.site);
      render.push(performance.now() - t);
    }
    const t = summarize(total.slice(1));
    const r = summarize(render);
    rows.push({ stored: size, loadSeconds: Math.round(loadSeconds), regenP50: t.p50, regenP95: t.p95, renderP50: r.p50, ioP50: Math.round((t.p50 - r.p50) * 10) / 10 });
  }
  const ratio = Math.round((rows.at(-1)!.regenP50 / rows[0]!.regenP50) * 100) / 100;
  printTable('A write and its feed regenerated, against posts stored (ms; 3 formats, S3 writes)', rows.map((row) => ({ ...row, 'ratio to 1,000': (row.regenP50 / rows[0]!.regenP50).toFixed(2) })));
  writeFileSync(join(import.meta.dirname, '..', 'results', 'latency-vs-stored.svg'), latencyChart(rows));
  return { rows, ratio, target: 1.2 };
}

/** `size` posts and their index entries, 95 of them in category "target", the rest over 2,000 categories. */
async function bulkLoad(doc: ReturnType<typeof createDocumentClient>, table: string, size: number, samples: CorpusSample[]): Promise<void> {
  const generated = generatePosts(size, { samples, categories: 2_000, seed: size });
  const every = Math.floor(size / TARGET_POSTS);
  const items = generated.flatMap((g, i): Record<string, unknown>[] => {
    const target = i % every === 0 ? samples[(i / every) % samples.length]! : undefined;
    const p: Post = {
      id: g.id,
      title: target ? `${target.title}（${i}）` : g.title,
      content: target ? target.body : g.content,
      summary: g.title,
      date: g.date,
      updated: g.date,
      categories: target ? ['target'] : g.categories,
      tags: g.tags,
      authors: [],
      contentHash: g.id,
      version: 1,
    };
    // The target feed's posts are its current document's, 5 short of sealing its first archive page.
    const open = target ? [{ ...keys.openMember('c:target', p.id), id: p.id, date: p.date, w: 'bulk' }] : [];
    return [{ ...keys.post(p.id), ...p, w: 'bulk' }, ...feedsOf(p).map((ref) => ({ ...keys.entry(feedId(ref), p.date, p.id), postId: p.id, w: 'bulk' })), ...open];
  });
  items.push({ ...keys.feedRender('c:target'), count: TARGET_POSTS, pages: 0, objects: {} });
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await inParallel(batches, 16, async (batch) => {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [table]: batch.map((Item) => ({ PutRequest: { Item } })) };
    while (request && Object.keys(request).length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: request }));
      request = out.UnprocessedItems as typeof request;
    }
  });
}
