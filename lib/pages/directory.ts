import type { SiteConfig } from '../config.js';
import { DIRECTORY_KEYS, feedDirectory, feedUrls, parseFeedId, SITE_FEED, type FeedRef } from '../feeds/feed-ref.js';
import { feedTitle } from '../feeds/render.js';
import { alternatesOf, feedLabel, feedLinks, feedPageUrl, READER_ADVICE } from './feed-links.js';
import { escapeHtml, page, timeElement } from './layout.js';
import { byName, groupLabel, groupOf, GROUPS, type Group } from './name-groups.js';

export interface ListedFeed {
  feedId: string;
  /** Posts in the feed (all of them, not only the newest N the feed file holds). */
  count: number;
  /** Date of its newest post: the date its documents give their newest item. */
  newest: string;
}

interface Listed {
  ref: FeedRef;
  count: number;
  newest: string;
}

/** Feeds listed on the directory's first page, newest first: what moves, at a glance. */
export const RECENT_FEEDS = 30;

const SECTIONS = [
  { kind: 'category', dir: 'categories', title: 'Categories' },
  { kind: 'tag', dir: 'tags', title: 'Tags' },
] as const;
type Section = (typeof SECTIONS)[number];

/** The page of a section's names under one initial: `feeds/categories/d.html`, `feeds/tags/0-9.html`, … */
export const groupPageKey = (section: Section, group: Group) => `feeds/${section.dir}/${group}.html`;

function sortFeeds(feeds: ListedFeed[]): { site?: Listed; sections: Map<Section, Listed[]> } {
  const listed = feeds.filter((f) => f.count > 0).map((f) => ({ ref: parseFeedId(f.feedId), count: f.count, newest: f.newest }));
  const sections = new Map(SECTIONS.map((section) => [section, listed.filter((f) => f.ref.kind === section.kind).sort((a, b) => byName(a.ref.name, b.ref.name))]));
  return { site: listed.find((f) => f.ref.kind === 'site'), sections };
}

const plural = (n: number, one: string) => `${n.toLocaleString('en')} ${n === 1 ? one : `${one}s`}`;

/** One feed in a list: its name linking to its page (relative to `base`), its post count, its newest post's date. */
function entry(f: Listed, site: SiteConfig, from: 'feeds' | 'section'): string {
  const path = `${feedDirectory(f.ref, encodeURIComponent)}/index.html`;
  const href = from === 'feeds' ? path.slice('feeds/'.length) : path.slice(path.indexOf('/', 'feeds/'.length) + 1);
  return `<li><a href="${href}">${escapeHtml(feedLabel(f.ref, site))}</a> ${about(f, site)}</li>`;
}

/**
 * A feed's post count and newest date. The date can be missing for a moment: a render that counted a post's
 * arrival but found it already moved out or deleted (its leave is in the next render) lists the feed with no
 * member yet. The entry then goes without a date rather than failing the whole directory.
 */
function about(f: Listed, site: SiteConfig): string {
  const dated = Number.isNaN(Date.parse(f.newest)) ? '' : ` · ${timeElement(f.newest, site.timeZone)}`;
  return `<span class="about">${plural(f.count, 'post')}${dated}</span>`;
}

/** Links to a section's initials that have names, with how many each has; `current` is not a link. */
function groupNav(section: Section, groups: Map<Group, Listed[]>, from: 'feeds' | 'section', current?: Group): string {
  const links = GROUPS.filter((g) => groups.get(g)?.length).map((g) => {
    const label = `${groupLabel(g)} <span class="about">${groups.get(g)!.length}</span>`;
    return g === current ? `<b>${label}</b>` : `<a href="${from === 'feeds' ? `${section.dir}/` : ''}${g}.html">${label}</a>`;
  });
  return `<nav class="groups">\n${links.join('\n')}\n</nav>`;
}

function byGroup(feeds: Listed[]): Map<Group, Listed[]> {
  const groups = new Map<Group, Listed[]>();
  for (const f of feeds) {
    const group = groupOf(f.ref.name);
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group)!.push(f);
  }
  return groups;
}

const homeLink = (site: SiteConfig) => `<a href="${escapeHtml(feedPageUrl(SITE_FEED, site))}">${escapeHtml(site.title)}</a>`;

