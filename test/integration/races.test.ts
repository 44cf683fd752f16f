import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { titles, waitForFeedSet } from '../support/feeds.js';
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
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    const expected = Array.from({ length: 24 }, (_, i) => `Race ${23 - i}`);
    const feeds = await waitForFeedSet(fp.url, dir('race'), (f) => f.items.length === 24, 5000);
    for (const feed of Object.values(feeds)) expect(titles(feed)).toEqual(expected);
  });

  it('settle concurrent replacements of one post on the last stored version, in every feed', async () => {
    const categories = ['left', 'right', 'up', 'down'];
    await Promise.all(categories.map((c) => fp.api('PUT', '/posts/contested', { title: `In ${c}`, content: '<p>c</p>', categories: [c] })));
    const stored = (await (await fp.api('GET', '/posts/contested')).json()) as { title: string; categories: string[] };
    for (const c of categories) {
      const feeds = await waitForFeedSet(fp.url, dir(c), (f) => f.items.length === (c === stored.categories[0] ? 1 : 0), 5000);
      if (c === stored.categories[0]) expect(titles(feeds.atom)).toEqual([stored.title]);
    }
  });
});
