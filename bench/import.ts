import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importPosts } from '../lib/import/importer.js';
import { corpusSamples, generatePosts, writeJekyllFiles } from './lib/generate.js';
import { countingClients, printTable, startBenchStack, settle } from './lib/stack.js';

/**
 * Import rate and regeneration cost of a whole import: N Jekyll posts (corpus text, Zipf-popular outlets) through
 * `importPosts` (what `npx feedpub import` runs) against the local stack; then the same folder again.
 * Usage: npm run bench:import [-- posts categories]
 */
const posts = Number(process.argv[2] ?? 2000);
const categories = Number(process.argv[3] ?? 200);
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));
const dir = mkdtempSync(join(tmpdir(), 'feedpub-import-bench-'));
const files = writeJekyllFiles(generatePosts(posts, { samples: corpusSamples(corpus), categories }), dir);

const counters = countingClients();
const stack = await startBenchStack({ FEEDPUB_TIMEZONE: 'Asia/Shanghai' }, counters.wrap);
const options = { api: stack.feedpub.url, key: stack.key, concurrency: 8 };
try {
  const first = await importPosts(files, options);
  const settledMs = await settle(counters, first.elapsedMs);
  const firstCounts = counters.snapshot();
  const second = await importPosts(files, options);
  await settle(counters, second.elapsedMs);
  const secondCounts = counters.snapshot();

  const feedKeys = [...firstCounts.putsByKey.keys()].filter((k) => /^feeds\/.*(rss\.xml|atom\.xml|feed\.json)$/.test(k));
  const perFeedFile = feedKeys.map((k) => firstCounts.putsByKey.get(k)!);
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
      feeds: feedKeys.length / 3,
      renders: firstCounts.renders,
      s3Puts: firstCounts.puts,
      maxPutsPerFeedFile: Math.max(...perFeedFile),
    },
    again: {
      unchanged: second.unchanged.length,
      importSeconds: Math.round(second.elapsedMs) / 1000,
      postsPerSecond: Math.round(posts / (second.elapsedMs / 1000)),
      renders: secondCounts.renders - firstCounts.renders,
      s3Puts: secondCounts.puts - firstCounts.puts,
    },
  };
  printTable(`Import of ${posts} generated Jekyll posts over ${categories} categories (concurrency 8)`, [
    { run: 'first', posts: results.first.created, seconds: results.first.importSeconds, 'posts/s': results.first.postsPerSecond, 'all feeds written (s)': results.first.allFeedsWrittenSeconds, feeds: results.first.feeds, renders: results.first.renders, 'S3 PUTs': results.first.s3Puts, 'max PUTs per feed file': results.first.maxPutsPerFeedFile },
    { run: 'again (unchanged)', posts: results.again.unchanged, seconds: results.again.importSeconds, 'posts/s': results.again.postsPerSecond, 'all feeds written (s)': '-', feeds: '-', renders: results.again.renders, 'S3 PUTs': results.again.s3Puts, 'max PUTs per feed file': '-' },
  ]);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'import.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
