import { describe, expect, it } from 'vitest';
import { nextSlice } from '../../lib/regen/feed-render.js';
import type { PostInboxItem } from '../../lib/store/ports.js';

/** A post's inbox items in one feed: `n` writes of it. */
const post = (id: string, n = 1) => Array.from({ length: n }, (_, i) => ({ postId: id, sk: `N#0#${id}.${i}`, change: 'upsert' }) as unknown as PostInboxItem);

describe('the slices of a render (lib/regen/feed-render.ts)', () => {
  it("takes up to `size` posts, and stops before 50 inbox items: an archive page's changes must fit one transaction", () => {
    const single = Array.from({ length: 60 }, (_, i) => post(`p${i}`));
    expect(nextSlice(single, 0, 40)).toHaveLength(40);
    expect(nextSlice(single, 50, 40)).toHaveLength(10);
    // Each post written twice since the last render: 24 posts (48 items), not 40 (80 items, 121 actions on one page).
    const twice = Array.from({ length: 60 }, (_, i) => post(`p${i}`, 2));
    expect(nextSlice(twice, 0, 40)).toHaveLength(24);
    expect(nextSlice(twice, 0, 40).flat().length).toBeLessThanOrEqual(49);
    // A post with more items than that is a slice of its own, never none.
    expect(nextSlice([post('many', 70), post('next')], 0, 40)).toEqual([post('many', 70)]);
    expect(nextSlice([post('a'), post('many', 70)], 0, 40)).toEqual([post('a')]);
  });
});
