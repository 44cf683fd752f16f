import type { SiteConfig } from '../config.js';
import { applyWrites, DELTA, newestFirst, type Member, type Place } from '../feeds/archive.js';
import { archiveKey, FEED_FORMATS, feedId, feedKey, feedsShowing, FORMAT_NAMES, type FeedRef } from '../feeds/feed-ref.js';
import { renderFeed } from '../feeds/render.js';
import type { Post } from '../posts/post.js';
import type { DynamoFeedArchive } from '../store/dynamo-feed-archive.js';
import { isPostItem, type ArchivePage, type InboxItem, type PostInboxItem, type PostRepository, type RenderState, type StoredObject } from '../store/ports.js';
import { feedPageFile, type RenderedFile } from './documents.js';

/** Writes a document's files (those whose bytes changed), fenced; returns the objects now in S3 by key. */
export type WriteFiles = (files: RenderedFile[], before: Record<string, StoredObject>) => Promise<Record<string, StoredObject>>;

export interface FeedRenderDeps {
  posts: PostRepository;
  archive: DynamoFeedArchive;
  /** The site when the render started. */
  site: SiteConfig;
  /**
   * The site now (cached, lib/site/site-source.ts): asked after the current document is written, which is written
   * again if the settings changed meanwhile, so a render that commits after a change never records the old head.
   */
  latestSite?: () => Promise<SiteConfig>;
  /** Posts per archive page. */
  pageSize: number;
  /** Test hook: after a slice's S3 writes, before its commit. */
  beforeCommit?: () => Promise<void>;
  /**
   * Asked before each slice after the first: true ends the render there (a background turn that a live render is
   * waiting for). The current document is then published from what the slices done left, and the rest of the
   * inbox stays for the next render.
   */
  endTurn?: () => Promise<boolean>;
}

/** Distinct posts per slice of a render: one slice's commit always fits DynamoDB's transactions. */
const SLICE_POSTS = 40;
/** Per slice of a background turn, which a live render may ask to end: it waits for at most one slice. */
export const TURN_SLICE_POSTS = 10;

const inFeed = (post: Post | undefined, ref: FeedRef) => post !== undefined && feedsShowing(post).some((r) => feedId(r) === feedId(ref));

function files(ref: FeedRef, rendered: Record<string, string>, key: (format: (typeof FORMAT_NAMES)[number]) => string): RenderedFile[] {
  return FORMAT_NAMES.map((format) => ({ key: key(format), contentType: FEED_FORMATS[format].contentType, body: rendered[format]! }));
}

/**
 * Inbox items of a slice's posts, at most (a post with more is a slice alone): an archive page's changes are one unit
 * of the slice's commit (lib/store/dynamo-feed-archive.ts), its update, the pointer of each post leaving it and every
 * inbox item of its posts, which must fit one transaction of 100 actions: 1 + 2 × 49.
 */
const SLICE_ITEMS = 49;

/**
 * The inbox in slices of at most `size` posts and SLICE_ITEMS items, a post's items never split, oldest lanes as
 * read. Changes of the site's settings go with the last slice, whose commit records the current document rendered
 * with them.
 */
export function slices(inbox: InboxItem[], size: number): InboxItem[][] {
  const byPost = new Map<string, PostInboxItem[]>();
  for (const item of inbox.filter(isPostItem)) byPost.set(item.postId, [...(byPost.get(item.postId) ?? []), item]);
  const out: InboxItem[][] = [];
  let current: PostInboxItem[][] = [];
  let items = 0;
  for (const group of byPost.values()) {
    if (current.length > 0 && (current.length >= size || items + group.length > SLICE_ITEMS)) {
      out.push(current.flat());
      [current, items] = [[], 0];
    }
    current.push(group);
    items += group.length;
  }
  out.push(current.flat());
  out.at(-1)!.push(...inbox.filter((item) => !isPostItem(item)));
  return out;
}

const sameVersion = (a: SiteConfig, b: SiteConfig) => (a.settingsVersion ?? 0) === (b.settingsVersion ?? 0);

/**
 * One render of a feed under its lease (docs/DESIGN.md, archives): the writes in its inbox placed by the archive
 * assignment rule (lib/feeds/archive.ts), the pages they seal or change written, then the current document, each
 * slice of the inbox committed as it is done. Returns the files written with new bytes.
 */
