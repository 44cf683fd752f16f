import type { SiteConfig } from '../config.js';
import { feedsOf, SITE_FEED } from '../feeds/feed-ref.js';
import type { Post } from '../posts/post.js';
import { alternatesOf, directoryUrl, feedLabel, feedLinks, feedPageUrl } from './feed-links.js';
import { escapeHtml, page, timeElement } from './layout.js';

/** The page of a post that has no link of its own: readable, and linking back to every feed it is in. */
export function renderPostPage(post: Post, site: SiteConfig): string {
  const feeds = feedsOf(post);
  const body = `<nav class="crumbs"><a href="${escapeHtml(feedPageUrl(SITE_FEED, site))}">${escapeHtml(site.title)}</a></nav>
<article>
<h1>${escapeHtml(post.title)}</h1>
<p class="meta">${timeElement(post.date, site.timeZone)}${post.authors.length ? ` · ${post.authors.map((a) => escapeHtml(a.name)).join(', ')}` : ''}</p>
${post.content}
</article>
<footer>
<h2>Feeds</h2>
<ul>
${feeds.map((ref) => `<li><a href="${escapeHtml(feedPageUrl(ref, site))}">${escapeHtml(feedLabel(ref, site))}</a>: ${feedLinks(ref, site)}</li>`).join('\n')}
</ul>
<p><a href="${escapeHtml(directoryUrl(site))}">All feeds</a></p>
</footer>`;
  return page({
    lang: site.language,
    title: `${post.title} · ${site.title}`,
    ...(post.link ? { canonical: post.link } : {}),
    alternates: feeds.flatMap((ref) => alternatesOf(ref, site)),
    body,
  });
}
