import { publishAndWatch } from '../lib/publish.js';
import { benchPost, type BenchContext } from '../lib/context.js';
import { printTable, summarize } from '../lib/stack.js';

/**
 * Publish to visible on a quiet stack: one publisher, posts one after the other; from the API's answer until all
 * three formats of the three feeds each post touches (site, its outlet, its tag) serve it, as readers polling them
 * every 10 ms with conditional GETs see it.
 */
export async function quietLatency({ stack, generated, quick }: BenchContext) {
  const { url } = stack.feedpub;
  const samples = { answer: [] as number[], visible: [] as number[] };
  const count = quick ? 40 : 100;
  for (let i = 0; i < count + 5; i++) {
    const result = await publishAndWatch(url, stack.key, stack.config.site.feedsUrl, benchPost(i, generated[i % generated.length]!, 'q'));
    if (i < 5) continue; // warm-up
    samples.answer.push(result.answerMs);
    samples.visible.push(result.visibleMs);
  }
  const result = { posts: count, answerMs: summarize(samples.answer), visibleMs: summarize(samples.visible) };
  printTable('Publish to visible, quiet stack, one publisher (ms): answer -> all 3 formats of the 3 touched feeds', [
    { measure: 'POST answered', ...result.answerMs, target: '' },
    { measure: 'answer -> visible', ...result.visibleMs, target: 'p99 <= 150' },
  ]);
  return result;
}
