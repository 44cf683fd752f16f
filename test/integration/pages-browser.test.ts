import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIRECTORY } from '../../lib/feeds/feed-ref.js';
import { STYLE_CSP_SOURCE } from '../../lib/pages/layout.js';
import { createDocumentClient } from '../../lib/store/clients.js';
import { DIRECTORY_INDEX, keys } from '../../lib/store/table.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { manyFeeds } from '../support/many-feeds.js';
import { until } from '../support/until.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM} (.ci/run installs Debian's chromium)`);

const SITE = 'https://news.example.com';
/** Feeds seeded; the posts add the site feed, two categories and a tag. */
const FEEDS = 5000;
const LIMIT = 200 * 1024;
const PHONE = { width: 390, height: 844 };
// What another part of feedpub sends with HTML: nothing but the page's own style sheet (and images of posts).
const CSP = `default-src 'none'; style-src ${STYLE_CSP_SOURCE}; img-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
const SHOTS = join(import.meta.dirname, '../../test-output');

let fp: TestFeedpub;
let browser: Browser;

/**
 * The real feeds and their pages come through the API; the other 5,000 feeds of the directory are written straight
 * into the table as their renders leave them (a RENDER item in the directory's index, with a count and a newest
 * date), which costs seconds instead of 5,000 renders. The directory is then rendered and served as always.
 */
async function seedFeeds(): Promise<void> {
  const doc = createDocumentClient(new DynamoDBClient({}));
  const items = manyFeeds(FEEDS)
    .filter((f) => !['c:emnews', 'c:TechWeb', 't:东财滚动新闻'].includes(f.feedId))
    .map((f) => ({ ...keys.feedRender(f.feedId), count: f.count, newest: f.newest, pages: 0, objects: {}, [DIRECTORY_INDEX.partitionKey]: DIRECTORY_INDEX.partition }));
  for (let i = 0; i < items.length; i += 25) {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [fp.config.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) };
    while (request && Object.keys(request).length > 0) request = (await doc.send(new BatchWriteCommand({ RequestItems: request }))).UnprocessedItems as typeof request;
  }
  doc.destroy();
}

beforeAll(async () => {
  if (!haveChromium) return;
  fp = await startTestFeedpub({ FEEDPUB_SITE_TITLE: '金融消息', FEEDPUB_SITE_DESCRIPTION: '东方财富滚动新闻', FEEDPUB_SITE_LANGUAGE: 'zh-CN', FEEDPUB_TIMEZONE: 'Asia/Shanghai', FEEDPUB_DIRECTORY_INTERVAL: '3600' });
  const posts = Array.from({ length: 30 }, (_, i) => ({
    id: `p${i}`,
    title: `离岸人民币升至6.35${String(i).padStart(2, '0')}，创2018年5月以来新高`,
    content: `<p>据东方财富网消息，第 ${i} 条快讯。</p>`,
    date: new Date(Date.UTC(2022, 4, 26, 2, i)).toISOString(),
    categories: i % 3 === 0 ? ['emnews', 'TechWeb'] : ['emnews'],
    tags: ['东财滚动新闻'],
  }));
  expect((await fp.api('POST', '/posts/batch', { posts })).status).toBe(200);
  await seedFeeds();
  // The site, the two real categories and the tag are listed once their renders are recorded.
  await until(async () => (await fp.regeneration.state.listFeeds()).length, (n) => n === FEEDS + 4, 20_000);
  await fp.regeneration.regenerator.ensureRendered(DIRECTORY, { lanes: [], force: true, waitMs: 30_000 });
  await until(async () => (await fetch(`${fp.url}/posts/p29.html`)).status, (s) => s === 200, 20_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SHOTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await fp?.stop();
});

interface Visit {
  page: Page;
  /** Bytes of each document the page loaded, by URL. */
  sizes: Map<string, number>;
  /** Requests for anything not on the site (there should be none), and CSP violations reported. */
  external: string[];
  violations: string[];
}

/**
 * A phone with JavaScript off, browsing the site's public address: every request is answered by the local front
 * (as CloudFront would answer it), with the strict Content-Security-Policy HTML gets; anything else is refused
 * and noted.
 */
async function phone(): Promise<Visit> {
  const page = await browser.newPage({ javaScriptEnabled: false, viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const visit: Visit = { page, sizes: new Map(), external: [], violations: [] };
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) visit.violations.push(message.text());
  });
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (!url.startsWith(`${SITE}/`)) {
      visit.external.push(url);
      return route.abort();
    }
    const response = await route.fetch({ url: url.replace(SITE, fp.url), maxRedirects: 0 });
    const body = await response.body();
    visit.sizes.set(url, body.length);
    const html = (response.headers()['content-type'] ?? '').startsWith('text/html');
    await route.fulfill({ response, body, headers: { ...response.headers(), ...(html ? { 'content-security-policy': CSP } : {}) } });
  });
  return visit;
}

