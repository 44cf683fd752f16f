import { describe, expect, it } from 'vitest';
import { feedKey, feedUrl, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { notifyJobsFor } from '../../lib/hub/announce.js';
import { feedTopicOf } from '../../lib/hub/feed-topics.js';

describe('feedTopicOf', () => {
  const topicOf = feedTopicOf('https://cdn.example.com');

  it.each<[FeedRef, 'rss' | 'atom' | 'json']>([
    [{ kind: 'site', name: '' }, 'rss'],
    [{ kind: 'category', name: '东财滚动新闻' }, 'atom'],
    [{ kind: 'tag', name: 'Hong Kong/China' }, 'json'],
  ])('maps the URL feedUrl() gives %j (%s) back to its key', (ref, format) => {
    expect(topicOf(feedUrl(ref, format, 'https://cdn.example.com'))?.key).toBe(feedKey(ref, format));
  });

  it('refuses what is not a feed document', () => {
    for (const url of ['https://cdn.example.com/feeds/opml.xml', 'https://cdn.example.com/posts/a.html', 'https://cdn.example.com/feeds/tags/a/b/rss.xml', 'https://cdn.example.com/feeds/rss.xml#top', 'https://cdn.example.com/feeds/tags/%E0%A4%A/rss.xml']) {
      expect(topicOf(url), url).toBeUndefined();
    }
  });
});

describe('notifyJobsFor', () => {
  const file = (key: string, body: string, versionId?: string) => ({ key, contentType: 'application/rss+xml; charset=utf-8', body, ...(versionId ? { versionId } : {}) });

  it('announces feed documents with exactly their bytes, and leaves pages and the directory out', () => {
    const jobs = notifyJobsFor([file('feeds/rss.xml', 'café'), file('posts/a.html', 'x'), file('feeds/index.html', 'y')], { inlineBodyMaxBytes: 100, now: () => 7 });
    expect(jobs).toEqual([{ kind: 'notify', id: expect.any(String), topicKey: 'feeds/rss.xml', contentType: 'application/rss+xml; charset=utf-8', body: { inline: Buffer.from('café').toString('base64') }, announcedAt: 7 }]);
  });

  it('sends a body over the inline limit by its object version, and refuses one without a version', () => {
    expect(notifyJobsFor([file('feeds/rss.xml', 'x'.repeat(101), 'v3')], { inlineBodyMaxBytes: 100 })[0]!.body).toEqual({ ref: { key: 'feeds/rss.xml', versionId: 'v3' } });
    expect(() => notifyJobsFor([file('feeds/rss.xml', 'x'.repeat(101))], { inlineBodyMaxBytes: 100 })).toThrow(/no VersionId/);
  });
});
