import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapSettled } from '../../lib/concurrency.js';
import { SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../lib/store/clients.js';
import { keys } from '../../lib/store/table.js';
import { converge, feedDiffers, scanPosts, walkArchive } from '../support/scratch.js';

const CATEGORIES = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
const REFS: FeedRef[] = [SITE_FEED, ...CATEGORIES.map((name): FeedRef => ({ kind: 'category', name }))];

let fp: TestFeedpub;
beforeAll(async () => {
  // 20 items per feed and archive pages of 10, so that 200 posts over 5 categories overflow every current document
  // into its archive pages while posts are moved and deleted.
  fp = await startTestFeedpub({ FEEDPUB_FEED_ITEMS: '20', FEEDPUB_ARCHIVE_PAGE_SIZE: '10' });
});
afterAll(async () => {
  await fp?.stop();
});

const body = (i: number, category: string, title = `Post ${i}`) => ({
  title,
  content: `<p>${title}</p>`,
  date: new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60, i)).toISOString(),
  categories: [category],
});

describe('200 concurrent creates over 5 categories, with racing edits and deletes', () => {
  it('leave every feed, current document and archive pages, in all three formats, equal to a from-scratch render of the stored posts', async () => {
    const accepted = new Set<string>();
    const deleted = new Set<string>();
    // Creates, and edits that move posts between categories and deletes of posts, all in flight together.
    const operations = Array.from({ length: 200 }, (_, i) => async () => {
      const id = `race-${i}`;
      const created = await fp.api('PUT', `/posts/${id}`, body(i, CATEGORIES[i % 5]!));
      expect([200, 201]).toContain(created.status);
      accepted.add(id);
      if (i % 7 === 0) {
        const moved = await fp.api('PUT', `/posts/${id}`, body(i, CATEGORIES[(i + 2) % 5]!, `Moved ${i}`));
        expect(moved.status).toBe(200);
      }
      if (i % 11 === 0) {
        expect((await fp.api('DELETE', `/posts/${id}`)).status).toBe(204);
        deleted.add(id);
      }
    });
    const results = await mapSettled(operations, 32, (op) => op());
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);

    const stored = await scanPosts(fp.config.tableName);
    expect(stored.map((p) => p.id).sort()).toEqual([...accepted].filter((id) => !deleted.has(id)).sort());
    expect(stored.filter((p) => p.id.match(/^race-(\d+)$/) && Number(p.id.slice(5)) % 7 === 0).every((p) => p.title.startsWith('Moved'))).toBe(true);

    expect(await converge(fp.url, REFS, fp.config)).toEqual([]);
    // The walk went through archive pages: the site feed's 170-odd posts are on well over ten documents.
    expect((await walkArchive(fp.url, SITE_FEED, fp.config))!.length).toBeGreaterThan(10);
  }, 120_000);

  it('are checked by an oracle that sees a feed missing a stored post', async () => {
    // Stored behind feedpub's back: no revision moves, so no feed shows it, and the oracle must say so.
    await createDocumentClient().send(
      new PutCommand({ TableName: fp.config.tableName, Item: { ...keys.post('sneaked'), ...body(999, 'alpha', 'Sneaked in'), id: 'sneaked', summary: 's', updated: '2024-06-01T00:00:00.000Z', date: '2024-06-01T00:00:00.000Z', tags: [], authors: [], contentHash: 'x', version: 1 } }),
    );
    const problems = await feedDiffers(fp.url, { kind: 'category', name: 'alpha' }, await scanPosts(fp.config.tableName), fp.config);
    expect(problems).toEqual(['c:alpha: missing sneaked']);
  });
});
