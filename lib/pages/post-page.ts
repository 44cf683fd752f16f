import type { SiteConfig } from '../config.js';
import { feedTitle } from '../feeds/render.js';
import { feedsOf, feedUrls, type FeedRef } from '../feeds/feed-ref.js';
import type { Post } from '../posts/post.js';
import { escapeHtml, page, type AlternateLink } from './layout.js';

const FORMATS = [
  ['rss', 'application/rss+xml', 'RSS'],
  ['atom', 'application/atom+xml', 'Atom'],
  ['json', 'application/feed+json', 'JSON Feed'],
] as const;

export function alternatesOf(ref: FeedRef, site: SiteConfig): AlternateLink[] {
  const urls = feedUrls(ref, site.feedsUrl);
  return FORMATS.map(([format, type, label]) => ({ type, title: `${feedTitle(ref, site)} (${label})`, href: urls[format] }));
}

export function feedLinks(ref: FeedRef, site: SiteConfig): string {
  const urls = feedUrls(ref, site.feedsUrl);
  return FORMATS.map(([format, , label]) => `<a href="${escapeHtml(urls[format])}">${label}</a>`).join(' · ');
}

/** The page of a post that has no link of its own: readable, and linking back to every feed it is in. */
export function renderPostPage(post: Post, site: SiteConfig): string {
  const feeds = feedsOf(post);
  const label = (ref: FeedRef) => (ref.kind === 'site' ? site.title : ref.kind === 'tag' ? `#${ref.name}` : ref.name);
  const date = new Date(post.date);
  const body = `<article>
<h1>${escapeHtml(post.title)}</h1>
<p class="meta"><time datetime="${post.date}">${date.toISOString().slice(0, 16).replace('T', ' ')} UTC</time>${post.authors.length ? ` · ${post.authors.map((a) => escapeHtml(a.name)).join(', ')}` : ''}</p>
${post.content}
</article>
<footer>
<h2>Feeds</h2>
<ul>
${feeds.map((ref) => `<li>${escapeHtml(label(ref))}: ${feedLinks(ref, site)}</li>`).join('\n')}
</ul>
<p><a href="${escapeHtml(site.feedsUrl)}/feeds/index.html">All feeds</a></p>
</footer>`;
  return page({
    lang: site.language,
    title: `${post.title} · ${site.title}`,
    alternates: feeds.flatMap((ref) => alternatesOf(ref, site)),
    body,
  });
}
