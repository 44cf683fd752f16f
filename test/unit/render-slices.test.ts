import { describe, expect, it } from 'vitest';
import { slices } from '../../lib/regen/feed-render.js';
import type { InboxItem, PostInboxItem } from '../../lib/store/ports.js';

/** A post's inbox items in one feed: `n` writes of it. */
const post = (id: string, n = 1) => Array.from({ length: n }, (_, i) => ({ postId: id, sk: `N#0#${id}.${i}`, change: 'upsert' }) as unknown as PostInboxItem);
/** The posts of each slice, by id. */
const postsOf = (cut: InboxItem[][]) => cut.map((slice) => [...new Set((slice as PostInboxItem[]).map((item) => item.postId))]);

describe('the slices of a render (lib/regen/feed-render.ts)', () => {
  it("takes up to `size` posts, and stops before 50 inbox items: an archive page's changes must fit one transaction", () => {
    const single = Array.from({ length: 60 }, (_, i) => post(`p${i}`));
    expect(postsOf(slices(single.flat(), 40)).map((s) => s.length)).toEqual([40, 20]);
    // Each post written twice since the last render: 24 posts (48 items), not 40 (80 items, 121 actions on one page).
    const twice = Array.from({ length: 60 }, (_, i) => post(`p${i}`, 2));
    const cut = slices(twice.flat(), 40);
    expect(postsOf(cut).map((s) => s.length)).toEqual([24, 24, 12]);
    for (const slice of cut) expect(slice.length).toBeLessThanOrEqual(49);
    // A post with more items than that is a slice of its own, never none, and its items are never split.
    expect(postsOf(slices([...post('many', 70), ...post('next')], 40))).toEqual([['many'], ['next']]);
    expect(postsOf(slices([...post('a'), ...post('many', 70)], 40))).toEqual([['a'], ['many']]);
  });
});
