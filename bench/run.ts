import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { mapSettled } from '../lib/concurrency.js';
import { feedId, feedsOf, SITE_FEED, type FeedRef } from '../lib/feeds/feed-ref.js';
import { renderFeed } from '../lib/feeds/render.js';
import type { Post } from '../lib/posts/post.js';
import { buildRegeneration } from '../lib/regen/build-regeneration.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';
import { DIRECTORY_INDEX, keys } from '../lib/store/table.js';
import { corpusSamples, generatePosts, type GeneratedPost } from './lib/generate.js';
import { delta, meters, quiet } from './lib/meters.js';
import { publishAndWatch, type BenchPost } from './lib/publish.js';
import { printTable, startBenchStack, summarize } from './lib/stack.js';
import { latencyChart } from './lib/svg.js';

/**
 * The benchmark of issue 5, against the local stack (DynamoDB Local, s3rver, the same handlers), after a warm-up
 * of 1,000 posts: publish-to-visible latency with 1 and 16 publishers, sustained rate, cost per post and per burst
 * (100 single POSTs from 16 publishers, and one batch request of 100), regeneration
 * time against posts stored, render against I/O, a from-scratch rebuild baseline, and the Lambda bundles.
 * Prints tables; writes bench/results.json and bench/results/latency-vs-stored.svg.
 * Usage: npm run bench [-- --quick]
 */
const quick = process.argv.includes('--quick');
const SIZES = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000];
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));
const samples = corpusSamples(corpus);
const results: Record<string, unknown> = { benchmark: 'feedpub', command: `npm run bench${quick ? ' -- --quick' : ''}`, date: new Date().toISOString(), node: process.version };

const m = meters();
const stack = await startBenchStack({ FEEDPUB_FEED_ITEMS: '50' }, m.wrap);
const { url } = stack.feedpub;
const feedsUrl = stack.config.site.feedsUrl;
const post = (i: number, g: GeneratedPost) => ({ title: `${g.title} #${i}-${Date.now()}`, content: g.content, categories: g.categories, tags: g.tags });
const generated = generatePosts(2_000, { samples, categories: 2_000, seed: 7 });

/** Sends a burst of posts, then measures until every S3 write it caused is done: time, cost and renders. */
async function measureBurst(posts: BenchPost[], sendAll: () => Promise<unknown>) {
  const start = performance.now();
  const before = m.snapshot();
  await sendAll();
  const accepted = performance.now() - start;
  const fullyWritten = (await quiet(m)) - start;
  const cost = delta(m.snapshot(), before);
  const touched = new Set(posts.flatMap((p) => feedsOf(p).map(feedId)));
  const n = posts.length;
  return {
    acceptedMs: Math.round(accepted),
    feedsWrittenMs: Math.round(m.lastFeedWrite() - start),
    fullyWrittenMs: Math.round(fullyWritten),
    postsPerSecond: Math.round(n / (accepted / 1000)),
    feedsTouched: touched.size,
    maxRendersPerFeed: Math.max(...[...touched].map((id) => cost.renders.get(id) ?? 0)),
    siteFeedRenders: cost.renders.get(feedId(SITE_FEED)) ?? 0,
    rcuPerPost: cost.rcu / n,
    wcuPerPost: cost.wcu / n,
    s3PutsPerPost: cost.puts / n,
    s3BytesPerPost: Math.round(cost.bytes / n),
    rendersPerPost: [...cost.renders.values()].reduce((a, b) => a + b, 0) / n,
  };
}

const send = (path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
    if (r.status >= 300) throw new Error(`${path} answered ${r.status}: ${await r.text()}`);
    return r.json() as Promise<{ results?: { status: number }[] }>;
  });

