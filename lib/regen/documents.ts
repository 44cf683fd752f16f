import type { SiteConfig } from '../config.js';
import { DIRECTORY_KEYS, FEED_FORMATS, FORMAT_NAMES, feedKey, type FeedRef } from '../feeds/feed-ref.js';
import { renderFeed } from '../feeds/render.js';
import { renderDirectoryPages, renderOpml } from '../pages/directory.js';
import { feedPageKey } from '../pages/feed-links.js';
import { renderFeedPage } from '../pages/feed-page.js';
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
 * The page of a feed for people (its newest posts, its three addresses; the site's is the home page), written
 * with the feed's current document from the same posts, newest first: one more object of the document.
 */
export function feedPageFile(ref: FeedRef, posts: Post[], site: SiteConfig): RenderedFile {
  return { key: feedPageKey(ref), contentType: HTML, body: renderFeedPage(ref, posts, site) };
}

/**
 * A feed's documents from its newest posts: the three formats and its page. `emptySince` dates a feed that has no
 * posts left (its last newest post), so that even an empty feed renders the same bytes each time.
 */
export function renderFeedDocument(ref: FeedRef, posts: Post[], emptySince: string, site: SiteConfig): RenderedDocument {
  const rendered = renderFeed({ ref, posts, emptySince }, site);
  return {
    files: [...FORMAT_NAMES.map((format) => ({ key: feedKey(ref, format), contentType: FEED_FORMATS[format].contentType, body: rendered[format] })), feedPageFile(ref, posts, site)],
    ...(posts[0] ? { newest: posts[0].date } : {}),
  };
}

/**
 * The directory of feeds (feeds/index.html, a page per initial of categories and of tags, feeds/opml.xml), from
 * one Query of the index of feeds that have posts. `previous` are the keys its last render wrote.
 */
export async function renderDirectoryDocument(state: FeedStateRepository, site: SiteConfig, previous: Iterable<string> = []): Promise<RenderedDocument> {
  const feeds = await state.listFeeds();
  return {
    files: [
      ...renderDirectoryPages(feeds, site, new Set(previous)).map(({ key, body }) => ({ key, contentType: HTML, body })),
      { key: DIRECTORY_KEYS.opml, contentType: 'text/x-opml; charset=utf-8', body: renderOpml(feeds, site) },
    ],
  };
}
