import type { GeneratedPost } from './generate.js';
import type { Meters } from './meters.js';
import { send } from './publish.js';
import type { BenchStack } from './stack.js';

/** What every section of the benchmark works with. */
export interface BenchContext {
  stack: BenchStack;
  m: Meters;
  quick: boolean;
  /** Posts of the reference site's shape (corpus text, pinyin outlets by Zipf popularity, a few tags). */
  generated: GeneratedPost[];
}

/** A post to publish from a generated one, with a title unique to this run (readers look for it). */
export function benchPost(i: number, g: GeneratedPost, tag = 'p') {
  return { title: `${g.title} [${tag}${i}-${Date.now().toString(36)}]`, content: g.content, categories: g.categories, tags: g.tags };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  }));
}

/** Stores `count` posts through `POST /posts/batch`, 50 a request: a site in service before anything is measured. */
export async function fillInBatches({ feedpub, key }: BenchStack, generated: GeneratedPost[], count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    const posts = Array.from({ length: Math.min(50, count - i) }, (_, k) => ({ id: `warm-${i + k}`, ...benchPost(i + k, generated[(i + k) % generated.length]!, 'w') }));
    const response = await send(feedpub.url, key, 'POST', '/posts/batch', { posts });
    if (response.status !== 200) throw new Error(`a batch of the fill answered ${response.status}`);
    await response.body?.cancel();
  }
}
