import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishAndWatch } from './lib/publish.js';
import { printTable, startBenchStack, summarize } from './lib/stack.js';

/**
 * Publish-to-visible latency: from the API's answer to a POST until all three formats of every feed the post
 * touches (site, its category, its tag) serve it, as a reader polling them over HTTP sees it.
 * Usage: npm run bench:latency [-- posts]
 */
const posts = Number(process.argv[2] ?? 100);
const stack = await startBenchStack();
const { url } = stack.feedpub;

const answerMs: number[] = [];
const visibleMs: number[] = [];
try {
  for (let i = 0; i < posts + 5; i++) {
    const marker = `bench-marker-${i}-${Date.now()}`;
    const post = { title: marker, content: `<p>${marker}</p>`, categories: [`category-${i % 20}`], tags: [`tag-${i % 7}`] };
    const { answerMs: answer, visibleMs: visible } = await publishAndWatch(url, stack.key, stack.config.site.feedsUrl, post);
    if (i < 5) continue; // warm-up
    answerMs.push(answer);
    visibleMs.push(visible);
  }
} finally {
  await stack.stop();
}

const results = {
  benchmark: 'publish-latency',
  command: `npm run bench:latency -- ${posts}`,
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: (await import('node:os')).cpus().length },
  posts,
  feedsPerPost: 3,
  apiAnswerMs: summarize(answerMs),
  answerToAllFeedsVisibleMs: summarize(visibleMs),
  postToAllFeedsVisibleMs: summarize(answerMs.map((a, i) => a + visibleMs[i]!)),
};
printTable(`Publish to visible, ${posts} sequential posts, 3 feeds x 3 formats each (ms)`, [
  { measure: 'POST answered', ...results.apiAnswerMs },
  { measure: 'answer -> all 9 files show it', ...results.answerToAllFeedsVisibleMs },
  { measure: 'POST sent -> all 9 files show it', ...results.postToAllFeedsVisibleMs },
]);
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'publish-latency.json'), `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
