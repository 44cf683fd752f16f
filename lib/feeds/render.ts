import { Feed, type Extension, type Item } from 'feed';
import type { SiteConfig } from '../config.js';
import type { Post } from '../posts/post.js';
import { escapeHtml, stripXmlForbidden } from '../text.js';
import { archiveUrls, feedUrls, type FeedFormat, type FeedRef } from './feed-ref.js';

export interface FeedDocument {
  ref: FeedRef;
  /** Newest first. */
  posts: Post[];
  /** When the feed last changed; used as its updated date only when it has no posts. */
  emptySince: string;
  /**
   * Where the document sits in the feed's archive (RFC 5005 section 4): the current document, which links to the
   * newest of `pages` archive pages, or archive page `page` (1 the oldest).
   */
  archive?: { pages: number; page?: number };
}

export type RenderedFeed = Record<FeedFormat, string>;

export function feedTitle(ref: FeedRef, site: SiteConfig): string {
  if (ref.kind === 'site') return site.title;
  return `${site.title} · ${ref.kind === 'tag' ? '#' : ''}${ref.name}`;
}

function feedDescription(ref: FeedRef, site: SiteConfig, page?: number): string {
  if (page) return `Archive page ${page} of ${ref.kind === 'site' ? site.title : `posts ${ref.kind === 'tag' ? 'tagged' : 'in'} “${ref.name}” on ${site.title}`}`;
  if (ref.kind === 'site') return site.description || `Latest posts from ${site.title}`;
  return `Latest posts ${ref.kind === 'tag' ? 'tagged' : 'in'} “${ref.name}” on ${site.title}`;
}

/**
 * A stable, globally unique item id (RFC 4151 tag URI): it survives edits of title, link and dates, and changes of
 * the stored site settings (its host is the deployment's, `idHost`).
 */
export function itemId(post: Pick<Post, 'id'>, site: SiteConfig): string {
  return `tag:${site.idHost ?? new URL(site.url).hostname},2026:post:${post.id}`;
}

export function postPageUrl(post: Pick<Post, 'id'>, site: SiteConfig): string {
  return `${site.feedsUrl}/posts/${encodeURIComponent(post.id)}.html`;
}

/**
 * How plain text is carried by each format: Atom titles and summaries are written type="html" by `feed`,
 * RSS descriptions are HTML while RSS titles are plain text, JSON Feed fields are plain text.
 */
interface FormatRules {
  titleAsHtml: boolean;
  summaryAsHtml: boolean;
  /** RSS 2.0 <author> must be an email address; names go to Dublin Core's creator instead. */
  authorsAsCreators: boolean;
}

const RULES: Record<FeedFormat, FormatRules> = {
  rss: { titleAsHtml: false, summaryAsHtml: true, authorsAsCreators: true },
  atom: { titleAsHtml: true, summaryAsHtml: true, authorsAsCreators: false },
  json: { titleAsHtml: false, summaryAsHtml: false, authorsAsCreators: false },
};

// An xml-js element list: one <dc:creator> per name.
const dcCreators = (names: string[]): Extension => ({
  name: 'dc:creator',
  objects: names.map((name) => ({ _text: name })) as unknown as Extension['objects'],
});

// The one mapping from a post to a `feed` item, for all three formats.
function toItem(post: Post, site: SiteConfig, rules: FormatRules): Item {
  return {
    title: rules.titleAsHtml ? escapeHtml(post.title) : post.title,
    id: itemId(post, site),
    guid: itemId(post, site),
    link: post.link ?? postPageUrl(post, site),
    date: new Date(post.updated),
    published: new Date(post.date),
    description: rules.summaryAsHtml ? escapeHtml(post.summary) : post.summary,
    content: post.content,
    category: [...post.categories, ...post.tags].map((name) => ({ name, term: name })),
    ...(rules.authorsAsCreators
      ? post.authors.length > 0 && { extensions: [dcCreators(post.authors.map((a) => a.name))] }
      : // `feed` json1() crashes on an empty author list.
        post.authors.length > 0 && { author: post.authors.map((a) => ({ name: a.name, email: a.email, link: a.url })) }),
  };
}

function buildFeed(doc: FeedDocument, site: SiteConfig, format: FeedFormat): Feed {
  const urls = feedUrls(doc.ref, site.feedsUrl);
  // An archive page is the same feed (its id) at its own address (its self link).
  const self = doc.archive?.page ? archiveUrls(doc.ref, doc.archive.page, site.feedsUrl) : urls;
  const newest = doc.posts.reduce((max, p) => (p.updated > max ? p.updated : max), '');
  const feed = new Feed({
    id: urls.atom,
    title: feedTitle(doc.ref, site),
    description: feedDescription(doc.ref, site, doc.archive?.page),
    link: `${site.url}/`,
    language: site.language,
    // Dates come from the posts, never from the clock: the same posts give the same bytes.
    updated: new Date(newest || doc.emptySince),
    generator: 'feedpub',
    feedLinks: self,
    author: { name: site.author },
    ...(site.icon ? { image: site.icon, favicon: site.icon } : {}),
    ...(site.copyright ? { copyright: site.copyright } : {}),
  });
  for (const post of doc.posts) feed.addItem(toItem(post, site, RULES[format]));
  return feed;
}