function indexPage(site: SiteConfig, whole: Listed | undefined, sections: Map<Section, Listed[]>, groups: Map<Section, Map<Group, Listed[]>>): string {
  const total = [...sections.values()].reduce((n, list) => n + list.length, 0) + (whole ? 1 : 0);
  const recent = [...sections.values()]
    .flat()
    .sort((a, b) => (a.newest === b.newest ? byName(a.ref.name, b.ref.name) : a.newest > b.newest ? -1 : 1))
    .slice(0, RECENT_FEEDS);
  const sectionBlocks = SECTIONS.filter((s) => sections.get(s)!.length > 0).map(
    (s) => `<h2>${s.title} (${sections.get(s)!.length.toLocaleString('en')})</h2>\n${groupNav(s, groups.get(s)!, 'feeds')}`,
  );
  const body = `<nav class="crumbs">${homeLink(site)}</nav>
<h1>${escapeHtml(site.title)}: feeds</h1>
<p>Every category and tag of ${escapeHtml(site.title)} has a feed and a page of its own, with its newest posts and the addresses to copy into a feed reader. ${READER_ADVICE}</p>
${whole ? `<h2>All posts</h2>\n<p>${homeLink(site)}: ${feedLinks(SITE_FEED, site)} ${about(whole, site)}</p>\n` : ''}${sectionBlocks.join('\n')}
${recent.length ? `<h2>Recently updated</h2>\n<ul class="feeds">\n${recent.map((f) => entry(f, site, 'feeds')).join('\n')}\n</ul>\n` : ''}<p>All ${plural(total, 'feed')} at once, to import into a reader: <a href="opml.xml">OPML</a>.</p>`;
  return page({ lang: site.language, title: `${site.title}: feeds`, canonical: `${site.feedsUrl}/${DIRECTORY_KEYS.index}`, alternates: alternatesOf(SITE_FEED, site), body });
}

function groupPage(site: SiteConfig, section: Section, groups: Map<Group, Listed[]>, group: Group): string {
  const feeds = groups.get(group) ?? [];
  const title = `${section.title}: ${groupLabel(group)}`;
  const body = `<nav class="crumbs">${homeLink(site)} › <a href="../index.html">All feeds</a></nav>
<h1>${escapeHtml(title)}</h1>
${groupNav(section, groups, 'section', group)}
${feeds.length ? `<ul class="feeds">\n${feeds.map((f) => entry(f, site, 'section')).join('\n')}\n</ul>` : `<p>No ${section.title.toLowerCase()} under ${groupLabel(group)} any more.</p>`}`;
  return page({ lang: site.language, title: `${title} · ${site.title}`, canonical: `${site.feedsUrl}/${groupPageKey(section, group)}`, alternates: alternatesOf(SITE_FEED, site), body });
}

/**
 * The directory of feeds, for people: `feeds/index.html` (the site's feeds, the categories' and tags' initials
 * with their counts, the feeds updated last) and a page per section and initial listing its feeds by name, each
 * linking to the feed's own page. Only the site's feeds are in the heads, so the first page stays a few KB however
 * many feeds there are; a page of an initial that had feeds (`previous`: keys written before) is written again
 * when it has none, so that no stale list stays behind.
 */
export function renderDirectoryPages(feeds: ListedFeed[], site: SiteConfig, previous: ReadonlySet<string> = new Set()): { key: string; body: string }[] {
  const { site: whole, sections } = sortFeeds(feeds);
  const groups = new Map(SECTIONS.map((s) => [s, byGroup(sections.get(s)!)]));
  const pages: { key: string; body: string }[] = [{ key: DIRECTORY_KEYS.index, body: indexPage(site, whole, sections, groups) }];
  for (const section of SECTIONS) {
    for (const group of GROUPS) {
      const key = groupPageKey(section, group);
      if (groups.get(section)!.has(group) || previous.has(key)) pages.push({ key, body: groupPage(site, section, groups.get(section)!, group) });
    }
  }
  return pages;
}

const xml = (s: string) => escapeHtml(s);

/** feeds/opml.xml: OPML 2.0 (http://opml.org/spec2.opml) of every feed's RSS, for readers to import in one step. */
export function renderOpml(feeds: ListedFeed[], site: SiteConfig): string {
  const { site: whole, sections } = sortFeeds(feeds);
  const newest = feeds.reduce((max, f) => (f.newest > max ? f.newest : max), '1970-01-01T00:00:00.000Z');
  const outline = (f: Listed) =>
    `      <outline type="rss" text="${xml(feedTitle(f.ref, site))}" title="${xml(feedTitle(f.ref, site))}" xmlUrl="${xml(feedUrls(f.ref, site.feedsUrl).rss)}" htmlUrl="${xml(feedPageUrl(f.ref, site))}"/>`;
  const group = (title: string, list: Listed[]) => (list.length ? `    <outline text="${xml(title)}">\n${list.map(outline).join('\n')}\n    </outline>\n` : '');
  return `<?xml version="1.0" encoding="utf-8"?>
<opml version="2.0">
  <head>
    <title>${xml(site.title)}</title>
    <dateModified>${new Date(newest).toUTCString()}</dateModified>
  </head>
  <body>
${whole ? `${outline(whole).slice(2)}\n` : ''}${SECTIONS.map((s) => group(s.title, sections.get(s)!)).join('')}  </body>
</opml>
`;
}
