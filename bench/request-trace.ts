/**
 * What one quiet post's requests are, and when: one stack, one publisher, a few hundred posts stored, then each
 * traced post's DynamoDB and S3 requests as feedpub's own clients send them, with when each was sent (ms from the
 * API's answer; its own write comes before) and how long it took, while readers poll its nine documents every
 * 10 ms through the front, as `npm run bench` measures.
 *
 *   npm run bench:trace [-- posts to trace, default 20] [-- --store memory]   (writes bench/results/request-trace.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Clients, MiddlewareStack } from './lib/meters.js';
import { kindOf } from './lib/request-kind.js';
import { benchPost, fillInBatches } from './lib/context.js';
import { corpusSamples, generatePosts } from './lib/generate.js';
import { now, publishAndWatch } from './lib/publish.js';
import { printTable, startBenchStack, STORE_NAMES, summarize, type BenchStore } from './lib/stack.js';

const traced = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 20);
const store: BenchStore = process.argv.includes('--store') ? (process.argv[process.argv.indexOf('--store') + 1] as BenchStore) : 'dynamodb-local';
if (!(store in STORE_NAMES)) throw new Error(`--store: ${store} is not dynamodb-local or memory`);
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));

interface Sent {
  kind: string;
  sentAt: number;
  tookMs: number;
}
let recording: Sent[] | undefined;

const wrap = (clients: Clients): Clients => {
  for (const [service, client] of [['dynamodb', clients.doc], ['s3', clients.s3]] as const) {
    (client as unknown as MiddlewareStack).middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, any> }) => {
        const sentAt = now();
        try {
          return await next(args);
        } finally {
          recording?.push({ kind: kindOf(service, String(context.commandName).replace(/Command$/, ''), args.input), sentAt, tookMs: now() - sentAt });
        }
      },
      { step: 'initialize', name: 'benchTrace' },
    );
  }
  return clients;
};

const stack = await startBenchStack({}, wrap, { store });
const generated = generatePosts(2_000, { samples: corpusSamples(corpus), categories: 2_000, seed: 7 });
const round = (n: number) => Math.round(n * 10) / 10;
try {
  // A site in service: 600 posts in batches, then 300 single posts watched as the benchmark watches them.
  await fillInBatches(stack, generated, 600);
  for (let i = 0; i < 300; i++) await publishAndWatch(stack.feedpub.url, stack.key, stack.config.site.feedsUrl, benchPost(i, generated[600 + i]!, 's'));

  const posts: { visibleMs: number; requests: (Sent & { atMs: number })[] }[] = [];
  for (let i = 0; i < traced; i++) {
    recording = [];
    const result = await publishAndWatch(stack.feedpub.url, stack.key, stack.config.site.feedsUrl, benchPost(i, generated[900 + i]!, 't'));
    // What the post's renders send after the readers saw it (their records, the hub's lookups) belongs to it too.
    await new Promise((r) => setTimeout(r, 500));
    posts.push({ visibleMs: result.visibleMs, requests: recording.map((r) => ({ ...r, atMs: r.sentAt - result.answeredAt })) });
    recording = undefined;
  }

  const kinds = new Map<string, { atMs: number[]; tookMs: number[] }>();
  for (const post of posts)
    for (const r of post.requests) {
      const k = kinds.get(r.kind) ?? { atMs: [], tookMs: [] };
      k.atMs.push(r.atMs);
      k.tookMs.push(r.tookMs);
      kinds.set(r.kind, k);
    }
  const rows = [...kinds]
    .map(([kind, { atMs, tookMs }]) => ({ kind, perPost: round(atMs.length / posts.length), sentMsP50: summarize(atMs).p50, tookMsP50: summarize(tookMs).p50, tookMsP95: summarize(tookMs).p95 }))
    .sort((a, b) => a.sentMsP50 - b.sentMsP50);
  const feedPuts = posts.map((p) => p.requests.filter((r) => r.kind === 'S3 PutObject (feed document)'));
  const phases = {
    visibleMs: summarize(posts.map((p) => p.visibleMs)),
    firstFeedPutSentMs: summarize(feedPuts.map((puts) => Math.min(...puts.map((r) => r.atMs)))),
    lastFeedPutAnsweredMs: summarize(feedPuts.map((puts) => Math.max(...puts.map((r) => r.atMs + r.tookMs)))),
    requestsPerPost: summarize(posts.map((p) => p.requests.length)),
  };
  printTable(`${traced} quiet posts: each kind of request, per post, when it was sent (ms from the answer) and how long it took [${STORE_NAMES[store]}]`, rows);
  printTable('The same posts: answer -> the first feed document PUT sent, the last one answered, every document seen (ms)', Object.entries(phases).map(([measure, s]) => ({ measure, ...s })));
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'request-trace.json'), `${JSON.stringify({ command: 'npm run bench:trace', date: new Date().toISOString(), store, posts: traced, kinds: rows, phases, lastPost: posts.at(-1) }, null, 1)}\n`);
  console.log('wrote bench/results/request-trace.json');
} finally {
  await stack.stop();
}
process.exit(0);