try {
  // 0. Warm-up: a site in service has full feeds, and DynamoDB Local's JIT has compiled its hot paths by then.
  const warmUp = quick ? 300 : 1_000;
  for (let i = 0; i < warmUp; i += 50) {
    await send('/posts/batch', { posts: Array.from({ length: 50 }, (_, k) => ({ id: `warm-${i + k}`, ...post(50_000 + i + k, generated[(i + k) % generated.length]!) })) });
  }
  await quiet(m);
  results.warmUp = { posts: warmUp };

  // 1. Publish-to-visible latency, one publisher, then 16 at once.
  const latency = async (publishers: number, perPublisher: number) => {
    const samplesMs: number[] = [];
    let n = 0;
    await mapSettled(Array.from({ length: publishers }, (_, p) => p), publishers, async () => {
      for (let k = 0; k < perPublisher; k++) {
        const i = n++;
        samplesMs.push((await publishAndWatch(url, stack.key, feedsUrl, post(i, generated[i % generated.length]!))).visibleMs);
      }
    });
    return summarize(samplesMs);
  };
  await latency(1, 5); // warm-up
  const one = await latency(1, quick ? 40 : 100);
  const sixteen = await latency(16, quick ? 4 : 8);
  await quiet(m);
  results.latency = { onePublisher: one, sixteenPublishers: sixteen };
  printTable('Publish to visible: answer until all 3 formats of every touched feed (3 feeds) show the post (ms)', [
    { publishers: 1, ...one, target: 'p99 <= 150' },
    { publishers: 16, ...sixteen, target: '-' },
  ]);

  // 2. Cost of one post, then of a burst of 100 where regenerations coalesce.
  const before = m.snapshot();
  await publishAndWatch(url, stack.key, feedsUrl, post(9_000, generated[1]!));
  await quiet(m);
  const single = delta(m.snapshot(), before);
  const burstPosts = Array.from({ length: 100 }, (_, i) => post(10_000 + i, generated[(i * 13) % generated.length]!));
  const burst = await measureBurst(burstPosts, () => mapSettled(burstPosts, 16, (p) => send('/posts', p)));
  const perPost = { rcu: single.rcu, wcu: single.wcu, s3Puts: single.puts, s3Bytes: single.bytes, renders: [...single.renders.values()].reduce((a, b) => a + b, 0) };
  results.cost = { perPost, burstOf100: burst };
  printTable('Cost per post (DynamoDB capacity units as DynamoDB Local reports them; S3 through the real client)', [
    { case: 'one post alone', RCU: single.rcu, WCU: single.wcu, 'S3 PUTs': single.puts, 'S3 bytes': single.bytes, renders: perPost.renders },
    { case: 'per post, in a burst of 100 (16 at once)', RCU: burst.rcuPerPost, WCU: burst.wcuPerPost, 'S3 PUTs': burst.s3PutsPerPost, 'S3 bytes': burst.s3BytesPerPost, renders: burst.rendersPerPost.toFixed(2) },
  ]);
  printTable('Burst of 100 posts, 16 publishers', [
    { accepted_ms: burst.acceptedMs, 'posts/s': burst.postsPerSecond, 'every feed shows all (ms)': burst.feedsWrittenMs, target: '<= 2000', 'pages and all written (ms)': burst.fullyWrittenMs, 'feeds touched': burst.feedsTouched, 'max renders of one feed': burst.maxRendersPerFeed, 'site feed renders': burst.siteFeedRenders },
  ]);

  // 2b. The same burst as a bot can send it: one POST /posts/batch of 100 posts.
  const batchPosts = Array.from({ length: 100 }, (_, i) => ({ id: `burst-${i}`, ...post(30_000 + i, generated[(i * 17 + 5) % generated.length]!) }));
  const batch = await measureBurst(batchPosts, async () => {
    const answer = await send('/posts/batch', { posts: batchPosts });
    if (answer.results?.some((r) => r.status !== 201)) throw new Error('the batch burst was not stored whole');
  });
  results.batchBurstOf100 = batch;
  printTable('Burst of 100 posts as one POST /posts/batch', [
    { accepted_ms: batch.acceptedMs, 'every feed shows all (ms)': batch.feedsWrittenMs, target: '<= 2000', 'pages and all written (ms)': batch.fullyWrittenMs, 'feeds touched': batch.feedsTouched, 'max renders of one feed': batch.maxRendersPerFeed, 'RCU/post': batch.rcuPerPost, 'WCU/post': batch.wcuPerPost, 'S3 PUTs/post': batch.s3PutsPerPost, 'S3 bytes/post': batch.s3BytesPerPost },
  ]);

  // 3. Sustained rate: 16 publishers, as fast as the API accepts.
  const sustainedCount = quick ? 200 : 400;
  const sStart = performance.now();
  await mapSettled(Array.from({ length: sustainedCount }, (_, i) => post(20_000 + i, generated[i % generated.length]!)), 16, (p) => send('/posts', p));
  const sAccepted = performance.now() - sStart;
  const sWritten = (await quiet(m)) - sStart;
  results.sustained = { posts: sustainedCount, postsPerSecond: Math.round(sustainedCount / (sAccepted / 1000)), allFeedsWrittenSeconds: Math.round(sWritten) / 1000 };
  printTable('Sustained publishing, 16 publishers', [{ posts: sustainedCount, 'accepted posts/s': (results.sustained as any).postsPerSecond, 'all feeds written (s)': (results.sustained as any).allFeedsWrittenSeconds }]);

  // 4. Regeneration of one feed against posts stored, render against I/O; and a from-scratch rebuild baseline.
  await stack.feedpub.poller.stop();
  const dynamo = new DynamoDBClient({});
  const doc = createDocumentClient(dynamo);
  const flat: Record<string, unknown>[] = [];
  for (const size of SIZES) {
    const table = `stored-${size}`;
    // Keys only: regenerating one category feed needs neither the stream nor the directory index, and DynamoDB
    // Local loads a bare table several times faster.
    await dynamo.send(new CreateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }] }));
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 60, minDelay: 1 }, { TableName: table });
    const loadStart = performance.now();
    await bulkLoad(doc, table, size);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const config = { ...stack.config, tableName: table };
    const { regenerator, state } = buildRegeneration(config, doc, createS3Client());
    const target: FeedRef = { kind: 'category', name: 'target' };
    const total: number[] = [];
    for (let i = 0; i < (quick ? 10 : 20); i++) {
      await state.invalidate(feedId(target));
      const t = performance.now();
      await regenerator.ensureCurrent(target);
      total.push(performance.now() - t);
    }
    const posts = (await new (await import('../lib/store/dynamo-posts.js')).DynamoPostRepository(doc, table).listFeed('c:target', 50)).posts;
    const render: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      renderFeed({ ref: target, posts, emptySince: posts[0]!.date }, config.site);
      render.push(performance.now() - t);
    }
    const t = summarize(total);
    const r = summarize(render);
    flat.push({ stored: size, loadSeconds: Math.round(loadSeconds), regenP50: t.p50, regenP95: t.p95, renderP50: r.p50, ioP50: Math.round((t.p50 - r.p50) * 10) / 10 });
  }
  results.regenerationVsStored = flat;
  const first = flat[0] as { regenP50: number };
  const last = flat.at(-1) as { regenP50: number; stored: number };
  results.flatness = { ratio: Math.round((last.regenP50 / first.regenP50) * 100) / 100, target: 1.2 };
  printTable('Regenerating one 50-item feed (3 formats, S3 writes) against posts stored (ms)', flat.map((row) => ({ ...row, 'ratio to 1,000': (Number(row.regenP50) / first.regenP50).toFixed(2) })));
  writeFileSync(join(import.meta.dirname, 'results', 'latency-vs-stored.svg'), latencyChart(flat as any));

  // Baseline: a static site generator rebuilds every feed on each change. Rebuild every feed of the bench's own
  // table (the posts published above, over up to 2,000 categories).
  const { regenerator: baselineRegenerator, state: baselineState } = buildRegeneration(stack.config, doc, createS3Client());
  const listed = await baselineState.listFeeds();
  const allFeeds = listed.map((f) => f.feedId);
  const storedPosts = listed.find((f) => f.feedId === 'site')?.count ?? 0;
  for (const id of allFeeds) await baselineState.invalidate(id);
  const bStart = performance.now();
  await mapSettled(allFeeds, 8, async (id) => baselineRegenerator.ensureCurrent((await import('../lib/feeds/feed-ref.js')).parseFeedId(id)));
  const rebuildMs = performance.now() - bStart;
  const incrementalMs = Number(flat[0]!.regenP50) * 3;
  results.baseline = { feeds: allFeeds.length, posts: storedPosts, fullRebuildMs: Math.round(rebuildMs), incrementalMs: Math.round(incrementalMs), ratio: Math.round(rebuildMs / incrementalMs) };
  printTable(`A change: every feed rebuilt from scratch (as a static site generator does) against feedpub's 3 feeds`, [
    { store: `${storedPosts} posts`, feeds: allFeeds.length, 'full rebuild (ms)': Math.round(rebuildMs), 'feedpub, 3 feeds (ms)': Math.round(incrementalMs), ratio: (results.baseline as any).ratio },
  ]);
} finally {
  await stack.stop();
}

