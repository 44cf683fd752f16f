import type { SiteConfig } from '../config.js';
import { sleep } from '../concurrency.js';
import { DIRECTORY_KEYS, FEED_FORMATS, FORMAT_NAMES, feedId, feedKey, postPageKey, type FeedRef } from '../feeds/feed-ref.js';
import { renderFeed } from '../feeds/render.js';
import { renderDirectoryPage, renderOpml } from '../pages/directory.js';
import { renderPostPage } from '../pages/post-page.js';
import type { FeedStateRepository, PostRepository } from '../store/ports.js';

/** One object to write; without a body, one to delete. */
export interface RenderedFile {
  key: string;
  contentType: string;
  body?: string;
}

export interface RenderedDocument {
  files: RenderedFile[];
  itemCount: number;
}

export interface DocumentSources {
  posts: PostRepository;
  state: FeedStateRepository;
  site: SiteConfig;
}

const HTML = 'text/html; charset=utf-8';

/** Renders what `ref` names from the table: a feed in three formats, a post's page, or the directory. */
export async function renderDocument(ref: FeedRef, changedAt: string, { posts, state, site }: DocumentSources): Promise<RenderedDocument> {
  switch (ref.kind) {
    case 'post': {
      const post = await posts.get(ref.name);
      // A deleted post's page goes with it.
      return { files: [{ key: postPageKey(ref.name), contentType: HTML, ...(post ? { body: renderPostPage(post, site) } : {}) }], itemCount: post ? 1 : 0 };
    }
    case 'directory': {
      const feeds = await listFeedsSince(state);
      return {
        files: [
          { key: DIRECTORY_KEYS.index, contentType: HTML, body: renderDirectoryPage(feeds, site) },
          { key: DIRECTORY_KEYS.opml, contentType: 'text/x-opml; charset=utf-8', body: renderOpml(feeds, site) },
        ],
        itemCount: feeds.filter((f) => f.count > 0).length,
      };
    }
    default: {
      const { posts: newest } = await posts.listFeed(feedId(ref), site.feedItems);
      const rendered = renderFeed({ ref, posts: newest, emptySince: changedAt }, site);
      return {
        files: FORMAT_NAMES.map((format) => ({ key: feedKey(ref, format), contentType: FEED_FORMATS[format].contentType, body: rendered[format] })),
        itemCount: newest.length,
      };
    }
  }
}

/**
 * The directory index is a GSI, so eventually consistent. Every write bumps the site feed's revision in the same
 * transaction as the directory's, so once the index shows the site revision read (strongly) now, it has caught
 * up with the writes this render must show.
 */
async function listFeedsSince(state: FeedStateRepository) {
  const site = (await state.revision('site'))?.rev ?? 0;
  const deadline = Date.now() + 3_000;
  for (;;) {
    const feeds = await state.listFeeds();
    if ((feeds.find((f) => f.feedId === 'site')?.rev ?? 0) >= site || Date.now() > deadline) return feeds;
    await sleep(50);
  }
}