export async function renderFeedAndArchive(
  ref: FeedRef,
  owner: string,
  read: { open: Member[]; inbox: InboxItem[] },
  current: RenderState,
  write: WriteFiles,
  { posts, archive, site, latestSite, pageSize, beforeCommit, endTurn }: FeedRenderDeps,
): Promise<{ renders: number; count: number; left: number }> {
  const id = feedId(ref);
  let renders = 0;
  let open = read.open;
  let state: RenderState = { ...current, pages: current.pages ?? 0 };
  const all = slices(read.inbox, endTurn ? TURN_SLICE_POSTS : SLICE_POSTS);
  let left = 0;
  for (const [index, whole] of all.entries()) {
    // Ended early: this step covers nothing and publishes the current document as the slices before left it.
    const ended = index > 0 && (await endTurn?.()) === true;
    const slice = ended ? [] : whole;
    const last = ended || index === all.length - 1;
    if (ended) left = all.slice(index).reduce((n, s) => n + s.length, 0);
    const postItems = slice.filter(isPostItem);
    const ids = [...new Set(postItems.map((i) => i.postId))];
    // Any post not open may be on a page, an arriving one too: a render that covered its earlier departure may
    // have read it back in the feed and kept it on its page (docs/DESIGN.md, archives). Read beside the posts.
    const openIds = new Set(open.map((m) => m.id));
    const maybeArchived = state.pages! > 0 ? ids.filter((postId) => !openIds.has(postId)) : [];
    const [now, located] = await Promise.all([
      posts.current(ids),
      maybeArchived.length > 0 ? archive.locate(id, maybeArchived, state.pages!) : { places: new Map<string, number>(), read: new Map<number, ArchivePage>() },
    ]);
    const touched = ids.map((postId) => {
      const place: Place = openIds.has(postId) ? { kind: 'open' } : located.places.has(postId) ? { kind: 'page', page: located.places.get(postId)! } : { kind: 'absent' };
      const stored = now.get(postId);
      return { id: postId, place, ...(stored && inFeed(stored.post, ref) ? { member: { id: postId, date: stored.post.date, w: stored.w } } : {}) };
    });
    const change = applyWrites(open, state.pages!, touched, { keep: site.feedItems, pageSize });

    // Pages sealed or changed, rendered and written before the commit that makes them part of the feed.
    const pages = new Map<number, ArchivePage>();
    for (const { page, members } of change.sealed) pages.set(page, { page, members, objects: {} });
    for (const [page, { edited, removed }] of change.pageChanges) {
      const base = located.read.get(page)!;
      const members = base.members.filter((m) => !removed.includes(m.id)).map((m) => edited.find((e) => e.id === m.id) ?? m);
      pages.set(page, { page, members, objects: base.objects });
    }
    for (const page of pages.values()) {
      const rendered = renderFeed({ ref, posts: await posts.versions([...page.members].sort(newestFirst)), emptySince: state.newest ?? '1970-01-01T00:00:00.000Z', archive: { pages: 0, page: page.page } }, site);
      const pageFiles = files(ref, rendered, (format) => archiveKey(ref, page.page, format));
      page.objects = await write(pageFiles, page.objects);
      renders++;
    }

    const pagesNow = state.pages! + change.sealed.length;
    const newest = change.open.reduce((max, m) => (m.date > max ? m.date : max), '') || state.newest;
    let objects = state.objects;
    if (last) {
      const shown = await posts.versions([...change.open].sort(newestFirst));
      for (let used: SiteConfig | undefined = site; used; ) {
        const rendered = renderFeed({ ref, posts: shown, emptySince: newest ?? '1970-01-01T00:00:00.000Z', archive: { pages: pagesNow } }, used);
        // The feed's page for people goes with its current document, from the same posts, under the same fence.
        const currentFiles = [...files(ref, rendered, (format) => feedKey(ref, format)), feedPageFile(ref, shown, used)];
        objects = await write(currentFiles, objects);
        renders++;
        const latest = await latestSite?.();
        used = latest && !sameVersion(latest, used) ? latest : undefined;
      }
    }
    const next: RenderState = {
      objects,
      count: state.count + slice.reduce((n, i) => n + DELTA[i.change], 0),
      pages: pagesNow,
      ...(newest ? { newest } : {}),
    };
    await beforeCommit?.();
    await archive.commit(id, owner, { state: next, storedOpen: open, change, pages, covered: slice, last });
    open = change.open;
    state = next;
    if (last) break;
  }
  return { renders, count: state.count, left };
}
