import { describe, expect, it } from 'vitest';
import { feedKey, feedUrl, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { notifyJobsFor } from '../../lib/hub/announce.js';
import { feedTopicOf } from '../../lib/hub/feed-topics.js';
import { loadHubConfig } from '../../lib/hub/hub-config.js';
import { sqsBatches } from '../../lib/hub/sqs-queue.js';

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

  it('announces feed documents with exactly their bytes, one job per feed, and leaves pages and the directory out', () => {
    const jobs = notifyJobsFor(
      [file('feeds/rss.xml', 'café'), file('posts/a.html', 'x'), file('feeds/tags/a/atom.xml', 'a'), file('feeds/index.html', 'y'), file('feeds/feed.json', 'j')],
      { inlineBodyMaxBytes: 100, now: () => 7 },
    );
    const topic = (topicKey: string, body: string) => ({ topicKey, contentType: 'application/rss+xml; charset=utf-8', body: { inline: Buffer.from(body).toString('base64') } });
    expect(jobs).toEqual([
      { kind: 'notify', id: expect.any(String), feed: 'feeds/', topics: [topic('feeds/rss.xml', 'café'), topic('feeds/feed.json', 'j')], announcedAt: 7 },
      { kind: 'notify', id: expect.any(String), feed: 'feeds/tags/a/', topics: [topic('feeds/tags/a/atom.xml', 'a')], announcedAt: 7 },
    ]);
  });

  it("counts the inline limit over a job's bodies, smallest first, and sends the rest by object version", () => {
    const [job] = notifyJobsFor([file('feeds/rss.xml', 'x'.repeat(60), 'v1'), file('feeds/atom.xml', 'x'.repeat(30), 'v2'), file('feeds/feed.json', 'x'.repeat(50), 'v3')], { inlineBodyMaxBytes: 100 });
    expect(job!.topics.map((t) => ('inline' in t.body ? 'inline' : t.body.ref.versionId))).toEqual(['v1', 'inline', 'inline']);
  });

  it('announces a document written twice in one call once, with its last bytes', () => {
    const [job] = notifyJobsFor([file('feeds/rss.xml', 'v1'), file('feeds/atom.xml', 'a1'), file('feeds/rss.xml', 'v2')], { inlineBodyMaxBytes: 100 });
    expect(job!.topics.map((t) => [t.topicKey, 'inline' in t.body && Buffer.from(t.body.inline, 'base64').toString()])).toEqual([
      ['feeds/rss.xml', 'v2'],
      ['feeds/atom.xml', 'a1'],
    ]);
  });

  it('keeps a notification of three inline bodies at the largest limit allowed inside one SQS message', () => {
    const limit = loadHubConfig({ FEEDPUB_HUB_INLINE_BODY_BYTES: '180000' }, 'https://h.example/hub').inlineBodyMaxBytes;
    const tag = `feeds/tags/${encodeURIComponent('东'.repeat(200))}/`;
    const jobs = notifyJobsFor(['rss.xml', 'atom.xml', 'feed.json'].map((name) => file(`${tag}${name}`, 'x'.repeat(limit / 3))), { inlineBodyMaxBytes: limit });
    expect(jobs[0]!.topics.every((t) => 'inline' in t.body)).toBe(true);
    expect(() => sqsBatches(jobs)).not.toThrow();
    expect(() => loadHubConfig({ FEEDPUB_HUB_INLINE_BODY_BYTES: '180001' }, 'https://h.example/hub')).toThrow(/FEEDPUB_HUB_INLINE_BODY_BYTES/);
  });

  it('refuses a body past the inline limit without a version', () => {
    expect(notifyJobsFor([file('feeds/rss.xml', 'x'.repeat(101), 'v3')], { inlineBodyMaxBytes: 100 })[0]!.topics[0]!.body).toEqual({ ref: { key: 'feeds/rss.xml', versionId: 'v3' } });
    expect(() => notifyJobsFor([file('feeds/rss.xml', 'x'.repeat(101))], { inlineBodyMaxBytes: 100 })).toThrow(/no VersionId/);
  });
});