interface Anatomy {
  scripts: number;
  handlers: string[];
  scriptUrls: string[];
  scrollWidth: number;
  fontSize: number;
  styled: string;
  alternates: string[];
}

/** What a page is made of, read from the DOM Chromium built (the project compiles without the DOM's types). */
const anatomy = (page: Page) =>
  page.evaluate(`(() => {
    const all = [...document.querySelectorAll('*')];
    return {
      scripts: document.querySelectorAll('script, noscript, iframe, object, embed').length,
      handlers: all.flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => el.tagName + ' ' + a.name)),
      scriptUrls: all.flatMap((el) => [...el.attributes].filter((a) => /^\\s*javascript:/i.test(a.value)).map((a) => a.value)),
      scrollWidth: document.documentElement.scrollWidth,
      fontSize: parseFloat(getComputedStyle(document.body).fontSize),
      styled: getComputedStyle(document.body).maxWidth,
      alternates: [...document.querySelectorAll('link[rel="alternate"]')].map((l) => l.getAttribute('href')),
    };
  })()`) as Promise<Anatomy>;

const hrefs = (page: Page, selector: string) => page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((l) => l.href)`) as Promise<string[]>;

/** The fonts Chromium drew an element's text with, and how many glyphs each drew. */
async function fontsOf(page: Page, selector: string): Promise<{ familyName: string; glyphCount: number }[]> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return fonts;
}

const CJK_FONTS = () => execFileSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' }).split(/[\n,]/).map((f) => f.trim()).filter(Boolean);

async function expectReadableWithoutScripts(visit: Visit, name: string, fullPage = true): Promise<void> {
  const a = await anatomy(visit.page);
  expect(a.scripts, name).toBe(0);
  expect(a.handlers, name).toEqual([]);
  expect(a.scriptUrls, name).toEqual([]);
  // Nothing wider than the phone: no sideways scrolling; text at a readable size; the style sheet applied under the CSP.
  expect(a.scrollWidth, name).toBeLessThanOrEqual(PHONE.width);
  expect(a.fontSize, name).toBeGreaterThanOrEqual(16);
  expect(visit.external, name).toEqual([]);
  expect(visit.violations, name).toEqual([]);
  expect(a.styled, name).toBe('736px');
  await visit.page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

describe.skipIf(!haveChromium)(`pages in Chromium, on a phone, at ${FEEDS.toLocaleString('en')} feeds`, () => {
  it('walks from the home page through the directory to a tag page and a post, each small, without scripts, readable', async () => {
    const visit = await phone();
    const { page } = visit;
    try {
      expect((await page.goto(`${SITE}/`))?.status()).toBe(200);
      expect(await page.title()).toBe('金融消息');
      expect(await page.locator('ol.posts li').count()).toBe(20);
      await expectReadableWithoutScripts(visit, 'home');

      await page.getByRole('link', { name: 'All feeds' }).first().click();
      expect(page.url()).toBe(`${SITE}/feeds/index.html`);
      expect(visit.sizes.get(page.url())).toBeLessThan(LIMIT);
      // Only the site's feeds in the head, the whole count in the body.
      expect((await anatomy(page)).alternates).toEqual([`${SITE}/feeds/atom.xml`, `${SITE}/feeds/rss.xml`, `${SITE}/feeds/feed.json`]);
      expect(await page.locator('h2').allTextContents()).toEqual(expect.arrayContaining(['Categories (2,002)', 'Tags (3,001)']));
      await expectReadableWithoutScripts(visit, 'directory');

      // 东财滚动新闻 is under D (dōng), with the Chinese tags whose pinyin starts with D.
      await page.locator('a[href="tags/d.html"]').click();
      expect(visit.sizes.get(page.url())).toBeLessThan(LIMIT);
      await expectReadableWithoutScripts(visit, 'tags-d');
      await page.getByRole('link', { name: '#东财滚动新闻', exact: true }).click();
      expect(page.url()).toBe(`${SITE}/feeds/tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/index.html`);
      const feeds = `${SITE}/feeds/tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB`;
      expect((await anatomy(page)).alternates).toEqual([`${feeds}/atom.xml`, `${feeds}/rss.xml`, `${feeds}/feed.json`]);
      expect(await page.locator('dl.subscribe code').allTextContents()).toEqual([`${feeds}/atom.xml`, `${feeds}/rss.xml`, `${feeds}/feed.json`]);
      expect(await page.locator('body').textContent()).toMatch(/JSON Feed is for readers that support it/);
      // The Chinese is drawn with a font that has its glyphs (fonts-wqy-microhei here), not as boxes.
      const drawn = await fontsOf(page, 'ol.posts li a');
      const cjk = CJK_FONTS();
      expect(drawn.filter((f) => cjk.includes(f.familyName)).reduce((n, f) => n + f.glyphCount, 0)).toBeGreaterThanOrEqual(10);
      await expectReadableWithoutScripts(visit, 'tag-page');

      await page.locator('ol.posts a').first().click();
      expect(page.url()).toBe(`${SITE}/posts/p29.html`);
      expect(await page.locator('h1').textContent()).toBe('离岸人民币升至6.3529，创2018年5月以来新高');
      await expectReadableWithoutScripts(visit, 'post');
    } finally {
      await page.close();
    }
  }, 90_000);

  it('keeps every page of the directory under the bound, each feed listed once, with a page that answers', async () => {
    const visit = await phone();
    const { page } = visit;
    try {
      await page.goto(`${SITE}/feeds/index.html`);
      const groups = await hrefs(page, 'nav.groups a');
      const listed: string[] = [];
      for (const group of groups) {
        expect((await page.goto(group))?.status(), group).toBe(200);
        expect(visit.sizes.get(group), group).toBeLessThan(LIMIT);
        expect((await anatomy(page)).scrollWidth, group).toBeLessThanOrEqual(PHONE.width);
        listed.push(...(await hrefs(page, 'ul.feeds a')));
      }
      expect(listed).toHaveLength(FEEDS + 3);
      expect(new Set(listed).size).toBe(FEEDS + 3);
      // The biggest page of the directory, photographed on the phone.
      const biggest = [...visit.sizes].filter(([url]) => groups.includes(url)).sort((a, b) => b[1] - a[1])[0]![0];
      await page.goto(biggest);
      await expectReadableWithoutScripts(visit, 'biggest-group', false);
      // The real feeds' pages answer; the seeded ones were never rendered (they are rows, not feeds).
      for (const name of ['emnews', 'techweb_06ac56a6']) {
        const url = `${SITE}/feeds/categories/${name}/index.html`;
        expect(listed).toContain(url);
        expect((await page.goto(url))?.status(), url).toBe(200);
        await expectReadableWithoutScripts(visit, `category-${name}`);
      }
    } finally {
      await page.close();
    }
  }, 90_000);
});
