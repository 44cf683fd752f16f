import type { Member } from '../feeds/archive.js';
import type { FeedChange } from '../feeds/feed-ref.js';
import type { KeyScope } from '../keys/scope.js';
import type { Post } from '../posts/post.js';

export interface PostPage {
  posts: Post[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  cursor?: string;
}

export interface WriteOptions {
  /** Inbox lane of the write: the open lane, or a hold's (its feeds render when the hold is released). */
  lane?: string;
  /** Told of each write once committed (a request that answers when the feeds show it waits for these). */
  onCommitted?: (write: CommittedWrite) => void;
}

/** A committed write: its id, its inbox lane, and the feeds whose inboxes got an item named by it. */
export interface CommittedWrite {
  w: string;
  lane: string;
  feedIds: string[];
}

export interface PostRepository {
  get(id: string): Promise<Post | undefined>;
  /**
   * Stores `next` in place of `previous` (absent: a new post; `next` absent: a delete), with every index entry
   * and an inbox item for every touched feed, in one transaction. Throws StaleWrite when the stored post is no
   * longer `previous`, TransactionBusy when a concurrent transaction held one of its items.
   */
  write(previous: Post | undefined, next: Post | undefined, options?: WriteOptions): Promise<void>;
  /** Several writes, each all or nothing, in as few transactions as fit; returns those a concurrent writer stopped. */
  writeMany(changes: { previous: Post | undefined; next: Post | undefined }[], options?: WriteOptions): Promise<{ notWritten: Map<number, Error> }>;
  /** Stored posts by id, read consistently; absent ids are left out. */
  getAll(ids: string[]): Promise<Map<string, Post>>;
  /** Stored posts by id with the write that stored each, read consistently; absent ids are left out. */
  current(ids: string[]): Promise<Map<string, { post: Post; w: string }>>;
  /** The posts of members (id and the write that stored the version wanted), in their order, cached where possible. */
  versions(members: { id: string; w: string }[]): Promise<Post[]>;
  /** Newest first, from a feed's index: never a scan. */
  listFeed(feedId: string, limit: number, cursor?: string): Promise<PostPage>;
  /** Scheduled posts, soonest first, from the schedule partition. */
  listScheduled(limit: number, cursor?: string): Promise<PostPage>;
}

/**
 * One write's mark in a feed's inbox: a post's write (it joins, stays in or leaves the feed), or a change of the
 * site's settings, which changes no post but every document's head (title, links, language).
 */
export type InboxItem = PostInboxItem | SettingsInboxItem;

export interface PostInboxItem {
  /** Sort key: deleting it records the write as rendered. */
  sk: string;
  postId: string;
  change: FeedChange;
}

export interface SettingsInboxItem {
  sk: string;
  change: 'settings';
  /** The settings version the feed must be rendered with, at least. */
  version: number;
}

export const isPostItem = (item: InboxItem): item is PostInboxItem => item.change !== 'settings';

/** The newest settings version an inbox names (0: none): a render covering it uses at least that version. */
export const settingsVersionOf = (inbox: InboxItem[]) => inbox.reduce((max, item) => (item.change === 'settings' ? Math.max(max, item.version) : max), 0);

/** What the regenerator knows of an object it wrote. */
export interface StoredObject {
  /** SHA-256 of the bytes: unchanged bytes are not written again. */
  sha: string;
  /** The ETag S3 gave them: the next write is conditioned on it (fencing). */
  etag: string;
}

export interface RenderState {
  /** What is in S3, by key. */
  objects: Record<string, StoredObject>;
  /** Posts in the feed (all of them, not only the newest N its documents hold). */
  count: number;
  /** Date of the newest post, absent while the feed is empty. */
  newest?: string;
  renderedAt?: string;
  /** Archive pages of the feed (RFC 5005): 1 to `pages`. */
  pages?: number;
}

/** An archive page as the table keeps it: its posts, and what is in S3 of it. */
export interface ArchivePage {
  page: number;
  members: Member[];
  objects: Record<string, StoredObject>;
}

export interface FeedListing {
  feedId: string;
  count: number;
  newest: string;
}

/**
 * Who renders under a lease: a publisher's write ('live'), or a turn of held writes ('background': an import's
 * release, or its writes rendered after it), which ends its turn early when a live render asks (`askTurn`).
 */
export type LeaseKind = 'live' | 'background';

/** The lease is held by another holder, of this kind. */
export interface LeaseBusy {
  busy: LeaseKind;
  /** The holder's lease token: a next turn that took the lease has another. */
  holder?: string;
}

export const isBusy = <T extends object>(acquired: T | LeaseBusy): acquired is LeaseBusy => 'busy' in acquired;

export interface FeedStateRepository {
  /** Takes the document's regeneration lease for a render of this kind; what holds it while another holder has it. */
  acquire(documentId: string, owner: string, leaseMs: number, kind?: LeaseKind): Promise<RenderState | LeaseBusy>;
  /** A live render waits for a background turn: asks it to publish what it has done and let go of the lease. */
  askTurn(documentId: string, holder?: string): Promise<void>;
  /**
   * Whether a live render asked the turn holding the lease under `token` by name (whatever the clocks say), or asked at
   * or after `since` (epoch ms; an ask in the millisecond a turn started is for it): the turn then ends early.
   */
  turnAsked(documentId: string, since: number, token: string): Promise<boolean>;
  /** Extends a lease this owner holds; false when it was lost. */
  renew(documentId: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Whether some holder has the lease now. */
  leased(documentId: string): Promise<boolean>;
  /** Whether any of these inbox items is still there (not yet covered by a render). */
  anyPending(feedId: string, sks: string[]): Promise<boolean>;
  /**
   * Records a finished render and releases the lease; deletes the inbox items it covered, each in the same
   * transaction as the count change it brings, so a crash half way never counts a write twice. Throws LeaseLost
   * when the lease is not this owner's any more.
   */
  record(documentId: string, owner: string, state: RenderState, covered: InboxItem[]): Promise<void>;
  release(documentId: string, owner: string): Promise<void>;
  /** Every feed that has posts, with its post count and newest post (the directory index; eventually consistent). */
  listFeeds(): Promise<FeedListing[]>;
  /** Feeds with inbox items, in any lane: what a re-drive must regenerate (an operator's sweep; it scans). */
  listStale(): Promise<{ feedId: string; lanes: string[] }[]>;
  park(documentId: string, reason: string): Promise<void>;
  listParked(): Promise<{ documentId: string; reason: string; parkedAt: string }[]>;
  unpark(documentId: string): Promise<void>;
}

/** The lease of a document was taken over by another holder: what this holder did must not be recorded. */
export class LeaseLost extends Error {
  override name = 'LeaseLost';
}

/** A conditional write found the object changed since the ETag it was conditioned on. */
export class PreconditionFailed extends Error {
  override name = 'PreconditionFailed';
}

export interface PutCondition {
  /** Write only over this ETag. */
  ifMatch?: string;
  /** Write only if there is no object yet. */
  ifNoneMatch?: '*';
}

/** Where rendered documents go (S3 in AWS and locally). */
export interface FeedStore {
  /** Writes an object; throws PreconditionFailed when the condition does not hold. Returns the new ETag. */
  /** Returns the object's ETag, and its version where the bucket keeps versions (how WebSub deliveries name bytes). */
  put(key: string, body: string, contentType: string, condition?: PutCondition, signal?: AbortSignal): Promise<{ etag: string; versionId?: string }>;
  /** The ETag of the object now stored, or undefined. */
  etag(key: string): Promise<string | undefined>;
  delete(key: string): Promise<void>;
}

/** A publisher key as stored (never the key itself: items are keyed by its hash). */
export interface StoredKey {
  name: string;
  scope: KeyScope;
  createdAt?: string;
  lastUsedAt?: string;
}

/** What checking a key needs: its record by hash, and a note of its use. */
export interface ApiKeyRepository {
  find(hash: string): Promise<StoredKey | undefined>;
  /** Records a use at `at`, unless one at `since` or later is recorded already (or the key is gone). */
  recordUse(hash: string, at: string, since: string): Promise<void>;
}
