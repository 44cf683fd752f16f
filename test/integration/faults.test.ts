import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapSettled, sleep } from '../../lib/concurrency.js';
import { SITE_FEED, feedDirectory, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { countingWrites, injectFaults, type FaultSwitch } from '../support/faults.js';
import { fetchFeedFile, readFeed } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { converge, scanPosts } from '../support/scratch.js';

const CATEGORIES = ['markets', 'companies', 'macro'];
const REFS: FeedRef[] = [SITE_FEED, ...CATEGORIES.map((name): FeedRef => ({ kind: 'category', name }))];
const faults: FaultSwitch = { rate: 0.3, on: false, injected: 0 };

let fp: TestFeedpub;
let writes: ReturnType<typeof countingWrites>;
beforeAll(async () => {
  fp = await startTestFeedpub({}, {
    wrapClients: ({ doc, s3 }) => ((writes = countingWrites(injectFaults(s3, faults))), { doc: injectFaults(doc, faults), s3: writes.client }),
    // Quick retries, so that a regeneration that keeps failing is parked within seconds.
    lanes: { maxAttempts: 4, retryBaseMs: 50 },
  });
});
afterAll(async () => {
  await fp?.stop();
});

/** A publisher bot: retries on 5xx and network errors, as it would in production. */
async function publish(path: string, body: unknown): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fp.api('PUT', path, body);
      await response.body?.cancel();
      if (response.status < 500 || attempt >= 20) return response.status;
    } catch (error) {
      if (attempt >= 20) throw error;
    }
    await sleep(20 * attempt);
  }
}

describe('with 30% of S3 and DynamoDB calls failing or throttled', () => {
  it('loses no accepted post, never serves an invalid feed, and converges once the faults stop', async () => {
    faults.on = true;
    const accepted: string[] = [];
    let sampling = true;
    const served: string[] = [];
    // A reader polling the feeds the whole time: whatever it gets must be a valid feed.
    const reader = (async () => {
      while (sampling) {
        for (const ref of REFS) {
          for (const format of ['rss', 'atom', 'json'] as const) {
            const file = await fetchFeedFile(fp.url, feedDirectory(ref, encodeURIComponent), format);
            if (file.status === 200) {
              readFeed(format, file.body);
              served.push(format);
            }
          }
        }
        await sleep(50);
      }
    })();

    await mapSettled(Array.from({ length: 60 }, (_, i) => i), 8, async (i) => {
      const status = await publish(`/posts/fault-${i}`, {
        title: `Fault ${i}`,
        content: `<p>${i}</p>`,
        date: new Date(Date.UTC(2024, 1, 1, 0, i)).toISOString(),
        categories: [CATEGORIES[i % 3]],
      });
      if (status === 200 || status === 201) accepted.push(`fault-${i}`);
    });
    faults.on = false;
    sampling = false;
    await reader;
    // Batches still retrying may park what failed while the faults were on: the operator re-drives after that.
    await fp.lanes.feeds.idle();

    expect(faults.injected).toBeGreaterThan(50);
    expect(served.length).toBeGreaterThan(0);
    expect(accepted).toHaveLength(60);
    const stored = (await scanPosts(fp.config.tableName)).map((p) => p.id);
    for (const id of accepted) expect(stored).toContain(id);

    // Regenerations that kept failing were parked; the operator's one command brings every feed back.
    const report = await fp.regeneration.redrive();
    expect(report.failed).toEqual([]);
    expect(await fp.regeneration.state.listParked()).toEqual([]);
    expect(await converge(fp.url, REFS, fp.config)).toEqual([]);
  }, 180_000);

  it('parks a regeneration that keeps failing where an operator sees it, and re-drives it with one command', async () => {
    faults.always = (input, command) => command === 'PutObjectCommand' && String(input.Key).startsWith('feeds/categories/stuck/');
    expect(await publish('/posts/stuck-1', { title: 'Stuck', content: '<p>s</p>', categories: ['stuck'] })).toBe(201);

    const deadline = Date.now() + 20_000;
    let parked = await fp.regeneration.state.listParked();
    while (!parked.some((p) => p.documentId === 'c:stuck') && Date.now() < deadline) {
      await sleep(200);
      parked = await fp.regeneration.state.listParked();
    }
    expect(parked).toEqual([expect.objectContaining({ documentId: 'c:stuck', reason: expect.any(String) })]);
    expect((await fetchFeedFile(fp.url, 'feeds/categories/stuck', 'atom')).status).toBe(404);

    faults.always = undefined;
    const report = await fp.regeneration.redrive();
    expect(report.regenerated).toContain('c:stuck');
    expect(await fp.regeneration.state.listParked()).toEqual([]);
    expect(readFeed('atom', (await fetchFeedFile(fp.url, 'feeds/categories/stuck', 'atom')).body).items.map((i) => i.title)).toEqual(['Stuck']);
  }, 60_000);
});

