import { FEED_FORMATS, FORMAT_NAMES, type FeedFormat } from '../feeds/feed-ref.js';
import type { TopicOf } from './hub-request.js';

const FILES = new Map(FORMAT_NAMES.map((format): [string, FeedFormat] => [FEED_FORMATS[format].file, format]));
/** A feed document's key, its file name captured; the file name says the format (FEED_FORMATS). */
export const FEED_KEY = /^feeds\/(?:(?:categories|tags)\/[^/]+\/)?([^/]+)$/;

/** The format of a feed document key (`feeds/rss.xml`, `feeds/tags/<segment>/feed.json` ...), or undefined. */
export function feedFormatOfKey(key: string): FeedFormat | undefined {
  const file = FEED_KEY.exec(key)?.[1];
  return file === undefined ? undefined : FILES.get(file);
}

/**
 * The topics of a feedpub site: the URL of a feed document under `feedsUrl` (as feedUrl() writes it) maps to its
 * key in the bucket and its Content-Type. Whether the feed has been published yet is not looked at: a subscriber
 * may wait for a category's first post.
 */
export function feedTopicOf(feedsUrl: string): TopicOf {
  const base = new URL(`${feedsUrl.replace(/\/+$/, '')}/`);
  return (topic) => {
    let url: URL;
    try {
      url = new URL(topic);
    } catch {
      return undefined;
    }
    if (url.origin !== base.origin || url.search || url.hash || !url.pathname.startsWith(base.pathname)) return undefined;
    let key: string;
    try {
      key = url.pathname.slice(base.pathname.length).split('/').map(decodeURIComponent).join('/');
    } catch {
      return undefined;
    }
    const format = feedFormatOfKey(key);
    return format ? { key, contentType: FEED_FORMATS[format].contentType } : undefined;
  };
}
