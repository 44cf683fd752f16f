import { randomUUID } from 'node:crypto';
import type { SiteConfig } from '../config.js';
import { sleep } from '../concurrency.js';
import { PostExists, PostNotFound, PublicError, ValidationError, WriteConflict } from '../errors.js';
import { SITE_FEED, feedId, type FeedRef } from '../feeds/feed-ref.js';
import { lostRace } from '../store/dynamo-posts.js';
import { entryCursor } from '../store/table.js';
import type { PostPage, PostRepository } from '../store/ports.js';
import { buildPost } from './build-post.js';
import type { Post, PostDraft } from './post.js';

export interface ListQuery {
  category?: string;
  tag?: string;
  limit: number;
  cursor?: string;
}

export interface WriteOutcome {
  post: Post;
  created: boolean;
  /** False when the write was an idempotent repeat: nothing stored, no feed touched. */
  changed: boolean;
}

const MAX_ATTEMPTS = 10;

/** Create, replace, delete and read posts; every write is one transaction (see DynamoPostRepository.write). */
export class PostService {
  constructor(
    private readonly repo: PostRepository,
    private readonly site: SiteConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get(id: string): Promise<Post | undefined> {
    return this.repo.get(id);
  }

  async create(draft: PostDraft): Promise<Post> {
    const id = draft.id ?? randomUUID();
    return this.retrying(id, async () => {
      if (await this.repo.get(id)) throw new PostExists(id);
      const post = this.build(id, draft, undefined);
      await this.repo.write(undefined, post);
      return post;
    });
  }

  async put(id: string, draft: PostDraft): Promise<WriteOutcome> {
    this.checkId(id, draft);
    return this.retrying(id, async () => {
      const existing = await this.repo.get(id);
      const post = this.build(id, draft, existing);
      if (post === existing) return { post, created: false, changed: false };
      await this.repo.write(existing, post);
      return { post, created: !existing, changed: true };
    });
  }

  /**
   * Creates or replaces several posts by id, as PUT does each, writing the changed ones in as few transactions
   * as fit (DynamoPostRepository.writeMany). A post that lost a race with another writer is retried alone.
   * Each result is the outcome, or the PublicError that refused that post; others are unaffected.
   */
  async putMany(items: { id: string; draft: PostDraft }[]): Promise<(WriteOutcome | PublicError)[]> {
    const stored = await this.repo.getAll(items.map((i) => i.id));
    const built = items.map(({ id, draft }) => {
      const existing = stored.get(id);
      try {
        this.checkId(id, draft);
        return { id, draft, existing, post: this.build(id, draft, existing) };
      } catch (error) {
        if (error instanceof PublicError) return error;
        throw error;
      }
    });
    const changes = built.flatMap((b) => (b instanceof PublicError || b.post === b.existing ? [] : [b]));
    const { notWritten } = await this.repo.writeMany(changes.map((b) => ({ previous: b.existing, next: b.post })));
    const retry = new Set(notWritten.map((i) => changes[i]));
    const results: (WriteOutcome | PublicError)[] = [];
    for (const b of built) {
      if (b instanceof PublicError) results.push(b);
      else if (retry.has(b)) results.push(await this.put(b.id, b.draft).catch((error: unknown) => (error instanceof PublicError ? error : Promise.reject(error))));
      else results.push({ post: b.post, created: !b.existing, changed: b.post !== b.existing });
    }
    return results;
  }

  async remove(id: string): Promise<void> {
    await this.retrying(id, async () => {
      const existing = await this.repo.get(id);
      if (!existing) throw new PostNotFound(id);
      await this.repo.write(existing, undefined);
    });
  }

  async list(query: ListQuery): Promise<PostPage> {
    const ref: FeedRef = query.category !== undefined
      ? { kind: 'category', name: query.category }
      : query.tag !== undefined ? { kind: 'tag', name: query.tag } : SITE_FEED;
    if (query.category === undefined || query.tag === undefined) return this.repo.listFeed(feedId(ref), query.limit, query.cursor);

    // Both filters: walk the category's index and keep the posts with the tag; the cursor points just
    // after the last post returned, so a page cut in the middle of an index page loses nothing.
    const posts: Post[] = [];
    let cursor = query.cursor;
    do {
      const page = await this.repo.listFeed(feedId(ref), query.limit, cursor);
      for (const post of page.posts) {
        if (!post.tags.includes(query.tag!)) continue;
        posts.push(post);
        if (posts.length === query.limit) return { posts, cursor: entryCursor(post) };
      }
      cursor = page.cursor;
    } while (cursor);
    return { posts };
  }

  /** A draft may repeat the id it is stored under, never name another. */
  private checkId(id: string, draft: PostDraft): void {
    if (draft.id !== undefined && draft.id !== id) {
      throw ValidationError.of('id', 'matches_path', `must equal the id in the path ('${id}') or be left out`);
    }
  }

  /** The post to store for `draft`; `existing` itself when nothing the publisher controls changed. */
  private build(id: string, draft: PostDraft, existing: Post | undefined): Post {
    return buildPost(draft, { id, now: this.now(), siteUrl: this.site.url, existing });
  }

  /** Optimistic concurrency: a write that lost a race re-reads and tries again, with jittered backoff. */
  private async retrying<T>(id: string, attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        if (!lostRace(error)) throw error;
        if (i >= MAX_ATTEMPTS) throw new WriteConflict(id, { cause: error });
        await sleep(Math.random() * Math.min(500, 10 * 2 ** i));
      }
    }
  }
}
