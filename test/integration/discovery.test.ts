import { parseOpml } from 'feedsmith';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertWellFormedXml } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { until } from '../support/until.js';

let fp: TestFeedpub;
beforeAll(async () => {
  // The directory at most once every 2 s on writes; the tick (every second) catches it up.
  fp = await startTestFeedpub({ FEEDPUB_SITE_TITLE: '金融消息', FEEDPUB_SITE_LANGUAGE: 'zh-CN', FEEDPUB_DIRECTORY_INTERVAL: '2' });
  await fp.api('PUT', '/posts/d1', { title: '第一条', content: '<p>一</p>', date: '2021-12-08T10:00:00+08:00', categories: ['emnews', 'TechWeb'], tags: ['东财滚动新闻'] });
  await fp.api('PUT', '/posts/d2', { title: '第二条', content: '<p>二</p>', date: '2021-12-08T11:00:00+08:00', categories: ['emnews', 'zhongguolaodongbaozhangbao'] });
});
afterAll(async () => {
  await fp?.stop();
});

const indexPage = async () => (await fetch(`${fp.url}/feeds/`)).text();
/** The directory as a person walks it: its first page, then the page of every initial it links to. */
const directory = async () => {
  const index = await indexPage();
  const groups = [...new Set([...index.matchAll(/href="((?:categories|tags)\/[^"/]+\.html)"/g)].map((m) => m[1]!))];
  const pages = await Promise.all(groups.map(async (path) => (await fetch(`${fp.url}/feeds/${path}`)).text()));
  return [index, ...pages].join('\n');
};
const newestOf = async (path: string) => JSON.parse(await (await fetch(`${fp.url}/feeds/${path}/feed.json`)).text()).items[0].date_published as string;
type Outline = { xmlUrl?: string; htmlUrl?: string };
const opmlOutlines = async (): Promise<Outline[]> => {
  const response = await fetch(`${fp.url}/feeds/opml.xml`);
  if (response.status !== 200) return [];
  const body = await response.text();
  assertWellFormedXml(body);
  const opml = parseOpml(body) as { body?: { outlines?: (Outline & { outlines?: Outline[] })[] } };
  return (opml.body?.outlines ?? []).flatMap((o) => [o, ...(o.outlines ?? [])]).filter((o) => o.xmlUrl);
};
const opmlUrls = async () => (await opmlOutlines()).map((o) => o.xmlUrl!);

describe('discovery', () => {
  it('lists every feed by initial, with its post count and the date its feed gives its newest post', async () => {
    // Each feed is listed as soon as it has a post; counts and dates follow at the tick.
    const tagsD = /<a href="tags\/d\.html">D <span class="about">1<\/span><\/a>/;
    const categoriesE = /<a href="categories\/e\.html">E <span class="about">1<\/span><\/a>/;
    // The first page and the pages of the initials are separate documents of one render: wait for both to show it.
    const html = await until(directory, (h) => h.includes('zhongguolaodongbaozhangbao') && h.includes('TechWeb') && h.includes('emnews</a> <span class="about">2 posts') && tagsD.test(h) && categoriesE.test(h));
    const index = await indexPage();
    expect(index).toContain('<h1>金融消息: feeds</h1>');
    // Only the site's feeds are in the head, however many feeds there are.
    const alternates = [...index.matchAll(/<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)">/g)].map((m) => m[2]);
    expect(alternates.sort()).toEqual(['https://news.example.com/feeds/atom.xml', 'https://news.example.com/feeds/feed.json', 'https://news.example.com/feeds/rss.xml']);
    // Chinese names under the first letter of their pinyin, beside the Latin ones.
    expect(index).toMatch(tagsD);
    expect(index).toMatch(categoriesE);
    const emnews = await newestOf('categories/emnews');
    expect(html).toContain(`<a href="emnews/index.html">emnews</a> <span class="about">2 posts · <time datetime="${emnews}">`);
    const tag = await newestOf('tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB');
    expect(html).toContain(`<a href="%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/index.html">#东财滚动新闻</a> <span class="about">1 post · <time datetime="${tag}">`);
    expect(html).not.toMatch(/<script/i);
  });

  it('offers every feed as OPML 2.0', async () => {
    const urls = await until(opmlUrls, (u) => u.length === 5);
    expect(urls).toHaveLength(5);
    expect(urls).toEqual(
      expect.arrayContaining([
        'https://news.example.com/feeds/rss.xml',
        'https://news.example.com/feeds/categories/emnews/rss.xml',
        expect.stringMatching(/^https:\/\/news\.example\.com\/feeds\/categories\/techweb_[0-9a-f]{8}\/rss\.xml$/),
        'https://news.example.com/feeds/categories/zhongguolaodongbaozhangbao/rss.xml',
        'https://news.example.com/feeds/tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/rss.xml',
      ]),
    );
    // Each outline's page is the feed's own page, which answers.
    const pages: Record<string, string> = Object.fromEntries((await opmlOutlines()).map((o) => [o.xmlUrl!, o.htmlUrl!]));
    expect(pages['https://news.example.com/feeds/rss.xml']).toBe('https://news.example.com/');
    expect(pages['https://news.example.com/feeds/categories/emnews/rss.xml']).toBe('https://news.example.com/feeds/categories/emnews/index.html');
    for (const page of Object.values(pages)) expect((await fetch(page.replace('https://news.example.com', fp.url))).status, page).toBe(200);
  });

  it('follows when a feed disappears (its last post deleted) and appears', async () => {
    expect((await fp.api('DELETE', '/posts/d2')).status).toBe(204);
    // The write renders two feeds, and the directory (or the tick) can read their records between the two renders:
    // a reader may see zhongguolaodongbaozhangbao gone while emnews still counts 2, until the next render.
    const emnewsOnePost = '<a href="emnews/index.html">emnews</a> <span class="about">1 post · ';
    const html = await until(directory, (h) => !h.includes('zhongguolaodongbaozhangbao') && h.includes(emnewsOnePost));
    expect(html).not.toContain('zhongguolaodongbaozhangbao');
    expect(html).toContain(emnewsOnePost);
    expect(await until(opmlUrls, (u) => u.length === 4)).toHaveLength(4);

    await fp.api('PUT', '/posts/d3', { title: '第三条', content: '<p>三</p>', categories: ['新华社（北京）'] });
    expect(await until(directory, (h) => h.includes('新华社（北京）'))).toContain('新华社（北京）');
  });

  it('lists a new feed within a second of its first post, and renders at most once per interval under writes to listed feeds', async () => {
    const etag = async () => (await fetch(`${fp.url}/feeds/index.html`, { method: 'HEAD' })).headers.get('etag');
    for (let i = 0; i < 2; i++) {
      expect((await fp.api('PUT', `/posts/new-outlet-${i}`, { title: `新 ${i}`, content: '<p>新</p>', categories: [`outlet${i}`] })).status).toBe(201);
      const answered = Date.now();
      await until(directory, (h) => h.includes(`<a href="outlet${i}/index.html">outlet${i}</a>`), 1000);
      expect(Date.now() - answered).toBeLessThan(1000);
    }
    // Writes to feeds already listed change only counts and dates: the tick's business, once per interval at most.
    const started = Date.now();
    const tags = new Set([await etag()]);
    for (let i = 0; i < 8; i++) {
      expect((await fp.api('PUT', `/posts/run${i}`, { title: `快讯 ${i}`, content: '<p>快</p>', categories: [`outlet${i % 2}`] })).status).toBe(201);
      // Every write is in its feeds at once, directory or not.
      await until(async () => (await fetch(`${fp.url}/feeds/categories/outlet${i % 2}/feed.json`)).text(), (body) => body.includes(`快讯 ${i}`), 2000);
      tags.add(await etag());
    }
    const elapsed = Date.now() - started;
    // One render per 2 s interval at most while the writes ran (each render changes the ETag once).
    expect(tags.size - 1).toBeLessThanOrEqual(Math.ceil(elapsed / 2000));
    const html = await until(directory, (h) => h.includes('outlet0</a> <span class="about">5 posts') && h.includes('outlet1</a> <span class="about">5 posts'));
    expect(html).toContain('outlet1</a> <span class="about">5 posts');
  });
});
