import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/concurrency.js';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { importPosts } from '../../lib/import/importer.js';
import { SETTLE_MS } from '../../lib/regen/settings-fan-out.js';
import { fetchFeedHeads, waitForFeedSet, withinASecond } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { until } from '../support/until.js';

// The lanes' idle polls a minute apart: whatever reaches a reader within a second came through a nudge of the
// lane that takes its records.
let fp: TestFeedpub;
const work = mkdtempSync(join(tmpdir(), 'feedpub-polls-'));
beforeAll(async () => {
  fp = await startTestFeedpub({}, { lanes: { idleMs: 60_000 } });
});
afterAll(async () => {
  await fp?.stop();
  rmSync(work, { recursive: true, force: true });
});

const polls = () => fp.lanes.feeds.polls + fp.lanes.pages.polls;
const has = (title: string) => (feed: { items: { title: string }[] }) => feed.items.some((i) => i.title === title);
const dir = (name: string) => feedDirectory({ kind: 'category', name }, encodeURIComponent);

describe('the local lanes read the stream when a write says so', () => {
  it('read it a few times per write on a quiet stack, and each write is in its feeds within a second of its answer', async () => {
    const perWrite: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = polls();
      const response = await fp.api('POST', '/posts', { title: `Quiet ${i}`, content: `<p>${i}</p>`, categories: ['quiet'], tags: ['calm'] });
      expect(response.status).toBe(201);
      await waitForFeedSet(fp.url, dir('quiet'), has(`Quiet ${i}`), withinASecond());
      // The renders' own writes and the post's page: all of one write's reads are over within half a second.
      await sleep(500);
      perWrite.push(polls() - before);
    }
    // Both lanes: 8 to 10 reads a write here. Polling every 5 ms for 200 ms after every write committed, the
    // renders' records included, took 57 to 64 (with idle polls every 250 ms).
    expect(Math.max(...perWrite.slice(1))).toBeLessThanOrEqual(20);
  });

  it("wakes the feeds lane for a change of the site's settings: every feed shows it within a second of the fan-out", async () => {
    const response = await fp.api('PUT', '/site', { title: 'Renamed by a nudge' });
    expect(response.status).toBe(200);
    // The fan-out tells the feeds SETTLE_MS after the change (the API's cached settings have expired by then).
    const by = Date.now() + SETTLE_MS + 1_000;
    const renamed = (heads: Awaited<ReturnType<typeof fetchFeedHeads>>) => Object.values(heads).every((head) => head.title.startsWith('Renamed by a nudge'));
    for (const feed of ['feeds', dir('quiet')]) expect(renamed(await until(() => fetchFeedHeads(fp.url, feed), renamed, by - Date.now()))).toBe(true);
  });

  it('wakes the pages lane for an import: its hold, its held writes and its release publish the posts', async () => {
    const files = [1, 2, 3].map((i) => {
      const file = join(work, `2024-03-0${i}-held-${i}.md`);
      writeFileSync(file, `---\ntitle: "Held ${i}"\ndate: 2024-03-0${i} 10:00:00\ncategories: held\n---\n\nHeld ${i}.\n`);
      return file;
    });
    const started = Date.now();
    const report = await importPosts(files, { api: fp.url, key: fp.key });
    expect(report.created).toHaveLength(3);
    // The import returns once its release has rendered its feeds: a lane left to its idle poll would take a minute.
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitForFeedSet(fp.url, dir('held'), (feed) => ['Held 1', 'Held 2', 'Held 3'].every((t) => has(t)(feed)), Date.now());
  });
});
