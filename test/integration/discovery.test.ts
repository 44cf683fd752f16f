import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseOpml } from 'feedsmith';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertWellFormedXml } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM} (.ci/run installs Debian's chromium)`);

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

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 6000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const indexPage = async () => (await fetch(`${fp.url}/feeds/`)).text();
const opmlUrls = async () => {
  const response = await fetch(`${fp.url}/feeds/opml.xml`);
  if (response.status !== 200) return [];
  const body = await response.text();
  assertWellFormedXml(body);
  const opml = parseOpml(body) as { body?: { outlines?: { xmlUrl?: string; outlines?: { xmlUrl?: string }[] }[] } };
  return (opml.body?.outlines ?? []).flatMap((o) => [o.xmlUrl, ...(o.outlines ?? []).map((c) => c.xmlUrl)]).filter(Boolean) as string[];
};

describe('discovery', () => {
  it('lists every feed on feeds/index.html with its post count, last update and alternate links', async () => {
    const html = await until(indexPage, (h) => h.includes('zhongguolaodongbaozhangbao') && h.includes('TechWeb'));
    expect(html).toContain('<h1>金融消息: feeds</h1>');
    expect(html).toMatch(/<span class="name">emnews<\/span> <span class="about"><span class="count">2<\/span> posts · updated <time datetime="[^"]+">/);
    expect(html).toMatch(/<span class="name">#东财滚动新闻<\/span> <span class="about"><span class="count">1<\/span> post /);
    const alternates = [...html.matchAll(/<link rel="alternate" type="([^"]+)" title="[^"]*" href="([^"]+)">/g)];
    // Site, three categories, one tag; three formats each.
    expect(alternates).toHaveLength(15);
    expect(alternates.map((m) => m[2])).toContain('https://news.example.com/feeds/categories/emnews/feed.json');
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
  });

  it('follows when a feed disappears (its last post deleted) and appears', async () => {
    expect((await fp.api('DELETE', '/posts/d2')).status).toBe(204);
    const html = await until(indexPage, (h) => !h.includes('zhongguolaodongbaozhangbao'));
    expect(html).not.toContain('zhongguolaodongbaozhangbao');
    expect(html).toMatch(/<span class="name">emnews<\/span> <span class="about"><span class="count">1<\/span> post /);
    expect(await until(opmlUrls, (u) => u.length === 4)).toHaveLength(4);

    await fp.api('PUT', '/posts/d3', { title: '第三条', content: '<p>三</p>', categories: ['新华社（北京）'] });
    expect(await until(indexPage, (h) => h.includes('新华社（北京）'))).toContain('新华社（北京）');
  });

  it('renders the directory at most once per interval under a run of writes, and catches up within it', async () => {
    const etag = async () => (await fetch(`${fp.url}/feeds/index.html`, { method: 'HEAD' })).headers.get('etag');
    const started = Date.now();
    const tags = new Set([await etag()]);
    for (let i = 0; i < 8; i++) {
      expect((await fp.api('PUT', `/posts/run${i}`, { title: `快讯 ${i}`, content: '<p>快</p>', categories: [`outlet${i}`] })).status).toBe(201);
      // Every write is in its feeds at once, directory or not.
      await until(async () => (await fetch(`${fp.url}/feeds/categories/outlet${i}/feed.json`)).status, (s) => s === 200, 2000);
      tags.add(await etag());
    }
    const elapsed = Date.now() - started;
    // One render per 2 s interval at most while the writes ran (each render changes the ETag once).
    expect(tags.size - 1).toBeLessThanOrEqual(Math.ceil(elapsed / 2000));
    const html = await until(indexPage, (h) => h.includes('outlet7'));
    for (let i = 0; i < 8; i++) expect(html).toContain(`<span class="name">outlet${i}</span>`);
  });

  it.skipIf(!haveChromium)('reads well in a real browser on a phone, without JavaScript', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ javaScriptEnabled: false, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
      const response = await page.goto(`${fp.url}/feeds/index.html`);
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('金融消息: feeds');
      expect(await page.locator('h1').textContent()).toBe('金融消息: feeds');
      expect(await page.locator('ul.feeds li').count()).toBeGreaterThanOrEqual(4);
      expect(await page.locator('link[rel="alternate"][type="application/rss+xml"]').count()).toBeGreaterThanOrEqual(4);
      // Nothing wider than the phone: no sideways scrolling.
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      // CJK text needs a CJK font to show as text rather than boxes (.ci/run installs one; readers' devices have one).
      expect(execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).trim()).not.toBe('');
      const dir = join(import.meta.dirname, '../../test-output');
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'feeds-index.png'), fullPage: true });
      expect(existsSync(join(dir, 'feeds-index.png'))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
