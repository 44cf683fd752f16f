import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { fetchFeedSet, titles, waitForFeedSet, withinASecond } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub();
});
afterAll(async () => {
  await fp?.stop();
});

const dir = (name: string) => feedDirectory({ kind: 'category', name }, encodeURIComponent);

describe('racing writes', () => {
  it('never leave a feed without any of the posts written into it at the same time', async () => {
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        fp.api('PUT', `/posts/race-${i}`, { title: `Race ${i}`, content: `<p>${i}</p>`, date: new Date(Date.UTC(2022, 0, 1, 0, i)).toISOString(), categories: ['race'] }),
      ),
    );
    const by = withinASecond();
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const expected = Array.from({ length: 24 }, (_, i) => `Race ${23 - i}`);
    const feeds = await waitForFeedSet(fp.url, dir('race'), (f) => f.items.length === 24, by);
    for (const feed of Object.values(feeds)) expect(titles(feed)).toEqual(expected);
  });

  it('settle concurrent replacements of one post on the last stored version, in every feed', async () => {
    const categories = ['left', 'right', 'up', 'down'];
    await Promise.all(categories.map((c) => fp.api('PUT', '/posts/contested', { title: `In ${c}`, content: '<p>c</p>', categories: [c] })));
    const by = withinASecond();
    const stored = (await (await fp.api('GET', '/posts/contested')).json()) as { title: string; categories: string[] };
    const winner = await waitForFeedSet(fp.url, dir(stored.categories[0]!), (f) => f.items.length === 1, by);
    expect(titles(winner.atom)).toEqual([stored.title]);
    // The others either never held the post (a write superseded before it was stored: no feed) or hold it no
    // more, a second after the last answer at the latest.
    await new Promise((r) => setTimeout(r, Math.max(0, by - Date.now())));
    for (const c of categories.filter((c) => c !== stored.categories[0])) expect((await fetchFeedSet(fp.url, dir(c)))?.atom.items ?? []).toEqual([]);
  });
});
