import type { GeneratedPost } from './generate.js';
import type { Meters } from './meters.js';
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
