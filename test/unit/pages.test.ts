import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { feedUrls, parseFeedId, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { renderDirectoryPages, type ListedFeed } from '../../lib/pages/directory.js';
import { feedPageKey, feedPageUrl } from '../../lib/pages/feed-links.js';
import { PAGE_POSTS, renderFeedPage } from '../../lib/pages/feed-page.js';
import { timeElement } from '../../lib/pages/layout.js';
import { groupOf } from '../../lib/pages/name-groups.js';
import { renderPostPage } from '../../lib/pages/post-page.js';
import { manyFeeds } from '../support/many-feeds.js';
import { testPost, testSite } from '../support/site-fixture.js';

const GOLDEN = join(import.meta.dirname, '../fixtures/pages');

const site = testSite;
const post = testPost;

/** Newest first, as a feed's current document holds them. */
const posts = () => [
  post('202112082206672930', '2021-12-08T02:46:18.000Z', { title: '离岸人民币升至6.3512 <首次>', link: 'https://finance.eastmoney.com/a/1.html' }),
  post('init', '2021-12-01T05:33:50.000Z', { categories: ['sitenews'], tags: ['站长消息'] }),
];

const listing = (): ListedFeed[] => [
  { feedId: 'site', count: 150, newest: '2022-05-26T02:46:18.000Z' },
  { feedId: 'c:emnews', count: 149, newest: '2022-05-26T02:46:18.000Z' },
  { feedId: 'c:sitenews', count: 1, newest: '2021-12-01T05:33:50.000Z' },
  { feedId: 'c:TechWeb', count: 3, newest: '2022-01-02T00:00:00.000Z' },
  { feedId: 't:东财滚动新闻', count: 149, newest: '2022-05-26T02:46:18.000Z' },
  { feedId: 't:站长消息', count: 1, newest: '2021-12-01T05:33:50.000Z' },
  { feedId: 't:1号店', count: 2, newest: '2021-12-05T00:00:00.000Z' },
];

function golden(name: string, body: string): void {
  const file = join(GOLDEN, name);
  // UPDATE_GOLDEN=1 rewrites the files after a deliberate change; CI never writes them.
  if (process.env.UPDATE_GOLDEN || (!existsSync(file) && !process.env.CI)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, body);
  }
  expect(body).toBe(readFileSync(file, 'utf8'));
}

const links = (html: string, rel: string) => [...html.matchAll(new RegExp(`<link rel="${rel}" type="([^"]+)" title="[^"]*" href="([^"]+)">`, 'g'))].map((m) => [m[1], m[2]]);
const anchors = (html: string) => [...html.matchAll(/<a href="([^"]+)">([^<]*)/g)].map((m) => ({ href: m[1]!, text: m[2]! }));

describe('golden pages', () => {
  const category: FeedRef = { kind: 'category', name: 'emnews' };
  const cases: [string, () => string][] = [
    ['home.html', () => renderFeedPage({ kind: 'site', name: '' }, posts(), site())],
    ['category-emnews.html', () => renderFeedPage(category, posts(), site())],
    ['post.html', () => renderPostPage(posts()[0]!, site())],
    ...renderDirectoryPages(listing(), site())
      .filter((p) => p.key === 'feeds/index.html' || p.key === 'feeds/tags/d.html')
      .map((p): [string, () => string] => [`directory-${p.key.replace(/^feeds\//, '').replace(/\//g, '-')}`, () => p.body]),
  ];
  it.each(cases)('renders %s exactly as the golden file', (name, render) => {
    golden(name, render());
  });
});

