import { feedUrls, SITE_FEED } from '../feeds/feed-ref.js';
import type { Post } from '../posts/post.js';

/** A post as the API shows it: every stored field but the internal hash, and the URLs of the feeds it is in. */
export function postJson(post: Post, feedsUrl: string) {
  const { contentHash: _hash, status, ...fields } = post;
  return {
    ...fields,
    // Scheduled: in none of the feeds below until its date.
    status: status ?? 'published',
    feeds: {
      site: feedUrls(SITE_FEED, feedsUrl),
      categories: post.categories.map((name) => ({ name, ...feedUrls({ kind: 'category', name }, feedsUrl) })),
      tags: post.tags.map((name) => ({ name, ...feedUrls({ kind: 'tag', name }, feedsUrl) })),
    },
  };
}
