import { randomUUID } from 'node:crypto';
import type { SiteConfig } from '../config.js';
import { KeyedQueue, sleep } from '../concurrency.js';
import { OutOfScope, PostExists, PostNotFound, PreconditionFailed, PublicError, ValidationError, WriteConflict } from '../errors.js';
import { SITE_FEED, feedId, type FeedRef } from '../feeds/feed-ref.js';
import { writeOutsideScope, type KeyScope } from '../keys/scope.js';
import { StaleWrite, TransactionBusy } from '../store/dynamo-posts.js';
import { entryCursor, scheduleCursor } from '../store/table.js';
import type { PostPage, PostRepository, WriteOptions } from '../store/ports.js';
import { buildPost } from './build-post.js';
import type { Post, PostDraft } from './post.js';

export interface ListQuery {
  category?: string;
  tag?: string;
  /** Published posts (the default), or scheduled ones. */
  status?: 'published' | 'scheduled';
  limit: number;
  cursor?: string;
}

export type Outcome = 'created' | 'updated' | 'unchanged' | 'superseded';

export interface WriteOutcome {
  /** The post as this write made it (for a superseded write, as it was before the later one replaced it). */
  post: Post;
  outcome: Outcome;
  /** What was stored before: what a write settled from this one (superseded) would have replaced. */
  previous?: Post;
}

/** Conditions of a conditional request (RFC 9110 section 13.1). */
export interface Preconditions {
  /** The ETags (or "*") the stored post must match. */
  ifMatch?: string;
  /** "*": only if no post is stored. */
  ifNoneMatch?: string;
}

/** How a write is stored (its inbox lane), and on whose behalf: a scoped key writes only inside its scope. */
export interface WriteRequest extends WriteOptions {
  scope?: KeyScope;
  /** The site URL relative links resolve against: the site's settings when the request came (default: the service's). */
  siteUrl?: string;
}

const storeOptions = ({ scope: _scope, siteUrl: _siteUrl, ...options }: WriteRequest): WriteOptions => options;

/** Refuses a write whose stored or new post lies outside the caller's scope (lib/keys/scope.ts). */
function checkScope({ scope }: WriteRequest, id: string, stored: Post | PostDraft | undefined, next: Post | PostDraft | undefined): void {
  const issue = scope && writeOutsideScope(scope, stored, next);
  if (issue) throw new OutOfScope(`${next ? 'write' : 'delete'} post '${id}'`, issue);
}

/** A post's entity tag: its version and a prefix of its content hash. */
export const postEtag = (post: Pick<Post, 'version' | 'contentHash'>) => `"${post.version}-${post.contentHash.slice(0, 16)}"`;

/** How long a write keeps retrying transaction conflicts (the same post written at the same moment). */
const RETRY_BUDGET_MS = 1_500;

