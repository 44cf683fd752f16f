import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { logger } from '../log.js';
import { feedChanges, feedId, feedsOf, type FeedChange } from '../feeds/feed-ref.js';
import { POST_ID_PATTERN, type Post } from '../posts/post.js';
import { ENTRY_PREFIX, holdLane, INBOX_PREFIX, keys, OPEN_LANE } from './table.js';
import type { InboxItem, PostPage, PostRepository, WriteOptions } from './ports.js';

/** The stored post changed between our read and our write: another write committed in between. */
export class StaleWrite extends Error {
  override name = 'StaleWrite';
}

/** Another transaction held one of our items at the same moment (the same post, written concurrently): retry. */
export class TransactionBusy extends Error {
  override name = 'TransactionBusy';
}

/** Counts per transaction; DynamoDB allows 100 actions. */
const MAX_TRANSACTION_ACTIONS = 100;

/** On a post and its index and inbox entries: the write that stored this version of the post. */
export const WRITE_ATTRIBUTE = 'w';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

const POST_FIELDS = ['id', 'title', 'content', 'summary', 'date', 'updated', 'categories', 'tags', 'link', 'authors', 'contentHash', 'version'] as const;

/** The post of a stored item (or a stream image, unmarshalled): only the post's own fields. */
export function toPost(item: Record<string, unknown>): Post {
  return Object.fromEntries(POST_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as unknown as Post;
}

// What entryCursor encodes: an index entry's sort key, a UTC date and a post id. Anything else is no cursor of ours
// (and a key longer than DynamoDB takes would fail the Query rather than be refused).
const CURSOR_KEY = new RegExp(`^${ENTRY_PREFIX}\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#${POST_ID_PATTERN.source.slice(1)}`);

function decodeCursor(cursor: string, pk: string): Record<string, string> {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!CURSOR_KEY.test(sk)) throw ValidationError.of('cursor', 'cursor', 'is not a cursor this API returned');
  return { PK: pk, SK: sk };
}

/**
 * Posts read for feeds, by id, each with the write that stored it: an index entry names that write, so a cached
 * post is used only while it is still the stored one. Renders of a busy feed then read only the posts that
 * changed since its last render, not its newest N again (least recently used out first).
 */
class PostCache {
  private readonly posts = new Map<string, { write: string; post: Post }>();

  constructor(private readonly capacity: number) {}

  get(id: string, write: unknown): Post | undefined {
    const hit = this.posts.get(id);
    if (!hit || typeof write !== 'string' || hit.write !== write) return undefined;
    this.posts.delete(id);
    this.posts.set(id, hit);
    return hit.post;
  }

  set(id: string, write: unknown, post: Post): void {
    if (typeof write !== 'string' || this.capacity === 0) return;
    this.posts.delete(id);
    this.posts.set(id, { write, post });
    if (this.posts.size > this.capacity) this.posts.delete(this.posts.keys().next().value!);
  }
}

