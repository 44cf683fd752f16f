import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../lib/config.js';
import { renderFeed, type FeedDocument } from '../../lib/feeds/render.js';
import type { Post } from '../../lib/posts/post.js';
import { assertWellFormedXml, readFeed } from '../support/feeds.js';
import { testPost, testSite } from '../support/site-fixture.js';
import { feedProblems } from '../support/validators.js';

const GOLDEN = join(import.meta.dirname, '../fixtures/golden');

const site = testSite;
const post = testPost;

/** A fresh fixture per test, with pinned dates. */
function fixture(): FeedDocument {
  return {
    ref: { kind: 'category', name: 'emnews' },
    posts: [
      post('202112082206672930', '2021-12-08T02:46:18.000Z', { link: 'https://finance.eastmoney.com/a/1.html', authors: [{ name: '东方财富', email: 'news@example.com' }] }),
      post('init', '2021-12-01T05:33:50.000Z', { updated: '2021-12-02T00:00:00.000Z', categories: ['sitenews'], tags: ['站长消息'] }),
    ],
    emptySince: '2021-01-01T00:00:00.000Z',
  };
}

describe('renderFeed', () => {
  // The current document of a feed with 3 archive pages, and its archive page 2.
  const documents = { emnews: fixture, 'emnews.current': () => ({ ...fixture(), archive: { pages: 3 } }), 'emnews.page-2': () => ({ ...fixture(), archive: { pages: 0, page: 2 } }) };
  it.each(Object.keys(documents).flatMap((name) => (['rss', 'atom', 'json'] as const).map((format) => [name, format] as const)))('renders %s %s exactly as the golden file', (name, format) => {
    const body = renderFeed(documents[name as keyof typeof documents](), site())[format];
    const file = join(GOLDEN, `${name}.${format === 'json' ? 'json' : `${format}.xml`}`);
    // UPDATE_GOLDEN=1 rewrites the files after a deliberate change; CI never writes them.
    if (process.env.UPDATE_GOLDEN || (!existsSync(file) && !process.env.CI)) writeFileSync(file, body);
    expect(body).toBe(readFileSync(file, 'utf8'));
  });

  it.each(['rss', 'atom', 'json'] as const)('renders %s that the schemas and the W3C validator rules accept, archive pages too', (format) => {
    for (const make of Object.values(documents)) expect(feedProblems(format, renderFeed(make(), site())[format])).toEqual([]);
  });

  it('names the hub and itself in every document, and links archive pages both ways and to the current document', () => {
    const current = renderFeed(documents['emnews.current'](), site());
    const page = renderFeed(documents['emnews.page-2'](), site());
    const base = 'https://feeds.finews.example.com/feeds/categories/emnews';
    expect(current.atom).toContain('<link rel="hub" href="https://api.finews.example.com/hub"/>');
    expect(current.atom).toContain(`<link rel="prev-archive" href="${base}/archive/3/atom.xml"/>`);
    expect(current.atom).not.toContain('fh:archive');
    expect(JSON.parse(current.json)).toMatchObject({ hubs: [{ type: 'WebSub', url: 'https://api.finews.example.com/hub' }], next_url: `${base}/archive/3/feed.json`, feed_url: `${base}/feed.json` });
    expect(page.atom).toContain(`<link rel="self" href="${base}/archive/2/atom.xml"/>`);
    expect(page.atom).toContain(`<link rel="prev-archive" href="${base}/archive/1/atom.xml"/>`);
    expect(page.atom).toContain(`<link rel="next-archive" href="${base}/archive/3/atom.xml"/>`);
    expect(page.atom).toContain(`<link rel="current" href="${base}/atom.xml"/>`);
    expect(page.atom).toContain('<fh:archive/>');
    expect(page.rss).toContain(`<atom:link href="${base}/archive/2/rss.xml" rel="self" type="application/rss+xml"/>`);
    expect(page.rss).toContain(`<atom:link href="${base}/rss.xml" rel="current" type="application/rss+xml"/>`);
    expect(page.rss).toContain('<fh:archive/>');
    expect(JSON.parse(page.json)).toMatchObject({ next_url: `${base}/archive/1/feed.json`, feed_url: `${base}/archive/2/feed.json` });
    // The same feed in every document: its id does not change from page to page.
    expect(/<id>([^<]+)<\/id>/.exec(page.atom)![1]).toBe(/<id>([^<]+)<\/id>/.exec(current.atom)![1]);
  });

  it('renders the same bytes for the same posts, whatever the clock says', () => {
    const first = renderFeed(fixture(), site());
    const second = renderFeed(fixture(), site());
    expect(second).toEqual(first);
  });

  it('writes JSON Feed 1.1 with authors, language and both dates', () => {
    const feed = JSON.parse(renderFeed(fixture(), site()).json);
    expect(feed.version).toBe('https://jsonfeed.org/version/1.1');
    expect(feed.language).toBe('zh-CN');
    expect(feed.items[0].authors).toEqual([{ name: '东方财富' }]);
    expect(feed.items[0].author).toBeUndefined();
    expect(feed.items[1]).toMatchObject({ date_published: '2021-12-01T05:33:50.000Z', date_modified: '2021-12-02T00:00:00.000Z' });
  });

  it('keeps the XML well-formed whatever the text: control characters, "<" in a category, "]]>" in content', () => {
    const doc = fixture();
    doc.posts[0] = {
      ...doc.posts[0]!,
      title: 'bell\u0007 and <b>tags</b> & "quotes"',
      content: '<p>a ]]> b \u0000\uFFFE</p>',
      summary: 'x < y',
      categories: ['a<b', 'R&D "lab"'],
    };
    const rendered = renderFeed(doc, site());
    for (const format of ['rss', 'atom'] as const) {
      assertWellFormedXml(rendered[format]);
      const feed = readFeed(format, rendered[format]);
      expect(feed.items[0]!.title).toBe('bell and <b>tags</b> & "quotes"');
      expect(feed.items[0]!.content).toContain('a ]]> b');
      expect(feed.items[0]!.categories).toEqual(['a<b', 'R&D "lab"', '东财滚动新闻']);
    }
  });

  it('puts RSS authors without an email in dc:creator, never in <author>', () => {
    const doc = fixture();
    doc.posts[0] = { ...doc.posts[0]!, authors: [{ name: 'Ann' }, { name: 'Bo' }] };
    const rss = renderFeed(doc, site()).rss;
    expect(rss).toContain('<dc:creator>Ann</dc:creator>');
    expect(rss).toContain('<dc:creator>Bo</dc:creator>');
    expect(rss).not.toContain('<author>');
  });

  it('renders an empty feed with its last change as the updated date', () => {
    const rendered = renderFeed({ ...fixture(), posts: [] }, site());
    expect(rendered.atom).toContain('<updated>2021-01-01T00:00:00.000Z</updated>');
    expect(readFeed('json', rendered.json).items).toEqual([]);
  });
});
