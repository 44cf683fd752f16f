import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { logger } from '../log.js';
import { feedChanges, feedId, feedsShowing } from '../feeds/feed-ref.js';
import { POST_ID_PATTERN, type Post } from '../posts/post.js';
import { ENTRY_PREFIX, holdLane, INBOX_PREFIX, keys, OPEN_LANE, SCHEDULED_PK } from './table.js';
import type { InboxItem, PostPage, PostRepository, WriteOptions } from './ports.js';
import { queryItems } from './query-items.js';

/** The stored post changed between our read and our write: another write committed in between. */
export class StaleWrite extends Error {
  override name = 'StaleWrite';
}

/** Another transaction held one of our items at the same moment (the same post, written concurrently): retry. */
export class TransactionBusy extends Error {
  override name = 'TransactionBusy';
}

/** A scheduled post's place in the schedule. */
export interface ScheduleSlot {
  postId: string;
  date: string;
  /** The write that put the slot. */
  w: string;
}

/** Counts per transaction; DynamoDB allows 100 actions. */
const MAX_TRANSACTION_ACTIONS = 100;

/** On a post and its index and inbox entries: the write that stored this version of the post. */
export const WRITE_ATTRIBUTE = 'w';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

const POST_FIELDS = ['id', 'title', 'content', 'summary', 'date', 'updated', 'categories', 'tags', 'link', 'authors', 'contentHash', 'version', 'status'] as const;

