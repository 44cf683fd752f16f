/**
 * Which posts of a feed are in its current document and which on which archive page (RFC 5005 section 4,
 * https://www.rfc-editor.org/rfc/rfc5005#section-4): the assignment rule, pure.
 *
 * - The current document holds the feed's "open" posts. A post becomes open when it arrives in the feed (created in
 *   it, or moved into it), whatever its date: a backdated post is new to a subscriber.
 * - While at least `keep + pageSize` posts are open, the `pageSize` oldest of them (by date, then id) are sealed
 *   into a new archive page, the next number. So the current document holds its `keep` newest at least, and fewer
 *   than `keep + pageSize` posts.
 * - A page's set never changes once sealed, except that a post that leaves the feed (deleted, moved away) leaves its
 *   page, and a post edited in place stays where it is, changing that one page.
 *
 * Every post of the feed is open or on exactly one page: walking the current document and then every page yields
 * each post exactly once. Sealing moves posts from open to a page; arrivals become open; a departure removes a post
 * from wherever it is; nothing else moves a post. A write changes at most one page (the page of the post it edits
 * or removes) or seals at most one (it adds at most one open post).
 */

/** A post as the rule needs it: its id, date, and the write that stored the version seen. */
export interface Member {
  id: string;
  date: string;
  /** The write that stored this version (the cache key of the post). */
  w: string;
}

/** Where a post is now, before the writes are applied. */
export type Place = { kind: 'open' } | { kind: 'page'; page: number } | { kind: 'absent' };

/** A post the writes touched, in its state after them: `member` when it is in the feed, absent when it is not. */
export interface Touched {
  id: string;
  place: Place;
  member?: Member;
}

export interface ArchiveChange {
  /** The open posts afterwards (unordered). */
  open: Member[];
  /** New pages, numbered from `pages + 1`, each the posts sealed into it. */
  sealed: { page: number; members: Member[] }[];
  /** Pages whose posts changed: edited in place (`edited`, their new versions) or gone (`removed`). */
  pageChanges: Map<number, { edited: Member[]; removed: string[] }>;
  /** Posts in the feed now, minus before. */
  countDelta: number;
}

const byAge = (a: Member, b: Member) => (a.date === b.date ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.date < b.date ? -1 : 1);

/** Newest first, as feeds list their items. */
export const newestFirst = (a: Member, b: Member) => -byAge(a, b);

export function applyWrites(open: Member[], pages: number, touched: Touched[], { keep, pageSize }: { keep: number; pageSize: number }): ArchiveChange {
  const current = new Map(open.map((m) => [m.id, m]));
  const change: ArchiveChange = { open: [], sealed: [], pageChanges: new Map(), countDelta: 0 };
  const pageChange = (page: number) => change.pageChanges.get(page) ?? change.pageChanges.set(page, { edited: [], removed: [] }).get(page)!;

  for (const { id, place, member } of touched) {
    if (place.kind === 'open') {
      if (member) current.set(id, member);
      else {
        current.delete(id);
        change.countDelta--;
      }
    } else if (place.kind === 'page') {
      if (member) pageChange(place.page).edited.push(member);
      else {
        pageChange(place.page).removed.push(id);
        change.countDelta--;
      }
    } else if (member) {
      current.set(id, member);
      change.countDelta++;
    }
  }

  let next = pages;
  while (current.size >= keep + pageSize) {
    const members = [...current.values()].sort(byAge).slice(0, pageSize);
    for (const m of members) current.delete(m.id);
    change.sealed.push({ page: ++next, members });
  }
  change.open = [...current.values()];
  return change;
}

/** How an inbox item changes the feed's post count (a change of the site's settings: not at all). */
export const DELTA: Record<'join' | 'stay' | 'leave' | 'settings', number> = { join: 1, stay: 0, leave: -1, settings: 0 };