// `feed` writes attribute values with a raw "<" (Atom category term/label): not well-formed XML.
function escapeLtInAttributes(xml: string): string {
  return xml.replace(/(\s[\w:]+=")([^"]*)"/g, (_, head: string, value: string) => `${head}${value.replace(/</g, '&lt;')}"`);
}

// `feed` writes JSON Feed version 1 with the singular `author`; readers get JSON Feed 1.1
// (https://www.jsonfeed.org/version/1.1/): version URL, `language`, `authors` arrays.
function toJsonFeed11(json1: string, doc: FeedDocument, site: SiteConfig): string {
  const feed = JSON.parse(json1) as Record<string, unknown> & { items: Record<string, unknown>[] };
  const byId = new Map(doc.posts.map((p) => [itemId(p, site), p]));
  const items = feed.items.map(({ author: _author, ...item }) => {
    const post = byId.get(String(item.id));
    const authors = post?.authors.map((a) => ({ name: a.name, ...(a.url ? { url: a.url } : {}) })) ?? [];
    return { ...item, ...(authors.length > 0 ? { authors } : {}) };
  });
  const { version: _version, author: _author, title, home_page_url, feed_url, description, ...rest } = feed;
  return `${JSON.stringify(
    {
      version: 'https://jsonfeed.org/version/1.1',
      title,
      home_page_url,
      feed_url,
      description,
      language: site.language,
      ...rest,
      ...(olderPageUrl(doc, site) ? { next_url: olderPageUrl(doc, site) } : {}),
      ...(doc.archive?.page ? {} : { hubs: [{ type: 'WebSub', url: site.hubUrl }] }),
      ...(site.icon ? { favicon: site.icon } : {}),
      authors: [{ name: site.author }],
      items,
    },
    null,
    2,
  )}\n`;
}

const cleanXml = (xml: string) => `${stripXmlForbidden(escapeLtInAttributes(xml))}\n`;

const HISTORY_NS = 'http://purl.org/syndication/history/1.0';

/**
 * The archive links of a document, by relation, in one format (RFC 5005 section 4): the current document links
 * to the newest archive page (prev-archive); archive page k to page k-1 (prev-archive), to page k+1 (next-archive:
 * the newest page links to the address its successor will have, so that its bytes never change), and to the current
 * document (current).
 */
function archiveLinks(doc: FeedDocument, site: SiteConfig, format: FeedFormat): [string, string][] {
  const archive = doc.archive;
  if (!archive) return [];
  const page = (n: number) => archiveUrls(doc.ref, n, site.feedsUrl)[format];
  if (!archive.page) return archive.pages > 0 ? [['prev-archive', page(archive.pages)]] : [];
  return [
    ...(archive.page > 1 ? [['prev-archive', page(archive.page - 1)] as [string, string]] : []),
    ['next-archive', page(archive.page + 1)],
    ['current', feedUrls(doc.ref, site.feedsUrl)[format]],
  ];
}

const attr = (s: string) => escapeHtml(s);

/**
/**
 * Only current documents are WebSub topics (an archive page is fetched once, and names no hub): the hub a current
 * document names, in every format.
 */
const hubLinks = (doc: FeedDocument, site: SiteConfig): [string, string][] => (doc.archive?.page ? [] : [['hub', site.hubUrl]]);

/**
 * Atom: the feed's language (xml:lang, RFC 4287 section 2, which `feed` does not write), the hub and archive links
 * after the self link, and fh:archive in an archive page.
 */
function withAtomArchive(xml: string, doc: FeedDocument, site: SiteConfig): string {
  const links = [...hubLinks(doc, site), ...archiveLinks(doc, site, 'atom')].map(([rel, href]) => `\n    <link rel="${rel}" href="${attr(href)}"/>`).join('');
  const history = doc.archive?.page ? ` xmlns:fh="${HISTORY_NS}"` : '';
  const marked = xml.replace('<feed xmlns="http://www.w3.org/2005/Atom">', `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="${attr(site.language)}"${history}>`);
  return marked.replace(/(<link rel="self" [^>]*\/>)/, `$1${links}${doc.archive?.page ? '\n    <fh:archive/>' : ''}`);
}

/**
 * RSS 2.0: the hub (WebSub 4, https://www.w3.org/TR/websub/#discovery) and archive links (RFC 5005 appendix B) as
 * atom:link elements after the self link, and fh:archive in an archive page.
 */
function withRssArchive(xml: string, doc: FeedDocument, site: SiteConfig): string {
  const hub = hubLinks(doc, site).map(([rel, href]) => `\n        <atom:link href="${attr(href)}" rel="${rel}"/>`).join('');
  const links = hub + archiveLinks(doc, site, 'rss').map(([rel, href]) => `\n        <atom:link href="${attr(href)}" rel="${rel}" type="application/rss+xml"/>`).join('');
  const marked = doc.archive?.page ? xml.replace('<rss version="2.0"', `<rss version="2.0" xmlns:fh="${HISTORY_NS}"`) : xml;
  return marked.replace(/(<atom:link href="[^"]*" rel="self" type="application\/rss\+xml"\/>)/, `$1${links}${doc.archive?.page ? '\n        <fh:archive/>' : ''}`);
}

/** JSON Feed 1.1 pages backwards through `next_url`: the current document to the newest page, each page to the one before. */
function olderPageUrl(doc: FeedDocument, site: SiteConfig): string | undefined {
  return archiveLinks(doc, site, 'json').find(([rel]) => rel === 'prev-archive')?.[1];
}

/** Renders one feed document in all three formats. Pure: the same document and site give the same bytes. */
export function renderFeed(doc: FeedDocument, site: SiteConfig): RenderedFeed {
  return {
    rss: cleanXml(withRssArchive(buildFeed(doc, site, 'rss').rss2(), doc, site)),
    atom: cleanXml(withAtomArchive(buildFeed(doc, site, 'atom').atom1(), doc, site)),
    json: toJsonFeed11(buildFeed(doc, site, 'json').json1(), doc, site),
  };
}
