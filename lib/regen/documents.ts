import type { SiteConfig } from '../config.js';
import { DIRECTORY_KEYS, FEED_FORMATS, FORMAT_NAMES, feedKey, type FeedRef } from '../feeds/feed-ref.js';
import { renderFeed } from '../feeds/render.js';
import { renderDirectoryPage, renderOpml } from '../pages/directory.js';
import type { Post } from '../posts/post.js';
import type { FeedStateRepository } from '../store/ports.js';

/** One object to write. */
export interface RenderedFile {
  key: string;
  contentType: string;
  body: string;
}

export interface RenderedDocument {
  files: RenderedFile[];
  /** Date of the newest post shown, for the directory. */
  newest?: string;
}

const HTML = 'text/html; charset=utf-8';

/**
 * A feed's documents from its newest posts: the three formats. `emptySince` dates a feed that has no posts left (its
 * last newest post), so that even an empty feed renders the same bytes each time.
 */
export function renderFeedDocument(ref: FeedRef, posts: Post[], emptySince: string, site: SiteConfig): RenderedDocument {
  const rendered = renderFeed({ ref, posts, emptySince }, site);
  return {
    files: FORMAT_NAMES.map((format) => ({ key: feedKey(ref, format), contentType: FEED_FORMATS[format].contentType, body: rendered[format] })),
    ...(posts[0] ? { newest: posts[0].date } : {}),
  };
}

/** The directory of feeds (feeds/index.html, feeds/opml.xml), from the index of feeds that have posts. */
export async function renderDirectoryDocument(state: FeedStateRepository, site: SiteConfig): Promise<RenderedDocument> {
  const feeds = await state.listFeeds();
  return {
    files: [
      { key: DIRECTORY_KEYS.index, contentType: HTML, body: renderDirectoryPage(feeds, site) },
      { key: DIRECTORY_KEYS.opml, contentType: 'text/x-opml; charset=utf-8', body: renderOpml(feeds, site) },
    ],
  };
}
