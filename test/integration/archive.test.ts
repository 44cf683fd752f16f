import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveUrls, FORMAT_NAMES, SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { importPosts } from '../../lib/import/importer.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { converge, walkArchive } from '../support/scratch.js';
import { Gate, pauseCalls, readsPost } from '../support/faults.js';
import { until } from '../support/until.js';

/**
 * RFC 5005 archived feeds, walked as a reader walks them (the current document, then prev-archive to the oldest
 * page): every post of a feed exactly once, in all three formats, whatever happened before; archive pages that do
 * not change when newer posts arrive.
 */
let fp: TestFeedpub;
const work = mkdtempSync(join(tmpdir(), 'feedpub-archive-'));
const KEEP = 5;
const PAGE = 10;
/** While set, the renders' reads of this post wait at the gate. */
let pauseReadsOf: { postId: string; gate: Gate } | undefined;
beforeAll(async () => {
  fp = await startTestFeedpub({ FEEDPUB_FEED_ITEMS: String(KEEP), FEEDPUB_ARCHIVE_PAGE_SIZE: String(PAGE) }, {
    wrapClients: ({ doc, s3 }) => ({ doc: pauseCalls(doc, () => pauseReadsOf?.gate, (command) => pauseReadsOf !== undefined && readsPost(pauseReadsOf.postId)(command)), s3 }),
  });
});
afterAll(async () => {
  await fp?.stop();
  rmSync(work, { recursive: true, force: true });
});

const A: FeedRef = { kind: 'category', name: 'alpha' };
const B: FeedRef = { kind: 'category', name: 'beta' };
const T: FeedRef = { kind: 'tag', name: 'tagged' };
const REFS = [SITE_FEED, A, B, T];
const date = (day: number, minute = 0) => new Date(Date.UTC(2024, 0, day, 12, minute)).toISOString();

/** The ETag of every archive page of every feed, in every format. */
async function pageTags(): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  for (const ref of REFS) {
    for (const { page } of (await walkArchive(fp.url, ref, fp.config)) ?? []) {
      if (!page) continue;
      for (const format of FORMAT_NAMES) {
        const url = archiveUrls(ref, page, fp.config.site.feedsUrl)[format].replace(fp.config.site.feedsUrl, fp.url);
        const response = await fetch(url);
        await response.arrayBuffer();
        tags.set(url, response.headers.get('etag')!);
      }
    }
  }
  return tags;
}

const put = async (id: string, body: Record<string, unknown>) => {
  const response = await fp.api('PUT', `/posts/${id}`, { content: `<p>${id}</p>`, ...body });
  expect(response.status).toBeLessThan(300);
};

