import { describe, expect, it } from 'vitest';
import { listOutsideScope, outsideScope, UNSCOPED, writeOutsideScope } from '../../lib/keys/scope.js';

const post = (categories: string[], tags: string[] = []) => ({ categories, tags });
const desk = { categories: ['emnews', 'markets'], tags: [] };
const wire = { categories: [], tags: ['东财滚动新闻'] };
const both = { categories: ['emnews'], tags: ['快讯'] };

describe('the scope rule', () => {
  it('lets an unscoped key touch any post, with or without labels', () => {
    expect(outsideScope(UNSCOPED, post(['anything'], ['at all']))).toBeUndefined();
    expect(outsideScope(UNSCOPED, post([]))).toBeUndefined();
    expect(writeOutsideScope(UNSCOPED, post(['a']), post(['b']))).toBeUndefined();
  });

  it('lets a key scoped by category write posts whose categories all lie in its list, whatever their tags', () => {
    expect(outsideScope(desk, post(['emnews']))).toBeUndefined();
    expect(outsideScope(desk, post(['markets', 'emnews'], ['any tag']))).toBeUndefined();
  });

  it('names the first category outside the scope', () => {
    expect(outsideScope(desk, post(['emnews', 'sports', 'weather']))).toEqual({
      field: 'categories',
      rule: 'key_scope',
      message: "the post is in category 'sports', which is not this key's ('emnews', 'markets')",
    });
  });

  it('refuses a post with no category to a key scoped by category', () => {
    expect(outsideScope(desk, post([], ['x']))).toMatchObject({ field: 'categories', message: expect.stringContaining('has no category') });
  });

  it('scopes by tag the same way, leaving categories free', () => {
    expect(outsideScope(wire, post(['any category'], ['东财滚动新闻']))).toBeUndefined();
    expect(outsideScope(wire, post([], ['东财滚动新闻', '其他']))).toMatchObject({ field: 'tags', message: expect.stringContaining("tag '其他'") });
    expect(outsideScope(wire, post(['x']))).toMatchObject({ field: 'tags', message: expect.stringContaining('has no tag') });
  });

  it('with both, asks both', () => {
    expect(outsideScope(both, post(['emnews'], ['快讯']))).toBeUndefined();
    expect(outsideScope(both, post(['emnews'], ['other']))).toMatchObject({ field: 'tags' });
    expect(outsideScope(both, post(['other'], ['快讯']))).toMatchObject({ field: 'categories' });
  });

  it('checks an edit against the stored post and the new one: no taking over, no moving out', () => {
    expect(writeOutsideScope(desk, post(['emnews']), post(['markets']))).toBeUndefined();
    expect(writeOutsideScope(desk, post(['emnews']), post(['sports']))).toMatchObject({ message: expect.stringMatching(/^the post is in category 'sports'/) });
    expect(writeOutsideScope(desk, post(['sports']), post(['emnews']))).toMatchObject({ message: expect.stringMatching(/^the stored post is in category 'sports'/) });
  });

  it('checks a creation against the new post, a delete against the stored one', () => {
    expect(writeOutsideScope(desk, undefined, post(['emnews']))).toBeUndefined();
    expect(writeOutsideScope(desk, undefined, post(['sports']))).toMatchObject({ field: 'categories' });
    expect(writeOutsideScope(desk, post(['emnews']), undefined)).toBeUndefined();
    expect(writeOutsideScope(desk, post(['emnews', 'sports']), undefined)).toMatchObject({ message: expect.stringContaining("'sports'") });
  });

  it('lists for a scoped key only a feed of its own', () => {
    expect(listOutsideScope(UNSCOPED, {})).toBeUndefined();
    expect(listOutsideScope(desk, { category: 'markets' })).toBeUndefined();
    expect(listOutsideScope(desk, {})).toMatchObject({ field: 'category', rule: 'key_scope' });
    expect(listOutsideScope(desk, { category: 'sports' })).toMatchObject({ field: 'category', message: expect.stringContaining("'sports'") });
    expect(listOutsideScope(desk, { tag: 'x' })).toMatchObject({ field: 'category' });
    expect(listOutsideScope(wire, { tag: '东财滚动新闻' })).toBeUndefined();
    expect(listOutsideScope(wire, { category: 'emnews' })).toMatchObject({ field: 'tag' });
  });
});
