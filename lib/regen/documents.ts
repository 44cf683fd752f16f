import type { SiteConfig } from '../config.js';
import { DIRECTORY_KEYS, FEED_FORMATS, FORMAT_NAMES, feedId, feedKey, type FeedRef } from '../feeds/feed-ref.js';
import { renderFeed } from '../feeds/render.js';
import { renderDirectoryPage, renderOpml } from '../pages/directory.js';
import type { FeedStateRepository, PostRepository } from '../store/ports.js';

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

export interface DocumentSources {
  posts: PostRepository;
  state: FeedStateRepository;
  site: SiteConfig;
}

const HTML = 'text/html; charset=utf-8';

/**
 * Renders what `ref` names from the table: a feed in three formats, or the directory. `emptySince` dates a feed
 * that has no posts left (its last newest post), so that even an empty feed renders the same bytes each time.
 */
export async function renderDocument(ref: FeedRef, emptySince: string, { posts, state, site }: DocumentSources): Promise<RenderedDocument> {
  if (ref.kind === 'directory') {
    const feeds = await state.listFeeds();
    return {
      files: [
        { key: DIRECTORY_KEYS.index, contentType: HTML, body: renderDirectoryPage(feeds, site) },
        { key: DIRECTORY_KEYS.opml, contentType: 'text/x-opml; charset=utf-8', body: renderOpml(feeds, site) },
      ],
    };
  }
  if (ref.kind === 'post') throw new Error('Post pages are rendered from the post itself (lib/regen/pages.ts)');
  const { posts: newest } = await posts.listFeed(feedId(ref), site.feedItems);
  const rendered = renderFeed({ ref, posts: newest, emptySince }, site);
  return {
    files: FORMAT_NAMES.map((format) => ({ key: feedKey(ref, format), contentType: FEED_FORMATS[format].contentType, body: rendered[format] })),
    ...(newest[0] ? { newest: newest[0].date } : {}),
  };
}
