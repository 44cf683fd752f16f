import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preferredWait } from '../../lib/api/app.js';
import { feedDirectory, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { fetchFeedSet, titles } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub();
});
afterAll(async () => {
  await fp?.stop();
});

const refs = (cat: string, tag: string): FeedRef[] => [{ kind: 'site', name: '' }, { kind: 'category', name: cat }, { kind: 'tag', name: tag }];

/** What every format of every feed of the post says right now: one read each, no polling. */
async function shownNow(cat: string, tag: string, title: string): Promise<boolean[]> {
  const sets = await Promise.all(refs(cat, tag).map((ref) => fetchFeedSet(fp.url, feedDirectory(ref, encodeURIComponent))));
  return sets.flatMap((set) => (['rss', 'atom', 'json'] as const).map((f) => (set ? titles(set[f]).includes(title) : false)));
}

const WAIT = { prefer: 'wait=5' };

describe('Prefer: wait (RFC 7240): a write answers once its feeds show it', () => {
  it('each of 15 creations, edits and deletes is in (or gone from) every format of every feed it touches when answered', async () => {
    for (let i = 0; i < 5; i++) {
      const created = await fp.api('POST', '/posts', { id: `waited-${i}`, title: `Waited ${i}`, content: '<p>w</p>', categories: ['waiting'], tags: ['w'] }, WAIT);
      expect(created.status).toBe(201);
      expect(created.headers.get('feedpub-feeds')).toBe('current');
      expect(created.headers.get('preference-applied')).toBe('wait=5');
      expect(await shownNow('waiting', 'w', `Waited ${i}`)).toEqual(Array(9).fill(true));

      const edited = await fp.api('PUT', `/posts/waited-${i}`, { title: `Waited ${i} (edited)`, content: '<p>w</p>', categories: ['waiting'], tags: ['w'] }, WAIT);
      expect(edited.headers.get('feedpub-feeds')).toBe('current');
      expect(await shownNow('waiting', 'w', `Waited ${i} (edited)`)).toEqual(Array(9).fill(true));

      const deleted = await fp.api('DELETE', `/posts/waited-${i}`, undefined, WAIT);
      expect(deleted.status).toBe(204);
      expect(deleted.headers.get('feedpub-feeds')).toBe('current');
      expect(await shownNow('waiting', 'w', `Waited ${i} (edited)`)).toEqual(Array(9).fill(false));
    }
  });

  it('a batch answers once every post of it shows in its feeds', async () => {
    const posts = Array.from({ length: 12 }, (_, i) => ({ id: `wb-${i}`, title: `Batch waited ${i}`, content: '<p>b</p>', categories: [`wb-${i % 3}`], tags: ['wb'] }));
    const answer = await fp.api('POST', '/posts/batch', { posts }, WAIT);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('feedpub-feeds')).toBe('current');
    for (const p of posts) expect(await shownNow(p.categories[0]!, 'wb', p.title)).toEqual(Array(9).fill(true));
  });

  it('without the preference the answer does not wait (the feeds follow within a second)', async () => {
    const answer = await fp.api('POST', '/posts', { id: 'unwaited', title: 'Unwaited', content: '<p>u</p>', categories: ['unwaiting'], tags: ['u'] });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('feedpub-feeds')).toBeNull();
    expect(answer.headers.get('preference-applied')).toBeNull();
  });

  it('a held write is answered at once as pending: its feeds render at the hold release', async () => {
    const hold = (await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string };
    const answer = await fp.api('POST', '/posts', { id: 'held-wait', title: 'Held wait', content: '<p>h</p>', categories: ['held-wait'], tags: [] }, { ...WAIT, 'feedpub-hold': hold.id });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('feedpub-feeds')).toBe('pending');
    expect((await fetchFeedSet(fp.url, feedDirectory({ kind: 'category', name: 'held-wait' }, encodeURIComponent)))?.json.items ?? []).toEqual([]);
    await fp.api('DELETE', `/regeneration/holds/${hold.id}`);
  });

  it('refused writes answer at once with their error', async () => {
    const refused = await fp.api('POST', '/posts', { title: '', content: 'x' }, WAIT);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('preference-applied')).toBeNull();
  });
});

describe('the wait preference as RFC 7240 writes it', () => {
  it.each([
    ['wait=5', 5],
    ['respond-async, wait=3', 3],
    ['WAIT=2', 2],
    ['wait="4"', 4],
    ['wait', 10],
    ['wait=600', 10],
    ['wait=0', 0],
    ['wait=soon', undefined],
    ['wait=-1', undefined],
    ['return=minimal', undefined],
    [undefined, undefined],
  ])('%s -> %s', (header, seconds) => {
    expect(preferredWait(header)).toBe(seconds);
  });
});
