import type { SiteConfig } from '../config.js';
import { feedDirectory, feedUrls, type FeedRef } from '../feeds/feed-ref.js';
import { feedTitle } from '../feeds/render.js';
import { escapeHtml, type AlternateLink } from './layout.js';

/** The three formats as a person meets them: Atom first, the one to pick when unsure. */
const FORMATS = [
  ['atom', 'application/atom+xml', 'Atom'],
  ['rss', 'application/rss+xml', 'RSS'],
  ['json', 'application/feed+json', 'JSON Feed'],
] as const;

/**
 * The page of a feed for people, beside its documents: `feeds/categories/<segment>/index.html`,
 * `feeds/tags/<segment>/index.html`, and for the site feed the home page, `index.html` at the root (the address
 * the feeds' <link> names; CloudFront's default root object).
 */
export function feedPageKey(ref: FeedRef): string {
  return ref.kind === 'site' ? 'index.html' : `${feedDirectory(ref)}/index.html`;
}

export function feedPageUrl(ref: FeedRef, site: Pick<SiteConfig, 'feedsUrl'>): string {
  return ref.kind === 'site' ? `${site.feedsUrl}/` : `${site.feedsUrl}/${feedDirectory(ref, encodeURIComponent)}/index.html`;
}

export const directoryUrl = (site: Pick<SiteConfig, 'feedsUrl'>) => `${site.feedsUrl}/feeds/index.html`;

/** What a feed is called on a page: the site's title, a category's name, a tag's name after "#". */
export function feedLabel(ref: FeedRef, site: Pick<SiteConfig, 'title'>): string {
  return ref.kind === 'site' ? site.title : ref.kind === 'tag' ? `#${ref.name}` : ref.name;
}

/** The `<link rel="alternate">` of a feed's three formats, for browsers and readers that discover feeds. */
export function alternatesOf(ref: FeedRef, site: SiteConfig): AlternateLink[] {
  const urls = feedUrls(ref, site.feedsUrl);
  return FORMATS.map(([format, type, label]) => ({ type, title: `${feedTitle(ref, site)} (${label})`, href: urls[format] }));
}

/** "Atom · RSS · JSON Feed", each a link to the feed in that format. */
export function feedLinks(ref: FeedRef, site: SiteConfig): string {
  const urls = feedUrls(ref, site.feedsUrl);
  return FORMATS.map(([format, , label]) => `<a href="${escapeHtml(urls[format])}">${label}</a>`).join(' · ');
}

/** Which reader takes which format; said once wherever a person picks a feed. */
export const READER_ADVICE =
  'Atom and RSS carry the same posts and work in almost every feed reader (Feedly, Inoreader, NetNewsWire, Miniflux, FreshRSS, Thunderbird): pick Atom if unsure. JSON Feed is for readers that support it, such as NetNewsWire, Feedbin and Miniflux.';

/** A feed's three addresses written out, to copy into a reader, with the advice on which to pick. */
export function subscribeBlock(ref: FeedRef, site: SiteConfig): string {
  const urls = feedUrls(ref, site.feedsUrl);
  const rows = FORMATS.map(([format, , label]) => `<dt>${label}</dt><dd><a href="${escapeHtml(urls[format])}"><code>${escapeHtml(urls[format])}</code></a></dd>`);
  return `<h2>Subscribe</h2>
<p>Copy one of these addresses into your feed reader (“add feed” or “subscribe”). Most readers also find them when given this page's address.</p>
<dl class="subscribe">
${rows.join('\n')}
</dl>
<p class="about">${READER_ADVICE}</p>`;
}
