import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/concurrency.js';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { waitForFeedSet, withinASecond } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub();
});
afterAll(async () => {
  await fp?.stop();
});

const polls = () => fp.lanes.feeds.polls + fp.lanes.pages.polls;
const has = (title: string) => (feed: { items: { title: string }[] }) => feed.items.some((i) => i.title === title);

describe('the local lanes read the stream as writes come', () => {
  it('read it a few times per write on a quiet stack, and each write is still in its feeds within a second of its answer', async () => {
    const dir = feedDirectory({ kind: 'category', name: 'quiet' }, encodeURIComponent);
    const perWrite: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = polls();
      const response = await fp.api('POST', '/posts', { title: `Quiet ${i}`, content: `<p>${i}</p>`, categories: ['quiet'], tags: ['calm'] });
      expect(response.status).toBe(201);
      await waitForFeedSet(fp.url, dir, has(`Quiet ${i}`), withinASecond());
      // The renders' own writes, the post's page and the idle polls of half a second: all of one write's reads.
      await sleep(500);
      perWrite.push(polls() - before);
    }
    // Both lanes, over the 0.5-1 s of each write: 14 to 16 reads here. Polling every 5 ms for 200 ms after every
    // write committed, the renders' records included, took 57 to 64 (23 once).
    expect(Math.max(...perWrite.slice(1))).toBeLessThanOrEqual(30);
  });
});
