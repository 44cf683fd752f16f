import { describe, expect, it } from 'vitest';
import { feedChanges, feedDirectory, feedUrl, pathSegment } from '../../lib/feeds/feed-ref.js';
import type { Post } from '../../lib/posts/post.js';

describe('pathSegment', () => {
  it('keeps names that are already lower-case slugs, pinyin and CJK as they are', () => {
    expect(pathSegment('emnews')).toBe('emnews');
    expect(pathSegment('zhongguolaodongbaozhangbao')).toBe('zhongguolaodongbaozhangbao');
    expect(pathSegment('hong-kong')).toBe('hong-kong');
    expect(pathSegment('东财滚动新闻')).toBe('东财滚动新闻');
  });

  it('gives names that differ only in case different segments, also on a case-insensitive disk', () => {
    const upper = pathSegment('TechWeb');
    const lower = pathSegment('Techweb');
    expect(upper).toMatch(/^techweb_[0-9a-f]{8}$/);
    expect(lower).toMatch(/^techweb_[0-9a-f]{8}$/);
    expect(upper.toLowerCase()).not.toBe(lower.toLowerCase());
  });

  it('folds spaces, parentheses and full-width punctuation, and keeps the segment stable', () => {
    expect(pathSegment('Reuters (China)')).toMatch(/^reuters-china_[0-9a-f]{8}$/);
    expect(pathSegment('新华社（北京）')).toMatch(/^新华社-北京_[0-9a-f]{8}$/);
    expect(pathSegment('Reuters (China)')).toBe(pathSegment('Reuters (China)'));
    expect(pathSegment('+++')).toMatch(/^_[0-9a-f]{8}$/);
  });

  it('never lets a slug-looking name collide with a folded one', () => {
    const folded = pathSegment('Tech Web');
    expect(pathSegment(folded)).not.toBe(folded);
  });

  it('keeps segments short', () => {
    expect([...pathSegment('A'.repeat(100))].length).toBeLessThanOrEqual(69);
  });
});

describe('feed paths', () => {
  it('puts the site, categories and tags where the README says, percent-encoding URLs', () => {
    expect(feedDirectory({ kind: 'site', name: '' })).toBe('feeds');
    expect(feedDirectory({ kind: 'category', name: 'emnews' })).toBe('feeds/categories/emnews');
    expect(feedUrl({ kind: 'tag', name: '站长消息' }, 'atom', 'https://x.example')).toBe(
      'https://x.example/feeds/tags/%E7%AB%99%E9%95%BF%E6%B6%88%E6%81%AF/atom.xml',
    );
  });
});

describe('feedChanges', () => {
  const post = (categories: string[], tags: string[]) => ({ id: 'p1', categories, tags }) as unknown as Post;

  it('says of every feed a write touches whether the post joins, stays in or leaves it, the site feed once', () => {
    const changes = feedChanges(post(['a', 'b'], ['t']), post(['b', 'c'], []));
    expect(Object.fromEntries([...changes].map(([id, c]) => [id, c.change]))).toEqual({ site: 'stay', 'c:a': 'leave', 'c:b': 'stay', 'c:c': 'join', 't:t': 'leave' });
  });

  it('has every feed join on a creation and leave on a delete', () => {
    expect([...feedChanges(undefined, post(['a'], ['t'])).values()].map((c) => c.change)).toEqual(['join', 'join', 'join']);
    expect([...feedChanges(post(['a'], []), undefined).values()].map((c) => c.change)).toEqual(['leave', 'leave']);
  });
});