describe('the page of a feed', () => {
  const ref: FeedRef = { kind: 'tag', name: '东财滚动新闻' };
  const many = Array.from({ length: 60 }, (_, i) => post(`p${i}`, new Date(Date.UTC(2022, 0, 1) - i * 3_600_000).toISOString()));

  it('sits beside the feed documents, and the site feed is the home page at the root', () => {
    expect(feedPageKey(ref)).toBe('feeds/tags/东财滚动新闻/index.html');
    expect(feedPageKey({ kind: 'category', name: 'TechWeb' })).toMatch(/^feeds\/categories\/techweb_[0-9a-f]{8}\/index\.html$/);
    expect(feedPageKey({ kind: 'site', name: '' })).toBe('index.html');
    expect(feedPageUrl(ref, site())).toBe('https://feeds.finews.example.com/feeds/tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/index.html');
  });

  it('lists its newest posts, newest first, each title linking to its post page with its date', () => {
    const html = renderFeedPage(ref, many, site());
    const listed = anchors(html).filter((a) => a.href.includes('/posts/'));
    expect(listed).toHaveLength(PAGE_POSTS);
    expect(listed.map((a) => a.text)).toEqual(many.slice(0, PAGE_POSTS).map((p) => p.title));
    expect(listed[0]!.href).toBe('https://feeds.finews.example.com/posts/p0.html');
    expect(html).toContain('<time datetime="2022-01-01T00:00:00.000Z">2022-01-01 08:00 UTC+8</time>');
  });

  it('names its three feeds in its head and writes their addresses out, saying which reader takes which', () => {
    const html = renderFeedPage(ref, many, site());
    const urls = feedUrls(ref, site().feedsUrl);
    expect(links(html, 'alternate')).toEqual([
      ['application/atom+xml', urls.atom],
      ['application/rss+xml', urls.rss],
      ['application/feed+json', urls.json],
    ]);
    for (const url of Object.values(urls)) expect(html).toContain(`<code>${url}</code>`);
    expect(html).toMatch(/Atom and RSS .*\(Feedly, Inoreader, NetNewsWire, Miniflux, FreshRSS/);
    expect(html).toMatch(/JSON Feed is for readers that support it/);
  });

  it('escapes names and titles: no markup gets in', () => {
    const hostile: FeedRef = { kind: 'category', name: '<img src=x onerror=alert(1)>"' };
    const html = renderFeedPage(hostile, [post('x', '2022-01-01T00:00:00.000Z', { title: '<script>alert(1)</script>' })], site());
    expect(html).not.toMatch(/<script|<img|onerror=alert\(1\)>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('dates', () => {
  it('are the instants the feeds carry, said in the site zone with its offset', () => {
    expect(timeElement('2021-12-08T02:46:18.000Z', 'Asia/Shanghai')).toBe('<time datetime="2021-12-08T02:46:18.000Z">2021-12-08 10:46 UTC+8</time>');
    expect(timeElement('2021-12-31T23:30:00.000Z', 'UTC')).toBe('<time datetime="2021-12-31T23:30:00.000Z">2021-12-31 23:30 UTC</time>');
    expect(timeElement('2021-06-01T00:00:00.000Z', 'Asia/Kolkata')).toContain('2021-06-01 05:30 UTC+5:30');
    // Either side of a change of offset (New York, 2021-03-14 at 2:00 local).
    expect(timeElement('2021-03-14T06:59:00.000Z', 'America/New_York')).toContain('2021-03-14 01:59 UTC-5');
    expect(timeElement('2021-03-14T07:00:00.000Z', 'America/New_York')).toContain('2021-03-14 03:00 UTC-4');
  });
});

describe('initials', () => {
  it.each([
    ['emnews', 'e'],
    ['TechWeb', 't'],
    ['Ünïcode', 'u'],
    ['东财滚动新闻', 'd'],
    ['中国劳动保障报', 'z'],
    ['新华社（北京）', 'x'],
    ['阿里巴巴', 'a'],
    ['蔚来', 'w'],
    ['1号店', '0-9'],
    ['１２３', '0-9'],
    ['ключ', 'other'],
    ['(paren)', 'other'],
  ])('puts %s under %s (Chinese by the first letter of its pinyin)', (name, group) => {
    expect(groupOf(name)).toBe(group);
  });
});

describe('the directory at 5,000 feeds', () => {
  const feeds = [{ feedId: 'site', count: 60_000, newest: '2022-05-26T02:46:18.000Z' }, ...manyFeeds(5000)];
  const pages = renderDirectoryPages(feeds, site());
  const index = pages.find((p) => p.key === 'feeds/index.html')!;

  it('keeps its first page small, with only the site feeds in its head', () => {
    expect(Buffer.byteLength(index.body)).toBeLessThan(200 * 1024);
    expect(links(index.body, 'alternate').map(([, href]) => href).sort()).toEqual(Object.values(feedUrls({ kind: 'site', name: '' }, site().feedsUrl)).sort());
  });

  it('lists every feed exactly once, on the page of its initial, linking to the feed page', () => {
    const found = new Map<string, number>();
    for (const p of pages.filter((p) => p !== index)) {
      expect(Buffer.byteLength(p.body), p.key).toBeLessThan(200 * 1024);
      const base = `${site().feedsUrl}/${p.key}`;
      for (const a of anchors(p.body)) {
        const url = new URL(a.href, base).href;
        if (url.endsWith('/index.html') && url.includes('/feeds/categories/') !== url.includes('/feeds/tags/')) found.set(url, (found.get(url) ?? 0) + 1);
      }
    }
    const expected = feeds.filter((f) => f.feedId !== 'site').map((f) => feedPageUrl(parseFeedId(f.feedId), site()));
    expect(found.size).toBe(expected.length);
    for (const url of expected) expect(found.get(url), url).toBe(1);
  });

  it('writes a page of an initial again when its last feed is gone, so that no stale list stays', () => {
    const before = renderDirectoryPages(listing(), site()).map((p) => p.key);
    expect(before).toContain('feeds/tags/0-9.html');
    const after = renderDirectoryPages(listing().filter((f) => f.feedId !== 't:1号店'), site(), new Set(before));
    expect(after.find((p) => p.key === 'feeds/tags/0-9.html')!.body).toContain('No tags under 0-9 any more.');
    expect(renderDirectoryPages(listing().filter((f) => f.feedId !== 't:1号店'), site()).map((p) => p.key)).not.toContain('feeds/tags/0-9.html');
  });
});
