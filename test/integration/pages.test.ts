import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedRef } from '../../lib/feeds/feed-ref.js';
import { feedPageKey } from '../../lib/pages/feed-links.js';
import { countingWrites } from '../support/faults.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { until } from '../support/until.js';

const SITE = 'https://news.example.com';
const EMNEWS: FeedRef = { kind: 'category', name: 'emnews' };
const EMNEWS_PAGE = '/feeds/categories/emnews/index.html';
const TAG_DIR = '/feeds/tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB';

let fp: TestFeedpub;
let writes: ReturnType<typeof countingWrites>;
let emptyHome: { status: number; body: string };

const local = (url: string) => url.replace(SITE, fp.url);
const get = (path: string, init?: RequestInit) => fetch(`${fp.url}${path}`, init);
const etagOf = async (path: string) => (await get(path, { method: 'HEAD' })).headers.get('etag');
const jsonFeed = async (dir: string) => (await (await get(`${dir}/feed.json`)).json()) as { items: { id: string; url: string; title: string; date_published: string; content_html: string }[] };

/** What a person sees of a page's post list, and what a reader finds in its head. */
function readPage(html: string) {
  return {
    posts: [...html.matchAll(/<li><a href="([^"]+)">([^<]*)<\/a> <time datetime="([^"]+)">([^<]+)<\/time><\/li>/g)].map((m) => ({ href: m[1]!, title: m[2]!, datetime: m[3]!, shown: m[4]! })),
    alternates: [...html.matchAll(/<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)">/g)].map((m) => ({ type: m[1]!, href: m[2]! })),
    links: [...html.matchAll(/<a href="([^"]+)">/g)].map((m) => m[1]!),
  };
}

const post = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `em${i}`,
  title: `离岸人民币快讯 ${i}`,
  content: `<p>第 ${i} 条</p>`,
  date: new Date(Date.UTC(2022, 4, 1, 2, i)).toISOString(),
  categories: ['emnews'],
  tags: ['东财滚动新闻'],
  ...extra,
});

beforeAll(async () => {
  fp = await startTestFeedpub(
    { FEEDPUB_SITE_TITLE: '金融消息', FEEDPUB_SITE_DESCRIPTION: '东方财富滚动新闻', FEEDPUB_SITE_LANGUAGE: 'zh-CN', FEEDPUB_TIMEZONE: 'Asia/Shanghai' },
    { wrapClients: ({ doc, s3 }) => ((writes = countingWrites(s3)), { doc, s3: writes.client }) },
  );
  const response = await get('/');
  emptyHome = { status: response.status, body: await response.text() };
  expect((await fp.api('POST', '/posts/batch', { posts: Array.from({ length: 25 }, (_, i) => post(i)) })).status).toBe(200);
  await until(() => get(EMNEWS_PAGE).then((r) => r.text()), (html) => readPage(html).posts[0]?.title === '离岸人民币快讯 24', 10_000);
}, 60_000);
afterAll(async () => {
  await fp?.stop();
});

