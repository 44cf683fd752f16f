import type { SiteConfig } from '../config.js';
import { feedTitle } from '../feeds/render.js';
import { feedUrls, parseFeedId, type FeedRef } from '../feeds/feed-ref.js';
import { escapeHtml, page } from './layout.js';
import { alternatesOf, feedLinks } from './post-page.js';

export interface ListedFeed {
  feedId: string;
  /** Posts in the feed (all of them, not only the newest N the feed file holds). */
  count: number;
  /** Date of its newest post: what the feed itself says it was updated. */
  newest: string;
}

interface Listed {
  ref: FeedRef;
  count: number;
  newest: string;
}

function sortFeeds(feeds: ListedFeed[]): { site?: Listed; categories: Listed[]; tags: Listed[] } {
  const listed = feeds.filter((f) => f.count > 0).map((f) => ({ ref: parseFeedId(f.feedId), count: f.count, newest: f.newest }));
  const byName = (a: Listed, b: Listed) => a.ref.name.localeCompare(b.ref.name, 'en') || (a.ref.name < b.ref.name ? -1 : 1);
  return {
    site: listed.find((f) => f.ref.kind === 'site'),
    categories: listed.filter((f) => f.ref.kind === 'category').sort(byName),
    tags: listed.filter((f) => f.ref.kind === 'tag').sort(byName),
  };
}

const day = (iso: string) => `<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;

function list(title: string, feeds: Listed[], site: SiteConfig, label: (ref: FeedRef) => string): string {
  if (feeds.length === 0) return '';
  const items = feeds
    .map(
      (f) =>
        `<li><span class="name">${escapeHtml(label(f.ref))}</span> <span class="about"><span class="count">${f.count}</span> ${f.count === 1 ? 'post' : 'posts'} · updated ${day(f.newest)}</span><br>${feedLinks(f.ref, site)}</li>`,
    )
    .join('\n');
  return `<h2>${escapeHtml(title)} (${feeds.length})</h2>
<ul class="feeds">
${items}
</ul>`;
}

/** feeds/index.html: every feed that has posts, for people, with a rel="alternate" link per feed for readers. */
export function renderDirectoryPage(feeds: ListedFeed[], site: SiteConfig): string {
  const { site: whole, categories, tags } = sortFeeds(feeds);
  const all = [...(whole ? [whole] : []), ...categories, ...tags];
  const body = `<h1>${escapeHtml(site.title)}: feeds</h1>
${site.description ? `<p>${escapeHtml(site.description)}</p>\n` : ''}<p>Subscribe in any feed reader, or import <a href="opml.xml">all feeds as OPML</a>.</p>
${list('Site', whole ? [whole] : [], site, () => site.title)}
${list('Categories', categories, site, (ref) => ref.name)}
${list('Tags', tags, site, (ref) => `#${ref.name}`)}`;
  return page({ lang: site.language, title: `${site.title}: feeds`, alternates: all.flatMap((f) => alternatesOf(f.ref, site)), body });
}

const xml = (s: string) => escapeHtml(s);

/** feeds/opml.xml: OPML 2.0 (http://opml.org/spec2.opml) of every feed's RSS, for readers to import in one step. */
export function renderOpml(feeds: ListedFeed[], site: SiteConfig): string {
  const { site: whole, categories, tags } = sortFeeds(feeds);
  const newest = feeds.reduce((max, f) => (f.newest > max ? f.newest : max), '1970-01-01T00:00:00.000Z');
  const outline = (f: Listed) =>
    `      <outline type="rss" text="${xml(feedTitle(f.ref, site))}" title="${xml(feedTitle(f.ref, site))}" xmlUrl="${xml(feedUrls(f.ref, site.feedsUrl).rss)}" htmlUrl="${xml(`${site.url}/`)}"/>`;
  const group = (title: string, list: Listed[]) => (list.length ? `    <outline text="${xml(title)}">\n${list.map(outline).join('\n')}\n    </outline>\n` : '');
  return `<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head>
    <title>${xml(site.title)}</title>
    <dateModified>${new Date(newest).toUTCString()}</dateModified>
  </head>
  <body>
${whole ? `${outline(whole).slice(2)}\n` : ''}${group('Categories', categories)}${group('Tags', tags)}  </body>
</opml>
`;
}