describe('archived feeds', () => {
  it('lets a reader walk every post exactly once after an import whose posts arrive out of date order', async () => {
    // 40 Jekyll posts, imported under a hold; their dates are not in file order, some much older than the rest.
    const files = Array.from({ length: 40 }, (_, i) => {
      const day = i % 4 === 0 ? 1 + (i % 3) : 10 + (i % 17);
      const file = join(work, `2024-01-${String(day).padStart(2, '0')}-imported-${i}.md`);
      writeFileSync(file, `---\ntitle: "Imported ${i}"\ndate: 2024-01-${String(day).padStart(2, '0')} 0${i % 10}:00:00\ncategories: ${i % 2 ? 'alpha' : 'beta'}\ntags: ${i % 3 ? 'tagged' : 'other'}\n---\n\nPost ${i}\n`);
      return file;
    });
    const report = await importPosts(files, { api: fp.url, key: fp.key, batchSize: 7 });
    expect(report.created).toHaveLength(40);
    expect(await converge(fp.url, REFS, fp.config, 10_000)).toEqual([]);
    // 40 posts in the site feed: pages of 10 sealed while at least 15 were open.
    expect(((await walkArchive(fp.url, SITE_FEED, fp.config)) ?? []).filter((d) => d.page)).toHaveLength(3);
  });

  it('keeps every archive page byte for byte when newer posts arrive, and seals new pages after them', async () => {
    const before = await pageTags();
    for (let i = 0; i < 12; i++) await put(`newer-${i}`, { title: `Newer ${i}`, date: date(20, i), categories: ['alpha'], tags: ['tagged'] });
    expect(await converge(fp.url, REFS, fp.config, 10_000)).toEqual([]);
    const after = await pageTags();
    for (const [url, etag] of before) expect(after.get(url), url).toBe(etag);
    expect(after.size).toBeGreaterThan(before.size);
  });

  it('puts a backdated post in the current document, as new to readers, never into a sealed page', async () => {
    const before = await pageTags();
    await put('backdated', { title: 'Backdated', date: '2001-01-01T00:00:00Z', categories: ['alpha'], tags: ['tagged'] });
    expect(await converge(fp.url, REFS, fp.config, 10_000)).toEqual([]);
    const [current] = (await walkArchive(fp.url, A, fp.config))!;
    expect(current!.ids).toContain('backdated');
    const after = await pageTags();
    for (const [url, etag] of before) expect(after.get(url), url).toBe(etag);
  });

  it('changes only the page of an archived post that is edited, moved away or deleted', async () => {
    const site = (await walkArchive(fp.url, SITE_FEED, fp.config))!;
    const [oldest] = site.filter((d) => d.page).sort((x, y) => x.page! - y.page!);
    const [edited, moved, deleted] = oldest!.ids;
    const changed = (page: number) => (url: string) => url.includes(`/archive/${page}/`);
    const stored = async (id: string) => (await (await fp.api('GET', `/posts/${id}`)).json()) as Record<string, unknown>;

    for (const [id, body] of [
      [edited!, { ...(await stored(edited!)), title: 'Edited in its archive page' }],
      [moved!, { ...(await stored(moved!)), categories: ['beta'], tags: [] }],
    ] as const) {
      const { title, content, date: when, categories, tags } = body as Record<string, unknown>;
      const before = await pageTags();
      await put(id, { title, content, date: when, categories, tags });
      expect(await converge(fp.url, REFS, fp.config, 10_000)).toEqual([]);
      const after = await pageTags();
      // Only pages that held the post changed (in the site feed, its category's and its tag's); the rest did not.
      const touched = [...before].filter(([url, etag]) => after.get(url) !== etag).map(([url]) => url);
      expect(touched.length).toBeGreaterThan(0);
      expect(touched.every((url) => /\/archive\/\d+\//.test(url))).toBe(true);
      expect(touched.filter((url) => url.includes('/feeds/archive/')).every(changed(oldest!.page!))).toBe(true);
    }
    expect((await fp.api('DELETE', `/posts/${deleted}`)).status).toBe(204);
    expect(await converge(fp.url, REFS, fp.config, 10_000)).toEqual([]);
    const page = (await walkArchive(fp.url, SITE_FEED, fp.config))!.find((d) => d.page === oldest!.page)!;
    expect(page.ids).not.toContain(deleted);
    expect(page.ids).toContain(edited);
  });

  describe('an archived post that leaves its feed and comes back', () => {
    /** A category of 20 posts: its 10 oldest sealed on page 1 (`<name>-0` the oldest). */
    async function archivedCategory(name: string): Promise<FeedRef> {
      const ref: FeedRef = { kind: 'category', name };
      for (let i = 0; i < 20; i++) await put(`${name}-${i}`, { title: `${name} ${i}`, date: date(2, i), categories: [name] });
      expect(await converge(fp.url, [ref], fp.config, 10_000)).toEqual([]);
      const pages = (await walkArchive(fp.url, ref, fp.config))!;
      expect(pages.find((d) => d.page === 1)?.ids).toContain(`${name}-0`);
      return ref;
    }
    const where = async (ref: FeedRef, id: string) => ((await walkArchive(fp.url, ref, fp.config)) ?? []).filter((d) => d.ids.includes(id)).map((d) => d.page ?? 'current');

    it('stays on its page once, when the render of its delete reads it after its re-creation', async () => {
      const ref = await archivedCategory('bounce');
      const gate = new Gate();
      pauseReadsOf = { postId: 'bounce-0', gate };
      try {
        expect((await fp.api('DELETE', '/posts/bounce-0')).status).toBe(204);
        // The category's and the site's renders have read the delete from their inboxes and wait to read the post.
        await until(async () => gate.arrived, (n) => n >= 2);
        expect(gate.arrived).toBe(2);
        await put('bounce-0', { title: 'bounce 0', date: date(2, 0), categories: ['bounce'] });
      } finally {
        pauseReadsOf = undefined;
        gate.open();
      }
      // Each render reads the post back in the feed and keeps it on its page; the arrival, rendered next (the lane
      // idle: every record it read is handled), finds it there. Before, the arrival made it open as well: in two
      // documents for good.
      await fp.lanes.feeds.idle();
      expect(await converge(fp.url, [ref, SITE_FEED], fp.config, 10_000)).toEqual([]);
      expect(await where(ref, 'bounce-0')).toEqual([1]);
      // A delete now takes it out of every document.
      expect((await fp.api('DELETE', '/posts/bounce-0')).status).toBe(204);
      expect(await converge(fp.url, [ref, SITE_FEED], fp.config, 10_000)).toEqual([]);
      expect(await where(ref, 'bounce-0')).toEqual([]);
    });

    it('stays on its page once, when a hold releases its departure after the live write that brought it back', async () => {
      const ref = await archivedCategory('return');
      const hold = ((await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string }).id;
      const away = { title: 'return 0', date: date(2, 0) };
      expect((await fp.api('PUT', '/posts/return-0', { ...away, content: '<p>away</p>', categories: ['elsewhere'] }, { 'feedpub-hold': hold })).status).toBe(200);
      await put('return-0', { ...away, categories: ['return'] });
      expect(await converge(fp.url, [ref], fp.config, 10_000)).toEqual([]);
      expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
      await until(async () => ((await (await fp.api('GET', `/regeneration/holds/${hold}`)).json()) as { phase: string }).phase, (phase) => phase === 'published', 10_000);
      expect(await converge(fp.url, [ref, SITE_FEED, { kind: 'category', name: 'elsewhere' }], fp.config, 10_000)).toEqual([]);
      expect(await where(ref, 'return-0')).toEqual([1]);
    });
  });

  it('serves archive pages to be kept for a day and current documents for a minute', async () => {
    const current = await fetch(`${fp.url}/feeds/rss.xml`);
    const page = await fetch(`${fp.url}/feeds/archive/1/rss.xml`);
    expect(current.headers.get('cache-control')).toBe('public, max-age=60, s-maxage=0');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('public, max-age=86400');
    const body = await page.text();
    expect(body).toContain('<fh:archive/>');
    expect(body).toMatch(/<atom:link href="[^"]+\/feeds\/rss\.xml" rel="current"/);
    expect(body).toMatch(/<atom:link href="[^"]+\/feeds\/archive\/2\/rss\.xml" rel="next-archive"/);
    expect(await current.text()).toMatch(/rel="prev-archive"/);
  });
});
