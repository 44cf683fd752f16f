import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { feedsOf, feedUrl, FORMAT_NAMES } from '../lib/feeds/feed-ref.js';
import { printTable, startBenchStack, summarize } from './lib/stack.js';

/**
 * Publish-to-visible latency: from the API's answer to a POST until all three formats of every feed the post
 * touches (site, its category, its tag) serve it, as a reader polling them over HTTP sees it.
 * Usage: npm run bench:latency [-- posts]
 */
const posts = Number(process.argv[2] ?? 100);
const stack = await startBenchStack();
const { url } = stack.feedpub;
const local = (u: string) => u.replace(stack.config.site.feedsUrl, url);

async function visible(fileUrl: string, marker: string, deadline: number): Promise<number> {
  for (;;) {
    const body = await (await fetch(fileUrl)).text();
    if (body.includes(marker)) return performance.now();
    if (Date.now() > deadline) throw new Error(`${fileUrl} did not show ${marker}`);
    // A short pause: nine readers spinning flat out would take the CPU from what they measure.
    await new Promise((r) => setTimeout(r, 3));
  }
}

const answerMs: number[] = [];
const visibleMs: number[] = [];
try {
  for (let i = 0; i < posts + 5; i++) {
    const marker = `bench-marker-${i}-${Date.now()}`;
    const post = { title: marker, content: `<p>${marker}</p>`, categories: [`category-${i % 20}`], tags: [`tag-${i % 7}`] };
    const started = performance.now();
    const response = await fetch(`${url}/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(post),
    });
    const answered = performance.now();
    if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
    const files = feedsOf(post).flatMap((ref) => FORMAT_NAMES.map((f) => local(feedUrl(ref, f, stack.config.site.feedsUrl))));
    const seen = await Promise.all(files.map((f) => visible(f, marker, Date.now() + 10_000)));
    if (i < 5) continue; // warm-up
    answerMs.push(answered - started);
    visibleMs.push(Math.max(...seen) - answered);
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