describe('the page of a category or tag', () => {
  it.each([
    ['a category', '/feeds/categories/emnews', 'emnews'],
    ['a tag named in Chinese', TAG_DIR, '#东财滚动新闻'],
  ])('is beside the feeds of %s: its newest posts, dated as its feed dates them, linking to their pages', async (_, dir, name) => {
    const response = await get(`${dir}/index.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain(`<h1>${name}</h1>`);
    const { posts } = readPage(html);
    const feed = await jsonFeed(dir);
    expect(posts).toHaveLength(20);
    expect(posts.map((p) => p.title)).toEqual(feed.items.slice(0, 20).map((i) => i.title));
    expect(posts.map((p) => p.href)).toEqual(feed.items.slice(0, 20).map((i) => i.url));
    expect(posts.map((p) => p.datetime)).toEqual(feed.items.slice(0, 20).map((i) => i.date_published));
    // 2022-05-01 02:24 UTC, in the site's zone.
    expect(posts[0]!.shown).toBe('2022-05-01 10:24 UTC+8');
    // The post pages answer (their lane follows the feeds).
    const page = await until(() => get(new URL(local(posts[0]!.href)).pathname), (r) => r.status === 200);
    expect(await page.text()).toContain('<h1>离岸人民币快讯 24</h1>');
  });

  it('names its three feeds in its head, and each answers as that format', async () => {
    const { alternates } = readPage(await (await get(EMNEWS_PAGE)).text());
    expect(alternates).toEqual([
      { type: 'application/atom+xml', href: `${SITE}/feeds/categories/emnews/atom.xml` },
      { type: 'application/rss+xml', href: `${SITE}/feeds/categories/emnews/rss.xml` },
      { type: 'application/feed+json', href: `${SITE}/feeds/categories/emnews/feed.json` },
    ]);
    for (const { type, href } of alternates) expect((await fetch(local(href))).headers.get('content-type')).toBe(`${type}; charset=utf-8`);
  });

  it('keeps its bytes, and so its ETag, while nothing it shows changes', async () => {
    const key = feedPageKey(EMNEWS);
    const etag = await etagOf(EMNEWS_PAGE);
    const puts = writes.puts.get(key);
    // Another category's post: this page is not touched, the home page is.
    const home = await etagOf('/');
    expect((await fp.api('PUT', '/posts/other1', { title: '别的消息', content: '<p>别</p>', date: '2022-05-02T00:00:00Z', categories: ['other'] })).status).toBe(201);
    await until(() => etagOf('/'), (e) => e !== home);
    // An edit of a post's content only: its feed changes, its page does not.
    const before = await jsonFeed('/feeds/categories/emnews');
    expect((await fp.api('PUT', '/posts/em24', post(24, { content: '<p>改过的正文</p>' }))).status).toBe(200);
    const after = await until(() => jsonFeed('/feeds/categories/emnews'), (f) => f.items[0]!.content_html !== before.items[0]!.content_html);
    expect(after.items[0]!.content_html).toContain('改过的正文');
    // A forced render of unchanged posts writes nothing: the page's bytes are recorded with the feed's.
    expect((await fp.regeneration.regenerator.ensureRendered(EMNEWS, { force: true })).puts).toBe(0);
    expect(await etagOf(EMNEWS_PAGE)).toBe(etag);
    expect(writes.puts.get(key)).toBe(puts);

    // A new title is shown at once, with the feed.
    expect((await fp.api('PUT', '/posts/em24', post(24, { title: '离岸人民币升至6.3512' }))).status).toBe(200);
    const html = await until(() => get(EMNEWS_PAGE).then((r) => r.text()), (h) => h.includes('离岸人民币升至6.3512'));
    expect(readPage(html).posts[0]!.title).toBe('离岸人民币升至6.3512');
    expect(await etagOf(EMNEWS_PAGE)).not.toBe(etag);
  });
});

describe('the home page', () => {
  it('answers / once there is a post, and says why not before', () => {
    expect(emptyHome.status).toBe(404);
    expect(emptyHome.body).toMatch(/Nothing is published yet/);
  });

  it('is the site feed page: the title and description, the newest posts, the site feeds, the directory', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('<h1>金融消息</h1>\n<p>东方财富滚动新闻</p>');
    const { posts, alternates, links } = readPage(html);
    const feed = await jsonFeed('/feeds');
    expect(posts.map((p) => p.title)).toEqual(feed.items.slice(0, 20).map((i) => i.title));
    expect(alternates.map((a) => a.href)).toEqual([`${SITE}/feeds/atom.xml`, `${SITE}/feeds/rss.xml`, `${SITE}/feeds/feed.json`]);
    expect(links).toContain(`${SITE}/feeds/index.html`);
    expect((await until(() => get('/feeds/index.html'), (r) => r.status === 200)).status).toBe(200);
    // The feeds' <link> names this page.
    expect(await (await get('/feeds/rss.xml')).text()).toContain(`<link>${SITE}/</link>`);
    expect((await get('/index.html')).status).toBe(200);
  });

  it('sends /feeds to /feeds/, where the directory links relative to', async () => {
    const response = await get('/feeds', { redirect: 'manual' });
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/feeds/');
  });
});
