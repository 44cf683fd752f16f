import { describe, expect, it } from 'vitest';
import { applyWrites, type Member, type Touched } from '../../lib/feeds/archive.js';

const member = (n: number, date = `2024-01-01T00:00:${String(n % 60).padStart(2, '0')}.${String(n).padStart(3, '0')}Z`): Member => ({ id: `p${n}`, date, w: `w${n}` });
const arrive = (m: Member): Touched => ({ id: m.id, place: { kind: 'absent' }, member: m });
const rule = { keep: 3, pageSize: 2 };

/** Every post of the feed, from the open set and the pages, each counted: the walk a reader does. */
function walk(open: Member[], pages: Map<number, Member[]>): string[] {
  return [...open.map((m) => m.id), ...[...pages.values()].flatMap((ms) => ms.map((m) => m.id))].sort();
}

describe('the archive assignment rule', () => {
  it('keeps at least `keep` posts open and seals the oldest `pageSize` whenever `keep + pageSize` are open', () => {
    const posts = Array.from({ length: 5 }, (_, i) => member(i));
    const change = applyWrites([], 0, posts.map(arrive), rule);
    expect(change.sealed).toEqual([{ page: 1, members: [posts[0], posts[1]] }]);
    expect(change.open.map((m) => m.id).sort()).toEqual(['p2', 'p3', 'p4']);
    expect(change.countDelta).toBe(5);
  });

  it('treats a backdated arrival as new: it is open, and sealed with the next page, never into a sealed one', () => {
    const open = [member(10), member(11), member(12), member(13)];
    const backdated = member(99, '2000-01-01T00:00:00.000Z');
    const change = applyWrites(open, 4, [arrive(backdated)], rule);
    expect(change.sealed).toEqual([{ page: 5, members: [backdated, open[0]] }]);
    expect(change.pageChanges.size).toBe(0);
  });

  it('changes only the page of a post edited in place or removed, and never seals on a removal', () => {
    const open = [member(10), member(11), member(12)];
    const edited = { ...member(3), w: 'w3b' };
    const change = applyWrites(open, 2, [{ id: 'p3', place: { kind: 'page', page: 1 }, member: edited }, { id: 'p5', place: { kind: 'page', page: 2 } }, { id: 'p10', place: { kind: 'open' } }], rule);
    expect([...change.pageChanges]).toEqual([[1, { edited: [edited], removed: [] }], [2, { edited: [], removed: ['p5'] }]]);
    expect(change.open.map((m) => m.id).sort()).toEqual(['p11', 'p12']);
    expect(change.sealed).toEqual([]);
    expect(change.countDelta).toBe(-2);
  });

  it('lets every post be walked exactly once, whatever the sequence of arrivals, edits, moves and deletes', () => {
    // A random history against an independent model: the set of posts in the feed.
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let open: Member[] = [];
    const pages = new Map<number, Member[]>();
    const inFeed = new Map<string, Member>();
    for (let step = 0; step < 2000; step++) {
      const n = Math.floor(random() * 120);
      const id = `p${n}`;
      const place = open.some((m) => m.id === id) ? { kind: 'open' as const } : [...pages].find(([, ms]) => ms.some((m) => m.id === id)) ? { kind: 'page' as const, page: [...pages].find(([, ms]) => ms.some((m) => m.id === id))![0] } : { kind: 'absent' as const };
      const present = random() < 0.7;
      const next = present ? { id, date: new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 1e9)).toISOString(), w: `w${step}` } : undefined;
      const change = applyWrites(open, pages.size, [{ id, place, ...(next ? { member: next } : {}) }], { keep: 5, pageSize: 4 });
      for (const [page, { edited, removed }] of change.pageChanges) {
        pages.set(page, pages.get(page)!.filter((m) => !removed.includes(m.id)).map((m) => edited.find((e) => e.id === m.id) ?? m));
      }
      for (const { page, members } of change.sealed) pages.set(page, members);
      open = change.open;
      if (next) inFeed.set(id, next);
      else inFeed.delete(id);
      expect(walk(open, pages)).toEqual([...inFeed.keys()].sort());
      expect(change.sealed.length + change.pageChanges.size).toBeLessThanOrEqual(1);
      expect(open.length).toBeLessThan(9);
    }
    expect(pages.size).toBeGreaterThan(5);
  });
});
