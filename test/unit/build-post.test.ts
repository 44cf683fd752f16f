import { describe, expect, it } from 'vitest';
import { buildPost } from '../../lib/posts/build-post.js';
import type { PostDraft } from '../../lib/posts/post.js';

const draft = (extra: Partial<PostDraft> = {}): PostDraft => ({ title: 'Title', content: '<p>Body text</p>', categories: ['a'], tags: [], authors: [], ...extra });
const base = { id: 'p1', siteUrl: 'https://site.example' };

describe('buildPost', () => {
  it('derives a plain-text summary from the content when none is given', () => {
    const post = buildPost(draft({ content: '<p>A &amp; B &lt;1%</p>' }), { ...base, now: new Date('2024-01-01T00:00:00Z') });
    expect(post.summary).toBe('A & B <1%');
  });

  it('returns the stored post itself for the same content: same version, same updated date', () => {
    const created = buildPost(draft(), { ...base, now: new Date('2024-01-01T00:00:00Z') });
    const again = buildPost(draft(), { ...base, now: new Date('2024-06-01T00:00:00Z'), existing: created });
    expect(again).toBe(created);
  });

  it('moves the updated date and the version only when the content changes', () => {
    const created = buildPost(draft({ date: new Date('2023-01-01T00:00:00Z') }), { ...base, now: new Date('2024-01-01T00:00:00Z') });
    expect(created.updated).toBe('2023-01-01T00:00:00.000Z');
    const edited = buildPost(draft({ title: 'New title' }), { ...base, now: new Date('2024-06-01T00:00:00Z'), existing: created });
    expect(edited).toMatchObject({ id: 'p1', version: 2, date: '2023-01-01T00:00:00.000Z', updated: '2024-06-01T00:00:00.000Z' });
  });

  it('strips characters XML forbids from text', () => {
    const post = buildPost(draft({ title: 'a\u0000b\u001Fc' }), { ...base, now: new Date() });
    expect(post.title).toBe('abc');
  });
});
