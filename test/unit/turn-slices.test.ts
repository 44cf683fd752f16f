import { describe, expect, it } from 'vitest';
import { nextTurnSlice, TURN_SLICE_MS, TURN_SLICE_POSTS } from '../../lib/regen/feed-render.js';

describe('the slices of a background turn (lib/regen/feed-render.ts)', () => {
  it('grow where slices are quick, at most doubling, up to 40 posts (what one commit holds)', () => {
    expect(nextTurnSlice(TURN_SLICE_POSTS, TURN_SLICE_MS / 4)).toBe(2 * TURN_SLICE_POSTS);
    expect(nextTurnSlice(20, TURN_SLICE_MS / 4)).toBe(40);
    expect(nextTurnSlice(40, 1)).toBe(40);
    expect(nextTurnSlice(10, 0)).toBe(20);
  });

  it('keep a slice to about TURN_SLICE_MS at the pace of the last one, never under the first slice', () => {
    expect(nextTurnSlice(40, TURN_SLICE_MS * 2)).toBe(20);
    expect(nextTurnSlice(20, (TURN_SLICE_MS * 20) / 15)).toBe(15);
    expect(nextTurnSlice(20, TURN_SLICE_MS * 10)).toBe(TURN_SLICE_POSTS);
    expect(nextTurnSlice(TURN_SLICE_POSTS, TURN_SLICE_MS)).toBe(TURN_SLICE_POSTS);
  });
});
