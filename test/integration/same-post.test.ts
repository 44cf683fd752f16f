import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { fetchFeedSet, titles, waitForFeedSet, withinASecond } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub();
});
afterAll(async () => {
  await fp?.stop();
});

const dir = (name: string) => feedDirectory({ kind: 'category', name }, encodeURIComponent);
const CATEGORIES = ['c0', 'c1', 'c2', 'c3', 'c4'];

async function waitForPage(id: string, check: (html: string) => boolean, deadline: number): Promise<string> {
  for (;;) {
    const response = await fetch(`${fp.url}/posts/${id}.html`);
    const html = response.status === 200 ? await response.text() : '';
    if (check(html)) return html;
    if (Date.now() > deadline) throw new Error(`posts/${id}.html did not reach the expected state; last seen ${response.status}: ${html.slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('50 concurrent PUTs of one post (a publisher retrying a timed-out PUT races itself this way)', () => {
  it('all succeed within 2 s, the last writer wins, and its version is in the feeds and the page', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const sent = performance.now();
        const response = await fp.api('PUT', '/posts/contended', { title: `Version ${i}`, content: `<p>${i}</p>`, categories: [CATEGORIES[i % 5]], date: '2024-05-01T00:00:00Z' });
        return { status: response.status, ms: performance.now() - sent, outcome: response.headers.get('feedpub-outcome'), body: (await response.json()) as { error?: unknown } };
      }),
    );
    const by = withinASecond();
    expect(answers.filter((a) => a.status !== 200 && a.status !== 201).map((a) => a.body)).toEqual([]);
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(2000);
    // Each answer says what became of its write: the one creation, replacements, and writes a later one replaced.
    expect(answers.filter((a) => a.outcome === 'created')).toHaveLength(1);
    for (const a of answers) expect(['created', 'updated', 'superseded']).toContain(a.outcome);

    const stored = (await (await fp.api('GET', '/posts/contended')).json()) as { title: string; categories: string[] };
    const home = stored.categories[0]!;
    const feed = await waitForFeedSet(fp.url, dir(home), (f) => titles(f).join() === stored.title, by);
    expect(titles(feed.json)).toEqual([stored.title]);
    const site = await waitForFeedSet(fp.url, 'feeds', (f) => titles(f).filter((t) => t.startsWith('Version ')).join() === stored.title, by);
    expect(titles(site.rss).filter((t) => t.startsWith('Version '))).toEqual([stored.title]);
    for (const other of CATEGORIES.filter((c) => c !== home)) expect((await fetchFeedSet(fp.url, dir(other)))?.atom.items ?? []).toEqual([]);
    await waitForPage('contended', (html) => html.includes(`<h1>${stored.title}</h1>`), by);
  });
});

describe('optimistic concurrency with ETags', () => {
  const post = (title: string) => ({ title, content: `<p>${title}</p>`, categories: ['etags'] });

  it('answers every write and read with the post ETag', async () => {
    const created = await fp.api('PUT', '/posts/tagged', post('Tagged'));
    const etag = created.headers.get('etag');
    expect(etag).toMatch(/^"1-[A-Za-z0-9_-]{16}"$/);
    expect((await fp.api('GET', '/posts/tagged')).headers.get('etag')).toBe(etag);
    const updated = await fp.api('PUT', '/posts/tagged', post('Tagged again'));
    expect(updated.headers.get('etag')).toMatch(/^"2-/);
  });

  it('replaces with If-Match only while the ETag is current, and answers 412 naming the header when it lost', async () => {
    const first = await fp.api('PUT', '/posts/guarded', post('Guarded 1'));
    const etag = first.headers.get('etag')!;
    const won = await fp.api('PUT', '/posts/guarded', post('Guarded 2'), { 'if-match': etag });
    expect(won.status).toBe(200);
    const lost = await fp.api('PUT', '/posts/guarded', post('Guarded 3'), { 'if-match': etag });
    expect(lost.status).toBe(412);
    expect(((await lost.json()) as any).error).toMatchObject({ code: 'precondition_failed', issues: [{ field: 'If-Match', rule: 'precondition' }] });
    expect(((await (await fp.api('GET', '/posts/guarded')).json()) as { title: string }).title).toBe('Guarded 2');
    expect((await fp.api('PUT', '/posts/guarded-new', post('New'), { 'if-match': '*' })).status).toBe(412);
  });

  it('creates with If-None-Match: * only where no post is stored', async () => {
    expect((await fp.api('PUT', '/posts/fresh', post('Fresh'), { 'if-none-match': '*' })).status).toBe(201);
    expect((await fp.api('PUT', '/posts/fresh', post('Fresh again'), { 'if-none-match': '*' })).status).toBe(412);
    expect(((await (await fp.api('GET', '/posts/fresh')).json()) as { title: string }).title).toBe('Fresh');
  });

  it('deletes with If-Match only while the ETag is current', async () => {
    const created = await fp.api('PUT', '/posts/doomed-etag', post('Doomed'));
    const old = created.headers.get('etag')!;
    const current = (await fp.api('PUT', '/posts/doomed-etag', post('Doomed, edited'))).headers.get('etag')!;
    expect((await fp.api('DELETE', '/posts/doomed-etag', undefined, { 'if-match': old })).status).toBe(412);
    expect((await fp.api('DELETE', '/posts/doomed-etag', undefined, { 'if-match': current })).status).toBe(204);
  });

  it('lets exactly one of many racing conditional PUTs with the same ETag win; the others get 412', async () => {
    const etag = (await fp.api('PUT', '/posts/raced', post('Raced 0'))).headers.get('etag')!;
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => fp.api('PUT', '/posts/raced', post(`Raced ${i + 1}`), { 'if-match': etag }).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(9);
  });
});