describe('batches larger than one transaction', () => {
  const batch = (prefix: string, category: string, n: number) => ({
    posts: Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, title: `${prefix} ${i}`, content: `<p>${i}</p>`, categories: [category], tags: [`${prefix}-tag`] })),
  });
  const itemCount = async (dir: string) => {
    const file = await fetchFeedFile(fp.url, dir, 'atom');
    return file.status === 200 ? readFeed('atom', file.body).items.length : 0;
  };
  const until = async (check: () => Promise<boolean>, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!(await check()) && Date.now() < deadline) await sleep(50);
    return check();
  };
  const sitePuts = () => writes.puts.get('feeds/rss.xml') ?? 0;

  it('stores each post whole and renders each shared feed about once for the whole batch', async () => {
    const before = sitePuts();
    const response = await fp.api('POST', '/posts/batch', batch('bulk', 'bulk', 60));
    expect(response.status).toBe(200);
    // 60 posts: the current document keeps them all (50 newest, and fewer than 50 more until a page is sealed).
    expect(await until(async () => (await itemCount('feeds/categories/bulk')) === 60)).toBe(true);
    await sleep(500);
    // Seven transactions; the feeds lane renders a feed once per batch of stream records, so at most a few times.
    expect(writes.puts.get('feeds/categories/bulk/rss.xml')).toBeLessThanOrEqual(3);
    expect(sitePuts() - before).toBeLessThanOrEqual(3);
    // The directory's count is recorded just after the feed is written.
    expect(await until(async () => (await fp.regeneration.state.listFeeds()).find((f) => f.feedId === 'c:bulk')?.count === 60)).toBe(true);
  });

  it('publishes the posts a batch stored before its request died, each whole', async () => {
    // Forty posts of 7 items each are three transactions; the third fails for good: the request answers 500
    // after two stored theirs.
    let transactions = 0;
    faults.always = (input, command) => command === 'TransactWriteItemsCommand' && JSON.stringify(input).includes('POST#lost-') && ++transactions >= 3;
    const response = await fp.api('POST', '/posts/batch', batch('lost', 'lost', 40));
    expect(response.status).toBe(500);
    faults.always = undefined;
    const stored = (await scanPosts(fp.config.tableName)).filter((p) => p.id.startsWith('lost-'));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.length).toBeLessThan(40);
    // What was stored is in its feeds, and nothing else: each post's inbox items were in its own transaction.
    expect(await until(async () => (await itemCount('feeds/categories/lost')) === stored.length)).toBe(true);
    expect(await until(async () => (await fp.regeneration.state.listFeeds()).find((f) => f.feedId === 'c:lost')?.count === stored.length)).toBe(true);
    expect(await converge(fp.url, [{ kind: 'category', name: 'lost' }, { kind: 'tag', name: 'lost-tag' }], fp.config, 5000)).toEqual([]);
  });
});
