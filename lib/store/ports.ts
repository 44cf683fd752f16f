import type { Post } from '../posts/post.js';

export interface PostPage {
  posts: Post[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  cursor?: string;
}

export interface PostRepository {
  get(id: string): Promise<Post | undefined>;
  /**
   * Stores `next` in place of `previous` (absent: a new post; `next` absent: a delete), with every index
   * entry and every touched feed's revision, in one transaction. Throws StaleWrite when the stored post
   * is no longer `previous`.
   */
  write(previous: Post | undefined, next: Post | undefined): Promise<void>;
  /** Several writes, each all or nothing, in as few transactions as fit; returns those a concurrent writer stopped. */
  writeMany(changes: { previous: Post | undefined; next: Post | undefined }[]): Promise<{ notWritten: number[] }>;
  /** Stored posts by id, read consistently; absent ids are left out. */
  getAll(ids: string[]): Promise<Map<string, Post>>;
  /** Newest first, from a feed's index: never a scan. */
  listFeed(feedId: string, limit: number, cursor?: string): Promise<PostPage>;
}

export interface FeedRevision {
  rev: number;
  changedAt: string;
}

export interface RenderState {
  renderedRev: number;
  /** SHA-256 of each object last written, by S3 key. */
  hashes: Record<string, string>;
}

export interface FeedListing {
  feedId: string;
  rev: number;
  count: number;
  changedAt: string;
}

export interface FeedStateRepository {
  revision(feedId: string): Promise<FeedRevision | undefined>;
  /** Takes the feed's regeneration lease; undefined while another holder has it. */
  acquire(feedId: string, owner: string, leaseMs: number): Promise<RenderState | undefined>;
  /** Records a finished render and releases the lease, in one write. */
  recordRender(feedId: string, owner: string, state: RenderState & { itemCount: number }): Promise<void>;
  release(feedId: string, owner: string): Promise<void>;
  /** Forgets what is in S3 and bumps the revision: the next render rewrites every object. */
  invalidate(feedId: string): Promise<void>;
  /** The last finished render: its revision, and when (absent before the first). */
  lastRender(feedId: string): Promise<{ rev: number; at?: Date }>;
  /** Every feed with its post count and last change (the directory index; eventually consistent). */
  listFeeds(): Promise<FeedListing[]>;
  /** Feeds whose revision is ahead of what was rendered: what a re-drive must regenerate. */
  listStale(): Promise<string[]>;
  park(feedId: string, rev: number, reason: string): Promise<void>;
  listParked(): Promise<{ feedId: string; rev: number; reason: string; parkedAt: string }[]>;
  unpark(feedId: string): Promise<void>;
}

/** Where rendered feeds go (S3 in AWS and locally). */
export interface FeedStore {
  put(key: string, body: string, contentType: string): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface ApiKeyRepository {
  exists(hash: string): Promise<boolean>;
  put(hash: string, name: string): Promise<void>;
}
