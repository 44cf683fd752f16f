import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { generateKey, hashKey } from '../../lib/keys/key-format.js';
import { FeedRegenerator } from '../../lib/regen/feed-regenerator.js';
import { createDocumentClient, createS3Client } from '../../lib/store/clients.js';
import { DynamoFeedArchive } from '../../lib/store/dynamo-feed-archive.js';
import { DynamoFeedStateRepository } from '../../lib/store/dynamo-feed-state.js';
import { DynamoPostRepository } from '../../lib/store/dynamo-posts.js';
import { S3FeedStore } from '../../lib/store/s3-feed-store.js';
import { DynamoKeyAdmin } from '../../lib/store/dynamo-key-admin.js';
import { countingWrites } from '../support/faults.js';
import { fetchFeedHeads, fetchFeedSet, type FeedHead } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { until } from '../support/until.js';

const FEEDS = ['feeds', feedDirectory({ kind: 'category', name: 'markets' }, encodeURIComponent), feedDirectory({ kind: 'tag', name: '利率' }, encodeURIComponent)];
const SETTINGS = { title: '金融消息', description: '财经快讯', url: 'https://finews.withounder.com', language: 'zh-CN', author: 'ZNing', timeZone: 'Asia/Shanghai' };

let fp: TestFeedpub;
let writes: ReturnType<typeof countingWrites>;
let scoped: string;

const post = (title: string, extra: Record<string, unknown> = {}) => ({ title, content: `<p>${title}</p>`, categories: ['markets'], tags: ['利率'], ...extra });
const page = async (path: string) => (await fetch(`${fp.url}/${path}`)).text();
const heads = async () => (await Promise.all(FEEDS.map((dir) => fetchFeedHeads(fp.url, dir)))).flatMap((set) => Object.values(set));
const putCount = () => [...writes.puts.values()].reduce((a, b) => a + b, 0);
/** The number of S3 writes once none has come for 1.5 s (the previous test's renders, the directory's tick). */
async function quiet(): Promise<number> {
  for (let last = -1; ; ) {
    const now = putCount();
    if (now === last) return now;
    last = now;
    await new Promise((r) => setTimeout(r, 1_500));
  }
}
const titled = (head: FeedHead, title: string) => head.title === title || head.title.startsWith(`${title} · `);

beforeAll(async () => {
  fp = await startTestFeedpub({ FEEDPUB_SITE_LANGUAGE: 'en' }, { wrapClients: ({ doc, s3 }) => ((writes = countingWrites(s3)), { doc, s3: writes.client }) });
  scoped = generateKey();
  await new DynamoKeyAdmin(createDocumentClient(), fp.config.tableName).create(hashKey(scoped), 'markets-desk', { categories: ['markets'], tags: [] });
  for (const id of ['first', 'second']) expect((await fp.api('PUT', `/posts/${id}`, post(`Post ${id}`), { prefer: 'wait' })).headers.get('feedpub-feeds')).toBe('current');
});
afterAll(async () => {
  await fp?.stop();
});