/** The post of a stored item (or a stream image, unmarshalled): only the post's own fields. */
export function toPost(item: Record<string, unknown>): Post {
  return Object.fromEntries(POST_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as unknown as Post;
}

// What entryCursor encodes: an index entry's sort key, a UTC date and a post id. Anything else is no cursor of ours
// (and a key longer than DynamoDB takes would fail the Query rather than be refused).
const UTC_DATE_KEY = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';
const CURSOR_KEY = new RegExp(`^${ENTRY_PREFIX}${UTC_DATE_KEY}#${POST_ID_PATTERN.source.slice(1)}`);
// A scheduled post's key: its date and id (keys.scheduled).
const SCHEDULED_CURSOR_KEY = new RegExp(`^${UTC_DATE_KEY}#${POST_ID_PATTERN.source.slice(1)}`);

function decodeCursor(cursor: string, pk: string): Record<string, string> {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!(pk === SCHEDULED_PK ? SCHEDULED_CURSOR_KEY : CURSOR_KEY).test(sk)) throw ValidationError.of('cursor', 'cursor', 'is not a cursor this API returned');
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
    /**
     * Awaited before each transaction of a hold's writes. Locally: waits while the feeds lane renders, since an
     * import's transactions and a publisher's render share one DynamoDB Local and two cores; in AWS, nothing.
     */
    private readonly beforeHeldTransaction?: () => Promise<void>,
  ) {
    this.cache = new PostCache(cachedPosts);
  }

  async get(id: string): Promise<Post | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.post(id), ConsistentRead: true }));
    return out.Item ? toPost(out.Item) : undefined;
  }

  async write(previous: Post | undefined, next: Post | undefined, options: WriteOptions = {}): Promise<void> {
    const lane = options.lane ?? OPEN_LANE;
    const { items, write } = this.changeItems(previous, next, lane);
    if (items.length === 0) return;
    await this.transact(items, (next ?? previous)!.id, lane);
    const feedIds = [...feedChanges(previous, next).keys()];
    options.onCommitted?.({ w: write, lane, feedIds });
    await this.markHeld(lane, feedIds);
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
    const committed = (m: { feeds: string[]; write: string }) => {
      for (const id of m.feeds) touched.add(id);
      options.onCommitted?.({ w: m.write, lane, feedIds: m.feeds });
    };
    let group: { index: number; items: TransactItems; feeds: string[]; write: string }[] = [];
    const flush = async () => {
      if (group.length === 0) return;
      const members = group;
      group = [];
      try {
        await this.transact(members.flatMap((m) => m.items), `${members.length} posts`, lane);
        for (const m of members) committed(m);
      } catch (error) {
        if (!lostRace(error)) throw error;
        if (members.length === 1) return void notWritten.set(members[0]!.index, error as Error);
        // Which post lost is not said by the group's failure: each is tried again alone.
        for (const m of members) {
          await this.transact(m.items, String(m.index), lane).then(
            () => committed(m),
            (e: unknown) => {
              if (!lostRace(e)) throw e;
              notWritten.set(m.index, e as Error);
            },
          );
        }
      }
    };
    for (const [index, { previous, next }] of changes.entries()) {
      const { items, write } = this.changeItems(previous, next, lane);
      if (items.length === 0) continue;
      if (group.reduce((n, m) => n + m.items.length, 0) + items.length > MAX_TRANSACTION_ACTIONS) await flush();
      group.push({ index, items, write, feeds: [...feedChanges(previous, next).keys()] });
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
  private changeItems(previous: Post | undefined, next: Post | undefined, lane: string): { items: TransactItems; write: string } {
    const post = next ?? previous;
    if (!post) return { items: [], write: '' };
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
      new Map((p ? feedsShowing(p) : []).map((ref) => {
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

    // A scheduled post's place in the schedule moves with its date, and leaves it when published or deleted.
    const slot = (p: Post | undefined) => (p?.status === 'scheduled' ? keys.scheduled(p.date, p.id) : undefined);
    const [was, is] = [slot(previous), slot(next)];
    if (was && was.SK !== is?.SK) items.push({ Delete: { TableName, Key: was } });
    if (is) items.push({ Put: { TableName, Item: { ...is, postId: post.id, [WRITE_ATTRIBUTE]: write } } });
    return { items, write };
  }

  private async transact(items: TransactItems, what: string, lane: string): Promise<void> {
    if (lane !== OPEN_LANE) await this.beforeHeldTransaction?.();
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
    return this.listPartition({ KeyConditionExpression: 'PK = :pk AND begins_with(SK, :entry)', ExpressionAttributeValues: { ':pk': pk, ':entry': ENTRY_PREFIX }, ScanIndexForward: false }, limit, cursor ? decodeCursor(cursor, pk) : undefined);
  }

  async listScheduled(limit: number, cursor?: string): Promise<PostPage> {
    return this.listPartition({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': SCHEDULED_PK } }, limit, cursor ? decodeCursor(cursor, SCHEDULED_PK) : undefined);
  }

  /** A page of posts named by the items of one partition (index entries, schedule slots), in their order. */
  private async listPartition(query: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ScanIndexForward'>, limit: number, start?: Record<string, string>): Promise<PostPage> {
    const page = await this.doc.send(new QueryCommand({ TableName: this.tableName, ...query, Limit: limit, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
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
    return new Map([...(await this.current(ids))].map(([id, { post }]) => [id, post]));
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

  /** The schedule up to `until` (an ISO date), earliest first: each scheduled post's id and date. */
  async scheduledUntil(until: string): Promise<ScheduleSlot[]> {
    const { items } = await queryItems(this.doc, { TableName: this.tableName, KeyConditionExpression: 'PK = :pk AND SK <= :until', ExpressionAttributeValues: { ':pk': SCHEDULED_PK, ':until': `${until}#\uffff` }, ConsistentRead: true });
    return items.map((item) => {
      const sk = String(item.SK);
      return { postId: String(item.postId), date: sk.slice(0, sk.lastIndexOf('#')), w: String(item[WRITE_ATTRIBUTE]) };
    });
  }

  /** Removes a slot whose post is no longer scheduled there (left by a write outside this repository). */
  async dropSlot(slot: ScheduleSlot): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.scheduled(slot.date, slot.postId),
        ConditionExpression: '#w = :w',
        ExpressionAttributeNames: { '#w': WRITE_ATTRIBUTE },
        ExpressionAttributeValues: { ':w': slot.w },
      }),
    ).catch((error: unknown) => {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    });
  }

  /** Remembers a post seen elsewhere (a stream image) under the write that stored it. */
  remember(post: Post, write: unknown): void {
    this.cache.set(post.id, write, post);
  }
}

/** A concurrent writer got there first: the write did not happen, and may be tried again after a re-read. */
export const lostRace = (error: unknown) => error instanceof StaleWrite || error instanceof TransactionBusy;