export class DynamoPostRepository implements PostRepository {
  private readonly cache: PostCache;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    cachedPosts = 5_000,
    /** Where a hold's writes mark the feeds they touched (the API's repository; renders never write under a hold). */
    private readonly marks?: { markAll(holdId: string, feedIds: string[]): Promise<void> },
  ) {
    this.cache = new PostCache(cachedPosts);
  }

  async get(id: string): Promise<Post | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.post(id), ConsistentRead: true }));
    return out.Item ? toPost(out.Item) : undefined;
  }

  async write(previous: Post | undefined, next: Post | undefined, options: WriteOptions = {}): Promise<void> {
    const lane = options.lane ?? OPEN_LANE;
    const items = this.changeItems(previous, next, lane);
    if (items.length === 0) return;
    await this.transact(items, (next ?? previous)!.id);
    await this.markHeld(lane, [...feedChanges(previous, next).keys()]);
  }

  /**
   * Several writes, each post all or nothing, in as few transactions as fit (100 actions each). Returns the
   * indexes of the changes a concurrent writer stopped, each with why (StaleWrite or TransactionBusy); the
   * others are stored. A lost race fails only its own transaction's posts.
   */
  async writeMany(changes: { previous: Post | undefined; next: Post | undefined }[], options: WriteOptions = {}): Promise<{ notWritten: Map<number, Error> }> {
    const lane = options.lane ?? OPEN_LANE;
    const notWritten = new Map<number, Error>();
    const touched = new Set<string>();
    let group: { index: number; items: TransactItems; feeds: string[] }[] = [];
    const flush = async () => {
      if (group.length === 0) return;
      const members = group;
      group = [];
      try {
        await this.transact(members.flatMap((m) => m.items), `${members.length} posts`);
        for (const m of members) for (const id of m.feeds) touched.add(id);
      } catch (error) {
        if (!lostRace(error)) throw error;
        if (members.length === 1) return void notWritten.set(members[0]!.index, error as Error);
        // Which post lost is not said by the group's failure: each is tried again alone.
        for (const m of members) {
          await this.transact(m.items, String(m.index)).then(
            () => m.feeds.forEach((id) => touched.add(id)),
            (e: unknown) => {
              if (!lostRace(e)) throw e;
              notWritten.set(m.index, e as Error);
            },
          );
        }
      }
    };
    for (const [index, { previous, next }] of changes.entries()) {
      const items = this.changeItems(previous, next, lane);
      if (items.length === 0) continue;
      if (group.reduce((n, m) => n + m.items.length, 0) + items.length > MAX_TRANSACTION_ACTIONS) await flush();
      group.push({ index, items, feeds: [...feedChanges(previous, next).keys()] });
    }
    await flush();
    await this.markHeld(lane, [...touched]);
    return { notWritten };
  }

  /**
   * A hold's writes mark the feeds they touched, once committed, so that the hold's release knows every feed it
   * must render as soon as the importer releases it. The feeds lane marks them too, when their records arrive: a
   * write whose marks were not written (the request died, the marks failed) is still rendered by its release.
   */
  private async markHeld(lane: string, feedIds: string[]): Promise<void> {
    if (lane === OPEN_LANE || feedIds.length === 0 || !this.marks) return;
    // The posts are stored: a mark that fails is written by the feeds lane instead, so the request still succeeds.
    await this.marks.markAll(lane.slice(holdLane('').length), feedIds).catch((error: unknown) => logger.warn('could not mark held feeds; the feeds lane will', { error: error as Error }));
  }

  /**
   * A write's actions: the post (conditioned on the version it replaces), its index entries, and one inbox item
   * per feed it touches. The inbox items are the durable record that those feeds must be regenerated: their
   * stream records trigger it, and a re-drive finds any the trigger missed. Each write puts its own items, so
   * concurrent writes of different posts never share an item.
   */
  private changeItems(previous: Post | undefined, next: Post | undefined, lane: string): TransactItems {
    const post = next ?? previous;
    if (!post) return [];
    const TableName = this.tableName;
    const items: TransactItems = [];
    // Names this write; the post's index entries carry it, which is how a feed render knows its cached copy is current.
    const write = randomUUID();
    const expected = previous
      ? { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': previous.version } }
      : { ConditionExpression: 'attribute_not_exists(PK)' };

    if (next) items.push({ Put: { TableName, Item: { ...keys.post(next.id), ...next, [WRITE_ATTRIBUTE]: write }, ...expected } });
    else items.push({ Delete: { TableName, Key: keys.post(post.id), ...expected } });

    // Index entries: delete those the post leaves, put the others (new or not, they name this write).
    const entryKeys = (p: Post | undefined) =>
      new Map((p ? feedsOf(p) : []).map((ref) => {
        const key = keys.entry(feedId(ref), p!.date, p!.id);
        return [`${key.PK}\n${key.SK}`, key] as const;
      }));
    const before = entryKeys(previous);
    const after = entryKeys(next);
    for (const [k, key] of before) if (!after.has(k)) items.push({ Delete: { TableName, Key: key } });
    for (const [, key] of after) items.push({ Put: { TableName, Item: { ...key, postId: post.id, [WRITE_ATTRIBUTE]: write } } });

    for (const [id, { change }] of feedChanges(previous, next)) {
      items.push({ Put: { TableName, Item: { ...keys.inbox(id, lane, write), postId: post.id, [WRITE_ATTRIBUTE]: write, change } } });
    }
    return items;
  }

  private async transact(items: TransactItems, what: string): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
        if (codes.includes('ConditionalCheckFailed')) throw new StaleWrite(`Post ${what} changed concurrently`, { cause: error });
        if (codes.includes('TransactionConflict')) throw new TransactionBusy(`Post ${what}: transaction conflict`, { cause: error });
      }
      if ((error as Error).name === 'TransactionConflictException') throw new TransactionBusy('transaction conflict', { cause: error });
      throw error;
    }
  }

  async listFeed(id: string, limit: number, cursor?: string): Promise<PostPage> {
    const pk = keys.feedPartition(id);
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :entry)',
        ExpressionAttributeValues: { ':pk': pk, ':entry': ENTRY_PREFIX },
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: true,
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor, pk) } : {}),
      }),
    );
    const posts = await this.postsOf((page.Items ?? []).map((item) => ({ id: String(item.postId), write: item[WRITE_ATTRIBUTE] })));
    const last = page.LastEvaluatedKey?.SK as string | undefined;
    return { posts, ...(last ? { cursor: Buffer.from(last, 'utf8').toString('base64url') } : {}) };
  }

  /** The posts of index entries, in their order: from the cache while the entry names the cached write, else read. */
  private async postsOf(entries: { id: string; write: unknown }[]): Promise<Post[]> {
    const cached = new Map(entries.flatMap(({ id, write }) => {
      const post = this.cache.get(id, write);
      return post ? [[id, post] as const] : [];
    }));
    const read = await this.getAll(entries.filter(({ id }) => !cached.has(id)).map(({ id }) => id));
    return entries.flatMap(({ id }) => cached.get(id) ?? read.get(id) ?? []);
  }

  /** Stored posts by id, read consistently (absent ids are left out), and remembered in the cache. */
  async getAll(ids: string[]): Promise<Map<string, Post>> {
    const found = new Map<string, Post>();
    for (let i = 0; i < ids.length; i += 100) {
      let request: Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean }> | undefined = {
        [this.tableName]: { Keys: ids.slice(i, i + 100).map((id) => keys.post(id)), ConsistentRead: true },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const post = toPost(item);
          found.set(post.id, post);
          this.cache.set(post.id, item[WRITE_ATTRIBUTE], post);
        }
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  /** Stored posts by id with the write that stored each, read consistently (a render's inbox posts as they are now). */
  async current(ids: string[]): Promise<Map<string, { post: Post; w: string }>> {
    const found = new Map<string, { post: Post; w: string }>();
    for (let i = 0; i < ids.length; i += 100) {
      let request: Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean }> | undefined = {
        [this.tableName]: { Keys: ids.slice(i, i + 100).map((id) => keys.post(id)), ConsistentRead: true },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const post = toPost(item);
          found.set(post.id, { post, w: String(item[WRITE_ATTRIBUTE]) });
          this.cache.set(post.id, item[WRITE_ATTRIBUTE], post);
        }
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  /**
   * The posts of a document's members, in their order: each from the cache while it holds the version the member
   * names, else read (then the stored version, which a later render's inbox accounts for if it is newer).
   */
  async versions(members: { id: string; w: string }[]): Promise<Post[]> {
    return this.postsOf(members.map(({ id, w }) => ({ id, write: w })));
  }

  /** Remembers a post seen elsewhere (a stream image) under the write that stored it. */
  remember(post: Post, write: unknown): void {
    this.cache.set(post.id, write, post);
  }
}

/** A concurrent writer got there first: the write did not happen, and may be tried again after a re-read. */
export const lostRace = (error: unknown) => error instanceof StaleWrite || error instanceof TransactionBusy;