// 5. The Lambda bundles: size and cold import (bench/bundles.ts).
spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bundles.ts'), quick ? '5' : '10'], { stdio: 'inherit' });
const bundles = join(import.meta.dirname, 'results', 'bundles.json');
if (existsSync(bundles)) results.bundles = JSON.parse(readFileSync(bundles, 'utf8')).bundles;

mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write('\nwrote bench/results.json and bench/results/latency-vs-stored.svg\n');
process.exit(0);

/**
 * Fills a table with `size` posts straight through BatchWriteItem (posts and their index entries, no feed
 * revisions, so nothing regenerates): 60 of them in category "target", the rest spread over 2,000 categories.
 */
async function bulkLoad(doc: ReturnType<typeof createDocumentClient>, table: string, size: number): Promise<void> {
  const posts = generatePosts(size, { samples, categories: 2_000, seed: size });
  const every = Math.floor(size / 60);
  const items = posts.flatMap((g, i): Record<string, unknown>[] => {
    // The target feed holds the same 60 texts at every size, so that only the size of the table differs.
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
    return [{ ...keys.post(p.id), ...p }, ...feedsOf(p).map((ref) => ({ ...keys.entry(feedId(ref), p.date, p.id), postId: p.id }))];
  });
  const revs = new Map<string, number>();
  for (const item of items) if (String(item.SK).startsWith('E#')) revs.set(String(item.PK), (revs.get(String(item.PK)) ?? 0) + 1);
  for (const [pk, count] of revs) items.push({ PK: pk, SK: 'REV', rev: 1, count, changedAt: new Date().toISOString(), [DIRECTORY_INDEX.partitionKey]: DIRECTORY_INDEX.partition });
  const batches = Array.from({ length: Math.ceil(items.length / 25) }, (_, i) => items.slice(i * 25, i * 25 + 25));
  await mapSettled(batches, 16, async (batch) => {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [table]: batch.map((Item) => ({ PutRequest: { Item } })) };
    while (request && Object.keys(request).length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: request }));
      request = out.UnprocessedItems as typeof request;
    }
  });
}
