import type { SiteConfig } from '../config.js';
import type { FeedRef } from '../feeds/feed-ref.js';
import { postPageUrl } from '../feeds/render.js';
import type { Post } from '../posts/post.js';
import { alternatesOf, directoryUrl, feedLabel, feedPageUrl, subscribeBlock } from './feed-links.js';
import { escapeHtml, page, timeElement } from './layout.js';

/** Posts a feed's page lists: enough to see what the feed is, few enough for a phone. */
export const PAGE_POSTS = 20;

function about(ref: FeedRef, site: SiteConfig): string {
  if (ref.kind === 'site') return site.description || `Latest posts from ${site.title}.`;
  return `Posts ${ref.kind === 'tag' ? 'tagged' : 'in the category'} “${ref.name}” on ${site.title}.`;
}

function postList(posts: Post[], site: SiteConfig): string {
  if (posts.length === 0) return '<p>No posts yet.</p>';
  const items = posts
    .slice(0, PAGE_POSTS)
    .map((post) => `<li><a href="${escapeHtml(postPageUrl(post, site))}">${escapeHtml(post.title)}</a> ${timeElement(post.date, site.timeZone)}</li>`);
  return `<ol class="posts">\n${items.join('\n')}\n</ol>`;
}

/**
 * The page of a feed for people (feedPageKey): its newest posts, linking to their pages, and its three addresses
 * with which to copy into which reader; `rel="alternate"` links in its head let readers and browsers find the
 * feeds from the page's own address. The site feed's page is the home page, and links to the directory. Rendered
 * with the feed's current document from the same posts (newest first), so the same posts give the same bytes.
 */
export function renderFeedPage(ref: FeedRef, posts: Post[], site: SiteConfig): string {
  const home = ref.kind === 'site';
  const crumbs = home ? '' : `<nav class="crumbs"><a href="${escapeHtml(feedPageUrl({ kind: 'site', name: '' }, site))}">${escapeHtml(site.title)}</a> › <a href="${escapeHtml(directoryUrl(site))}">All feeds</a></nav>\n`;
  const browse = home ? `<p><a href="${escapeHtml(directoryUrl(site))}">All feeds</a>: a feed for every category and tag.</p>\n` : '';
  const body = `${crumbs}<h1>${escapeHtml(feedLabel(ref, site))}</h1>
<p>${escapeHtml(about(ref, site))}</p>
${browse}<h2>Newest posts</h2>
${postList(posts, site)}
${subscribeBlock(ref, site)}`;
  return page({
    lang: site.language,
    title: home ? site.title : `${feedLabel(ref, site)} · ${site.title}`,
    canonical: feedPageUrl(ref, site),
    alternates: alternatesOf(ref, site),
    body,
  });
}