describe('the site settings', () => {
  it('are the deployment defaults until some are stored', async () => {
    const response = await fp.api('GET', '/site');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      settings: {},
      effective: { title: 'Test News', description: '', url: 'https://news.example.com', language: 'en', author: 'Test News', timeZone: 'UTC' },
      version: 0,
    });
    for (const head of await heads()) expect(head).toMatchObject({ link: 'https://news.example.com/', language: 'en' });
  });

  it('need an unscoped key, a JSON body and valid fields; a refusal stores nothing', async () => {
    for (const method of ['GET', 'PUT']) {
      const refused = await fp.api(method, '/site', method === 'PUT' ? SETTINGS : undefined, { authorization: `Bearer ${scoped}` });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unscoped_key_required');
    }
    expect((await fp.api('PUT', '/site', JSON.stringify(SETTINGS), { 'content-type': 'text/plain' })).status).toBe(415);
    const invalid = await fp.api('PUT', '/site', { title: '', url: 'javascript:alert(1)', language: 'Chinese', timeZone: 'Asia/Beijing', theme: 'dark' });
    expect(invalid.status).toBe(400);
    const issues = ((await invalid.json()) as { error: { issues: { field: string; rule: string }[] } }).error.issues;
    expect(issues.map((i) => i.field).sort()).toEqual(['language', 'theme', 'timeZone', 'title', 'url']);
    expect(((await (await fp.api('GET', '/site')).json()) as { version: number }).version).toBe(0);
  });

  it('once stored, reach every feed, the home page, the feeds\' pages and the directory, without renaming an item', async () => {
    const idsBefore = (await fetchFeedSet(fp.url, 'feeds'))!.atom.items.map((i) => i.id);
    const response = await fp.api('PUT', '/site', SETTINGS);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ settings: SETTINGS, effective: SETTINGS, version: 1, changed: true });

    // No write touches these feeds: the change itself has each rendered again (told through its inbox).
    const seen = await until(heads, (all) => all.every((h) => titled(h, '金融消息') && h.link === 'https://finews.withounder.com/' && h.language === 'zh-CN'), 15_000);
    expect(seen.every((h) => titled(h, '金融消息') && h.link === 'https://finews.withounder.com/' && h.language === 'zh-CN')).toBe(true);
    expect(seen.filter((h) => h.author !== undefined).every((h) => h.author === 'ZNing')).toBe(true);
    expect((await fetchFeedSet(fp.url, 'feeds'))!.atom.items.map((i) => i.id)).toEqual(idsBefore);

    const home = await page('');
    expect(home).toContain('<html lang="zh-CN">');
    expect(home).toContain('<title>金融消息</title>');
    expect(await page(`${FEEDS[1]}/index.html`)).toContain('<html lang="zh-CN">');
    const directory = await until(() => page('feeds/index.html'), (html) => html.includes('<title>金融消息: feeds</title>'), 15_000);
    expect(directory).toContain('<html lang="zh-CN">');
    // Each feed's and the directory's item of the change was covered by the render that showed it.
    expect(await until(() => fp.regeneration.state.listStale(), (stale) => stale.length === 0)).toEqual([]);
  });

  it('are used by the API: Jekyll dates without an offset in the stored zone, and new post pages with the new head', async () => {
    const created = await fp.api('POST', '/posts', '---\ntitle: 北京时间\ndate: 2021-12-08 10:46:18\ncategories: markets\n---\n\n正文\n', { 'content-type': 'text/markdown', slug: encodeURIComponent('2021-12-08-北京 时间.md') });
    expect(created.status).toBe(201);
    const stored = (await created.json()) as { id: string; date: string };
    expect(stored.id).toMatch(/^p-[0-9a-f]{8}$/);
    expect(stored.date).toBe('2021-12-08T02:46:18.000Z');
    const html = await until(() => page(`posts/${stored.id}.html`), (body) => body.includes('<title>'), 10_000);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('2021-12-08 10:46 UTC+8');
    // A post page written before the change keeps its head until its post is written again (README).
    expect(await page('posts/first.html')).toContain('<html lang="en">');
  });

  it('stored again unchanged change nothing: no version, no render, no byte', async () => {
    const before = await quiet();
    const again = await fp.api('PUT', '/site', { ...SETTINGS, url: 'https://finews.withounder.com/' });
    expect(await again.json()).toMatchObject({ version: 1, changed: false });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(putCount()).toBe(before);
  });

  it('left out go back to the deployment defaults, in every feed', async () => {
    const response = await fp.api('PUT', '/site', { title: '金融消息' });
    expect(await response.json()).toMatchObject({ settings: { title: '金融消息' }, effective: { url: 'https://news.example.com', language: 'en' }, version: 2, changed: true });
    const seen = await until(heads, (all) => all.every((h) => h.link === 'https://news.example.com/' && h.language === 'en'), 15_000);
    expect(seen.every((h) => titled(h, '金融消息') && h.language === 'en')).toBe(true);
  });

  it('changed during a render are in the document it records: it renders the current document again', async () => {
    const { tableName, bucketName } = fp.config;
    const doc = createDocumentClient();
    let asked = 0;
    // The settings at the render's start, then a change that lands while it renders.
    const site = {
      current: async () => {
        const version = Math.min(++asked, 2);
        return { ...fp.config.site, title: version === 1 ? 'Before the change' : 'After the change', settingsVersion: 100 + version };
      },
    };
    const regenerator = new FeedRegenerator({ posts: new DynamoPostRepository(doc, tableName), archive: new DynamoFeedArchive(doc, tableName), state: new DynamoFeedStateRepository(doc, tableName), feeds: new S3FeedStore(createS3Client(), bucketName), site });
    const result = await regenerator.ensureRendered({ kind: 'category', name: 'markets' }, { force: true, waitMs: 10_000 });
    expect(result.renders).toBe(2);
    expect(Object.values(await fetchFeedHeads(fp.url, FEEDS[1]!)).map((h) => h.title)).toEqual(Array(3).fill('After the change · markets'));
  });
});