function listTags(header: string): string[] {
  return header.split(',').map((tag) => tag.trim().replace(/^W\//, '')).filter(Boolean);
}

/** RFC 9110 13.1.1/13.1.2, with the strong comparison If-Match asks for. */
function check(id: string, existing: Post | undefined, { ifMatch, ifNoneMatch }: Preconditions): void {
  if (ifMatch !== undefined) {
    const tags = listTags(ifMatch);
    if (!existing) throw new PreconditionFailed(id, 'If-Match', 'no post is stored under this id');
    if (!tags.includes('*') && !tags.includes(postEtag(existing))) throw new PreconditionFailed(id, 'If-Match', `the stored post is ${postEtag(existing)}`);
  }
  if (ifNoneMatch !== undefined && existing) {
    const tags = listTags(ifNoneMatch);
    if (tags.includes('*') || tags.includes(postEtag(existing))) throw new PreconditionFailed(id, 'If-None-Match', `a post is stored: ${postEtag(existing)}`);
  }
}

const conditional = (p: Preconditions) => p.ifMatch !== undefined || p.ifNoneMatch !== undefined;

/**
 * Create, replace, delete and read posts; every write is one transaction (DynamoPostRepository.write).
 *
 * Concurrent writes of one post: the last writer wins, and every writer is answered. A write whose transaction
 * finds that another write of the post committed after its read is ordered just before that write: it happened,
 * and was replaced at once ("superseded"); nothing of it is stored, so no entry or count is left half changed.
 * Only a publisher that asked for optimistic concurrency (If-Match, If-None-Match) is told it lost, with 412.
 */
export class PostService {
  /**
   * Writes of one post from this process, one at a time; of several PUTs waiting, only the newest is written and the
   * others are settled as superseded by it (other processes' writes are settled in the store, as above).
   */
  private readonly writes = new KeyedQueue<WriteOutcome | Post | void>();

  constructor(
    private readonly repo: PostRepository,
    private readonly site: SiteConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get(id: string): Promise<Post | undefined> {
    return this.repo.get(id);
  }

  /** POST /posts: a new post; 409 if its id is taken. */
  async create(draft: PostDraft, options: WriteRequest = {}): Promise<Post> {
    const id = draft.id ?? randomUUID();
    checkScope(options, id, undefined, draft);
    return this.retrying(id, async () => {
      // No read first: the transaction stores it only where no post is (one round trip, the usual case).
      const post = this.build(id, draft, undefined, options);
      try {
        await this.repo.write(undefined, post, storeOptions(options));
      } catch (error) {
        if (error instanceof StaleWrite) throw new PostExists(id);
        throw error;
      }
      return post;
    });
  }

  /** PUT /posts/{id}: creates or replaces; the same PUT twice writes nothing the second time. */
  async put(id: string, draft: PostDraft, preconditions: Preconditions = {}, options: WriteRequest = {}): Promise<WriteOutcome> {
    this.checkId(id, draft);
    // The new post now, the stored one once read: a write refused for its new post never waits in the queue.
    checkScope(options, id, undefined, draft);
    const write = () => this.retryingNow(id, () => this.putOnce(id, draft, preconditions, options));
    // A conditional PUT is answered for itself; an unconditional one may be settled by a newer one of the same post.
    if (conditional(preconditions)) return this.writes.run(id, write);
    const superseded = (winner: WriteOutcome | Post | void): WriteOutcome => ({ post: this.build(id, draft, (winner as WriteOutcome).previous, options), outcome: 'superseded' });
    return this.writes.runReplaceable(id, write, superseded) as Promise<WriteOutcome>;
  }

  private async putOnce(id: string, draft: PostDraft, preconditions: Preconditions, options: WriteRequest): Promise<WriteOutcome> {
    const existing = await this.repo.get(id);
    check(id, existing, preconditions);
    checkScope(options, id, existing, draft);
    const post = this.build(id, draft, existing, options);
    const previous = existing ? { previous: existing } : {};
    if (post === existing) return { post, outcome: 'unchanged', ...previous };
    try {
      await this.repo.write(existing, post, storeOptions(options));
    } catch (error) {
      if (!(error instanceof StaleWrite)) throw error;
      if (conditional(preconditions)) throw new PreconditionFailed(id, preconditions.ifMatch !== undefined ? 'If-Match' : 'If-None-Match', 'another write of this post committed first');
      // Two creations: the other one is the post this one replaces. Read it, and write over it.
      if (!existing) throw new TransactionBusy('created concurrently', { cause: error });
      await this.unlessPublishedMeanwhile(existing, error);
      return { post, outcome: 'superseded', ...previous };
    }
    return { post, outcome: existing ? 'updated' : 'created', ...previous };
  }

  /**
   * Creates or replaces several posts by id, as PUT does each, writing the changed ones in as few transactions
   * as fit. A post that met a concurrent write of itself is settled as PUT settles it. Each result is the outcome,
   * or the PublicError that refused that post; others are unaffected.
   */
  async putMany(items: { id: string; draft: PostDraft }[], options: WriteRequest = {}): Promise<(WriteOutcome | PublicError)[]> {
    const stored = await this.repo.getAll(items.map((i) => i.id));
    const built = items.map(({ id, draft }) => {
      const existing = stored.get(id);
      try {
        this.checkId(id, draft);
        checkScope(options, id, existing, draft);
        return { id, draft, existing, post: this.build(id, draft, existing, options) };
      } catch (error) {
        if (error instanceof PublicError) return error;
        throw error;
      }
    });
    const changes = built.flatMap((b) => (b instanceof PublicError || b.post === b.existing ? [] : [b]));
    const { notWritten } = await this.repo.writeMany(changes.map((b) => ({ previous: b.existing, next: b.post })), storeOptions(options));
    const lost = new Map([...notWritten].map(([i, error]) => [changes[i]!, error]));
    const results: (WriteOutcome | PublicError)[] = [];
    for (const b of built) {
      if (b instanceof PublicError) {
        results.push(b);
        continue;
      }
      const error = lost.get(b);
      if (!error) results.push({ post: b.post, outcome: b.post === b.existing ? 'unchanged' : b.existing ? 'updated' : 'created' });
      else if (error instanceof StaleWrite && b.existing && b.existing.status !== 'scheduled') results.push({ post: b.post, outcome: 'superseded' });
      else results.push(await this.put(b.id, b.draft, {}, options).catch((e: unknown) => (e instanceof PublicError ? e : Promise.reject(e))));
    }
    return results;
  }

  /** DELETE /posts/{id}. A delete that meets a concurrent write of the post is ordered before it. */
  async remove(id: string, preconditions: Preconditions = {}, options: WriteRequest = {}): Promise<void> {
    await this.retrying(id, async () => {
      const existing = await this.repo.get(id);
      if (!existing) throw new PostNotFound(id);
      check(id, existing, preconditions);
      checkScope(options, id, existing, undefined);
      try {
        await this.repo.write(existing, undefined, storeOptions(options));
      } catch (error) {
        if (!(error instanceof StaleWrite)) throw error;
        if (conditional(preconditions)) throw new PreconditionFailed(id, 'If-Match', 'another write of this post committed first');
        await this.unlessPublishedMeanwhile(existing, error);
      }
    });
  }

  /**
   * Published posts newest first from one feed's index, or the schedule soonest first; `keep`, when given, leaves
   * out the posts it refuses (a scoped key's view).
   */
  async list(query: ListQuery, keep?: (post: Post) => boolean): Promise<PostPage> {
    const scheduled = query.status === 'scheduled';
    const ref: FeedRef = query.category !== undefined
      ? { kind: 'category', name: query.category }
      : query.tag !== undefined ? { kind: 'tag', name: query.tag } : SITE_FEED;
    const both = query.category !== undefined && query.tag !== undefined;
    if (!scheduled && !both && !keep) return this.repo.listFeed(feedId(ref), query.limit, query.cursor);

    // Filtered: walk the index (or the schedule) and keep the posts wanted; the cursor points just after the last
    // post returned, so a page cut in the middle of an index page loses nothing.
    const wanted = (post: Post) =>
      (query.category === undefined || post.categories.includes(query.category)) && (query.tag === undefined || post.tags.includes(query.tag)) && (!keep || keep(post));
    const pageOf = (cursor: string | undefined) => (scheduled ? this.repo.listScheduled(query.limit, cursor) : this.repo.listFeed(feedId(ref), query.limit, cursor));
    const posts: Post[] = [];
    let cursor = query.cursor;
    do {
      const page = await pageOf(cursor);
      for (const post of page.posts) {
        if (!wanted(post)) continue;
        posts.push(post);
        if (posts.length === query.limit) return { posts, cursor: scheduled ? scheduleCursor(post) : entryCursor(post) };
      }
      cursor = page.cursor;
    } while (cursor);
    return { posts };
  }

  /**
   * A write that lost to the scheduler's publication of the post it read was not replaced by a publisher's write:
   * it is tried again against the published post (TransactionBusy), so that an edit or a delete made at the
   * moment of publication is neither lost nor settled as superseded.
   */
  private async unlessPublishedMeanwhile(existing: Post, error: StaleWrite): Promise<void> {
    if (existing.status !== 'scheduled') return;
    const now = await this.repo.get(existing.id);
    if (now && now.status !== 'scheduled' && now.contentHash === existing.contentHash) throw new TransactionBusy('published meanwhile', { cause: error });
  }

  /** A draft may repeat the id it is stored under, never name another. */
  private checkId(id: string, draft: PostDraft): void {
    if (draft.id !== undefined && draft.id !== id) {
      throw ValidationError.of('id', 'matches_path', `must equal the id in the path ('${id}') or be left out`);
    }
  }

  /** The post to store for `draft`; `existing` itself when nothing the publisher controls changed. */
  private build(id: string, draft: PostDraft, existing: Post | undefined, { siteUrl = this.site.url }: WriteRequest): Post {
    return buildPost(draft, { id, now: this.now(), siteUrl, existing });
  }

  /**
   * Transaction conflicts (the same post's items in two transactions at once) are tried again after a re-read,
   * with jittered backoff, for a bounded time; the other write commits meanwhile, and the retry settles against it.
   */
  private retrying<T extends WriteOutcome | Post | void>(id: string, attempt: () => Promise<T>): Promise<T> {
    return this.writes.run(id, () => this.retryingNow(id, attempt));
  }

  private async retryingNow<T>(id: string, attempt: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + RETRY_BUDGET_MS;
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof TransactionBusy)) throw error;
        if (Date.now() > deadline) throw new WriteConflict(id, { cause: error });
        await sleep(Math.random() * Math.min(200, 5 * 2 ** i));
      }
    }
  }
}
