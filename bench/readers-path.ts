/**
 * Where a quiet post's time to visible goes. One stack, one publisher, posts one after the other (as the latency
 * section sends them); each post is watched one of three ways, the ways taken in turn, so that the machine's
 * changing speed falls on all three alike:
 *   - front, every 10 ms: the readers poll through the local front, as `npm run bench` measures;
 *   - origin, every 10 ms: the readers poll the bucket's server (s3rver) directly. In AWS the front is
 *     CloudFront, not a thread of feedpub's process, so this is the local stand-in's share;
 *   - front, every 50 ms: a fifth of the polls, and up to 40 ms more before a reader notices.
 * For every post, the render side too: from the answer until the last PUT of its nine documents was answered
 * (the meters on feedpub's own S3 client). What is left, from that PUT to the reader's first GET that holds the
 * post, is serving and polling.
 *
 *   npm run bench:readers [-- posts per way, default 120] [-- --store memory]   (writes bench/results/readers-path.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { feedsOf } from '../lib/feeds/feed-ref.js';
import { benchPost } from './lib/context.js';
import { corpusSamples, generatePosts } from './lib/generate.js';
import { meters } from './lib/meters.js';
import { documentUrls, keyOfUrl, publishAndWatch } from './lib/publish.js';
import { printTable, startBenchStack, STORE_NAMES, summarize, type BenchStore } from './lib/stack.js';

const perWay = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 120);
const store: BenchStore = process.argv.includes('--store') ? (process.argv[process.argv.indexOf('--store') + 1] as BenchStore) : 'dynamodb-local';
if (!(store in STORE_NAMES)) throw new Error(`--store: ${store} is not dynamodb-local or memory`);
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));

const WAYS = [
  { way: 'front, every 10 ms', origin: false, intervalMs: 10 },
  { way: 'origin (s3rver), every 10 ms', origin: true, intervalMs: 10 },
  { way: 'front, every 50 ms', origin: false, intervalMs: 50 },
] as const;
type Way = (typeof WAYS)[number];

const m = meters();
const stack = await startBenchStack({ FEEDPUB_FEED_ITEMS: '50' }, m.wrap, { store });
const { url } = stack.feedpub;
const feedsUrl = stack.config.site.feedsUrl;
const origin = `${process.env.AWS_ENDPOINT_URL_S3}/${stack.config.bucketName}`;
const generated = generatePosts(3_000, { samples: corpusSamples(corpus), categories: 20, seed: 7 });
let n = 0;

async function one(way: Way) {
  const post = benchPost(n, generated[n++ % generated.length]!, 'r');
  const { answeredAt, visibleMs } = await publishAndWatch(url, stack.key, feedsUrl, post, { readFrom: way.origin ? origin : url, intervalMs: way.intervalMs });
  const seenAt = answeredAt + visibleMs;
  const lastPut = Math.max(...documentUrls(feedsOf(post), url, feedsUrl).map((u) => m.putsBefore(keyOfUrl(u), seenAt).at(-1)?.doneAt ?? NaN));
  return { visible: visibleMs, rendered: lastPut - answeredAt, served: seenAt - lastPut };
}

// Warm-up (the JIT of both processes, the feeds' first renders), then the ways in turn, 20 posts at a time.
for (let i = 0; i < 300; i++) await one(WAYS[0]);
const samples = new Map(WAYS.map((w) => [w, { visible: [] as number[], rendered: [] as number[], served: [] as number[] }]));
for (let round = 0; round < perWay / 20; round++) {
  for (const way of WAYS) {
    for (let i = 0; i < 20; i++) {
      const r = await one(way);
      const s = samples.get(way)!;
      s.visible.push(r.visible);
      if (Number.isFinite(r.rendered)) s.rendered.push(r.rendered), s.served.push(r.served);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
await stack.stop();

const rows = WAYS.flatMap((way) => {
  const s = samples.get(way)!;
  return [
    { way: way.way, measure: 'answer -> visible', ...summarize(s.visible) },
    { way: way.way, measure: 'answer -> last PUT answered', ...summarize(s.rendered) },
    { way: way.way, measure: 'last PUT -> seen', ...summarize(s.served) },
  ];
});
printTable(`Publish to visible on a quiet stack, by the readers' way (ms) [${STORE_NAMES[store]}]`, rows);
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, 'readers-path.json');
writeFileSync(file, `${JSON.stringify({ command: `npm run bench:readers${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`, date: new Date().toISOString(), store, postsPerWay: perWay, rows }, null, 2)}\n`);
console.log(`wrote ${file}`);
process.exit(0);
