import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapSettled } from '../../lib/concurrency.js';
import { SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { countItemWrites } from '../support/item-writes.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { converge } from '../support/scratch.js';

let fp: TestFeedpub;
let counter: ReturnType<typeof countItemWrites>;
beforeAll(async () => {
  fp = await startTestFeedpub({}, { wrapClients: ({ doc, s3 }) => ((counter = countItemWrites(doc)), { doc, s3 }) });
});
afterAll(async () => {
  await fp?.stop();
});

describe('single-post writes from many publishers', () => {
  it('write no item in common: the most written item takes at most 5% of all item writes, and none answers 409 or 5xx', async () => {
    const categories = Array.from({ length: 60 }, (_, i) => `outlet-${i}`);
    const statuses: number[] = [];
    await mapSettled(Array.from({ length: 300 }, (_, i) => i), 16, async (i) => {
      const response = await fp.api('POST', '/posts', { title: `Hot ${i}`, content: `<p>${i}</p>`, categories: [categories[i % 60]], tags: ['every-post'] });
      statuses.push(response.status);
      await response.body?.cancel();
    });
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    const refs: FeedRef[] = [SITE_FEED, { kind: 'tag', name: 'every-post' }, ...categories.slice(0, 5).map((name): FeedRef => ({ kind: 'category', name }))];
    expect(await converge(fp.url, refs, fp.config, 10_000)).toEqual([]);
    const hottest = counter.hottest();
    // Every post is in the site feed and one tag: what they share is written by the feeds' renders only.
    expect(hottest.share, `${hottest.key}: ${hottest.writes} of ${hottest.total}`).toBeLessThanOrEqual(0.05);
  }, 120_000);
});
