import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importPosts } from '../lib/import/importer.js';
import { corpusSamples, generatePosts, writeJekyllFiles } from './lib/generate.js';
import { delta, meters, quiet } from './lib/meters.js';
import { printTable, startBenchStack } from './lib/stack.js';

/**
 * Import rate and regeneration cost of a whole import: N Jekyll posts (corpus text, Zipf-popular outlets) through
 * `importPosts` (what `npx feedpub import` runs) against the local stack; then the same folder again.
 * Usage: [IMPORT_CONCURRENCY=4] [IMPORT_BATCH_SIZE=50] npm run bench:import [-- posts categories]
 */
const posts = Number(process.argv[2] ?? 2000);
const categories = Number(process.argv[3] ?? 200);
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));
const dir = mkdtempSync(join(tmpdir(), 'feedpub-import-bench-'));
const files = writeJekyllFiles(generatePosts(posts, { samples: corpusSamples(corpus), categories }), dir);

const m = meters();
const stack = await startBenchStack({ FEEDPUB_TIMEZONE: 'Asia/Shanghai' }, m.wrap);
const concurrency = Number(process.env.IMPORT_CONCURRENCY ?? 4);
const batchSize = Number(process.env.IMPORT_BATCH_SIZE ?? 50);
const options = { api: stack.feedpub.url, key: stack.key, concurrency, batchSize };
try {
  const start = performance.now();
  const before = m.snapshot();
  const first = await importPosts(files, options);
  const settledMs = (await quiet(m, 1500, performance.now())) - start;
  const afterFirst = m.snapshot();
  const second = await importPosts(files, options);
  await quiet(m, 1500);
  const firstCost = delta(afterFirst, before);
  const againCost = delta(m.snapshot(), afterFirst);
  const feedRenders = [...firstCost.renders].filter(([id]) => /^(site|c:|t:)/.test(id)).map(([, n]) => n);
  const sum = (renders: Map<string, number>) => [...renders.values()].reduce((a, b) => a + b, 0);

  const results = {
    benchmark: 'import',
    command: `npm run bench:import -- ${posts} ${categories}`,
    date: new Date().toISOString(),
    posts,
    categories,
    first: {
      created: first.created.length,
      failed: first.failed.length,
      importSeconds: Math.round(first.elapsedMs) / 1000,
      postsPerSecond: Math.round(posts / (first.elapsedMs / 1000)),
      allFeedsWrittenSeconds: Math.round(settledMs) / 1000,
      feeds: feedRenders.length,
      renders: sum(firstCost.renders),
      maxRendersPerFeed: Math.max(...feedRenders),
      s3Puts: firstCost.puts,
      wcuPerPost: Math.round((firstCost.wcu / posts) * 10) / 10,
      rcuPerPost: Math.round((firstCost.rcu / posts) * 10) / 10,
    },
    again: {
      unchanged: second.unchanged.length,
      importSeconds: Math.round(second.elapsedMs) / 1000,
      postsPerSecond: Math.round(posts / (second.elapsedMs / 1000)),
      renders: sum(againCost.renders),
      s3Puts: againCost.puts,
    },
  };
  printTable(`Import of ${posts} generated Jekyll posts over ${categories} categories (${concurrency} batch requests of ${batchSize} in flight)`, [
    { run: 'first', posts: results.first.created, seconds: results.first.importSeconds, 'posts/s': results.first.postsPerSecond, 'all written (s)': results.first.allFeedsWrittenSeconds, feeds: results.first.feeds, renders: results.first.renders, 'max renders of a feed': results.first.maxRendersPerFeed, 'S3 PUTs': results.first.s3Puts, 'WCU/post': results.first.wcuPerPost },
    { run: 'again (unchanged)', posts: results.again.unchanged, seconds: results.again.importSeconds, 'posts/s': results.again.postsPerSecond, 'all written (s)': '-', feeds: '-', renders: results.again.renders, 'max renders of a feed': '-', 'S3 PUTs': results.again.s3Puts, 'WCU/post': '-' },
  ]);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'import.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
