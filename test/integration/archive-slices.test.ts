import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { converge, walkArchive } from '../support/scratch.js';

/**
 * A render's slice and DynamoDB's 100 actions per transaction: an archive page's changes are one unit of the slice's
 * commit (its update, the pointer of each post leaving it, the inbox item of each write of its posts), so a slice of
 * 40 posts, each written twice since the last render, off one page would be 121 actions, and the feed would never
 * be rendered again. Slices stop before 50 inbox items (lib/regen/feed-render.ts, SLICE_ITEMS).
 */
let fp: TestFeedpub;
const KEEP = 5;
const PAGE = 50;
beforeAll(async () => {
  fp = await startTestFeedpub({ FEEDPUB_FEED_ITEMS: String(KEEP), FEEDPUB_ARCHIVE_PAGE_SIZE: String(PAGE) });
});
afterAll(async () => {
  await fp?.stop();
});

const BIG: FeedRef = { kind: 'category', name: 'big' };
const date = (minute: number) => new Date(Date.UTC(2024, 2, 1, 0, minute)).toISOString();
const put = async (id: string, title: string, minute: number) => {
  const response = await fp.api('PUT', `/posts/${id}`, { title, content: `<p>${id}</p>`, date: date(minute), categories: ['big'] });
  expect(response.status).toBeLessThan(300);
};

describe('a render of many writes to one archive page', () => {
  it('commits in transactions DynamoDB takes: 45 archived posts edited, then deleted, between two renders', async () => {
    for (let i = 0; i < 60; i++) await put(`p${i}`, `Post ${i}`, i);
    expect(await converge(fp.url, [SITE_FEED, BIG], fp.config, 15_000)).toEqual([]);
    const [current, page] = (await walkArchive(fp.url, BIG, fp.config))!;
    expect(page).toMatchObject({ page: 1 });
    expect(page!.ids).toHaveLength(PAGE);
    expect(current!.ids).toHaveLength(10);

    // Between two renders of the feed (its lane stopped), two writes of each of 45 posts of that page.
    await fp.lanes.feeds.stop();
    const gone = page!.ids.slice(0, 45);
    try {
      for (const id of gone) {
        const minute = Number(id.slice(1));
        await put(id, `Edited ${minute}`, minute);
        expect((await fp.api('DELETE', `/posts/${id}`)).status).toBe(204);
      }
    } finally {
      await fp.lanes.feeds.start();
    }
    expect(await converge(fp.url, [SITE_FEED, BIG], fp.config, 15_000)).toEqual([]);
    const shown = ((await walkArchive(fp.url, BIG, fp.config)) ?? []).flatMap((d) => d.ids);
    expect(shown).toHaveLength(15);
    for (const id of gone) expect(shown).not.toContain(id);
  });
});
