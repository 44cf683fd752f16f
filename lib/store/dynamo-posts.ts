import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { feedId, feedsOf, isFeed, parseFeedId, touchedFeeds } from '../feeds/feed-ref.js';
import type { Post } from '../posts/post.js';
import { DIRECTORY_INDEX, ENTRY_PREFIX, keys } from './table.js';
import type { PostPage, PostRepository } from './ports.js';

/** The stored post changed between our read and our write: re-read and try again. */
export class StaleWrite extends Error {
  override name = 'StaleWrite';
}

/** Another transaction held one of our items (a hot feed revision): retry after a pause. */
export class TransactionBusy extends Error {
  override name = 'TransactionBusy';
}

/** Counts per transaction; DynamoDB allows 100 actions. */
const MAX_TRANSACTION_ACTIONS = 100;

/** The feeds a write touches: whether each is listed in the directory, and how its post count changes. */
type FeedChanges = Map<string, { listed: boolean; delta: number }>;

function mergeFeedChanges(all: FeedChanges[]): FeedChanges {
  const merged: FeedChanges = new Map();
  for (const changes of all) for (const [id, c] of changes) merged.set(id, { listed: c.listed, delta: (merged.get(id)?.delta ?? 0) + c.delta });
  return merged;
}

function partition(changes: FeedChanges, test: (id: string) => boolean): [FeedChanges, FeedChanges] {
  const entries = [...changes];
  return [new Map(entries.filter(([id]) => test(id))), new Map(entries.filter(([id]) => !test(id)))];
}

/** On a post and its index entries: the write that stored this version of the post. */
const WRITE_ATTRIBUTE = 'w';

/** A concurrent writer got there first: the write did not happen, and may be tried again after a re-read. */
export const lostRace = (error: unknown) => error instanceof StaleWrite || error instanceof TransactionBusy;

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

const POST_FIELDS = ['id', 'title', 'content', 'summary', 'date', 'updated', 'categories', 'tags', 'link', 'authors', 'contentHash', 'version'] as const;

function toPost(item: Record<string, unknown>): Post {
  return Object.fromEntries(POST_FIELDS.filter((f) => item[f] !== undefined).map((f) => [f, item[f]])) as unknown as Post;
}

function decodeCursor(cursor: string, pk: string): Record<string, string> {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!sk.startsWith(ENTRY_PREFIX)) throw ValidationError.of('cursor', 'cursor', 'is not a cursor this API returned');
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
    private readonly now: () => Date = () => new Date(),
    cachedPosts = 5_000,
  ) {
    this.cache = new PostCache(cachedPosts);
  }

  async get(id: string): Promise<Post | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.post(id), ConsistentRead: true }));
    return out.Item ? toPost(out.Item) : undefined;
  }

  async write(previous: Post | undefined, next: Post | undefined): Promise<void> {
    const change = this.changeItems(previous, next);
    if (!change) return;
    await this.transact([...change.items, ...this.revisionItems(change.feeds)], change.id);
  }

  /**
   * Several writes, each post all or nothing. What fits one transaction is one transaction, as `write` is.
   * A larger batch is written group by group, each group with its posts' pages bumped, while the shared feeds
   * (site, categories, tags, directory) are bumped once, after the last group: their feeds then render once
   * for the whole batch, not once per group. An intent item, updated in each group's own transaction, records
   * the bumps that committed groups owe; the final bump deletes it, and if the request dies before that,
   * `completeAbandonedBatches` (the minute tick, a re-drive) applies them. Returns the indexes of the changes
   * a concurrent writer stopped (StaleWrite or TransactionBusy): the caller retries those one by one.
   */
  async writeMany(changes: { previous: Post | undefined; next: Post | undefined }[]): Promise<{ notWritten: number[] }> {
    type Member = { index: number; items: TransactItems; pages: FeedChanges; shared: FeedChanges };
    const members: Member[] = changes.flatMap(({ previous, next }, index) => {
      const change = this.changeItems(previous, next);
      if (!change) return [];
      const [pages, shared] = partition(change.feeds, (id) => parseFeedId(id).kind === 'post');
      return [{ index, items: change.items, pages, shared }];
    });
    if (members.length === 0) return { notWritten: [] };
    const all = mergeFeedChanges(members.map((m) => new Map([...m.pages, ...m.shared])));
    if (members.reduce((n, m) => n + m.items.length, 0) + all.size <= MAX_TRANSACTION_ACTIONS) {
      try {
        await this.transact([...members.flatMap((m) => m.items), ...this.revisionItems(all)], `${members.length} posts`);
        return { notWritten: [] };
      } catch (error) {
        if (!lostRace(error)) throw error;
        return { notWritten: members.map((m) => m.index) };
      }
    }

    const intent = keys.batchIntent(randomUUID());
    const notWritten: number[] = [];
    const owed: FeedChanges[] = [];
    let group: Member[] = [];
    const flush = async () => {
      if (group.length === 0) return;
      const shared = mergeFeedChanges(group.map((m) => m.shared));
      const record: TransactItems[number] = {
        Update: {
          TableName: this.tableName,
          Key: intent,
          UpdateExpression: 'SET createdAt = if_not_exists(createdAt, :now), #owed = list_append(if_not_exists(#owed, :none), :these)',
          ExpressionAttributeNames: { '#owed': 'owed' },
          ExpressionAttributeValues: { ':now': this.now().toISOString(), ':none': [], ':these': [Object.fromEntries(shared)] },
        },
      };
      try {
        await this.transact([...group.flatMap((m) => m.items), ...this.revisionItems(mergeFeedChanges(group.map((m) => m.pages))), record], `${group.length} posts`);
        owed.push(shared);
      } catch (error) {
        if (!lostRace(error)) throw error;
        notWritten.push(...group.map((m) => m.index));
      }
      group = [];
    };
    // Each group holds its posts, their pages' bumps and the intent's update.
    const actions = (g: Member[]) => g.reduce((n, m) => n + m.items.length + m.pages.size, 0) + 1;
    for (const member of members) {
      if (actions([...group, member]) > MAX_TRANSACTION_ACTIONS) await flush();
      group.push(member);
    }
    await flush();
    await this.bumpOwed(intent, mergeFeedChanges(owed));
    return { notWritten };
  }

  /**
   * Applies the bumps of batches whose request ended before their final bump (a crash, a timeout), once they
   * are `olderThanMs` old (a live batch finishes in seconds). Bumping a feed twice is harmless; the intent is
   * deleted with the last bump, so its counts are added once.
   */
  async completeAbandonedBatches(olderThanMs = 60_000): Promise<number> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.batchIntent('').PK }, ConsistentRead: true }),
    );
    const cutoff = this.now().getTime() - olderThanMs;
    const abandoned = (out.Items ?? []).filter((item) => Date.parse(String(item.createdAt)) <= cutoff);
    for (const item of abandoned) {
      const owed = ((item.owed as Record<string, { listed: boolean; delta: number }>[] | undefined) ?? []).map((changes) => new Map(Object.entries(changes)));
      await this.bumpOwed({ PK: String(item.PK), SK: String(item.SK) }, mergeFeedChanges(owed));
    }
    return abandoned.length;
  }

  /**
   * The shared feeds' bumps, 99 to a transaction. Each transaction also rewrites the intent to what is still
   * owed (the last one deletes it), conditioned on the intent still being there: a bump is applied once, even
   * if the request dies half way or two sweeps race.
   */
  private async bumpOwed(intent: { PK: string; SK: string }, owed: FeedChanges): Promise<void> {
    const entries = [...owed];
    const exists = { ConditionExpression: 'attribute_exists(PK)' };
    for (let i = 0; ; i += MAX_TRANSACTION_ACTIONS - 1) {
      const rest = entries.slice(i + MAX_TRANSACTION_ACTIONS - 1);
      const tail: TransactItems[number] = rest.length === 0
        ? { Delete: { TableName: this.tableName, Key: intent, ...exists } }
        : { Update: { TableName: this.tableName, Key: intent, UpdateExpression: 'SET #owed = :rest', ExpressionAttributeNames: { '#owed': 'owed' }, ExpressionAttributeValues: { ':rest': [Object.fromEntries(rest)] }, ...exists } };
      try {
        await this.transact([...this.revisionItems(new Map(entries.slice(i, i + MAX_TRANSACTION_ACTIONS - 1))), tail], 'batch bumps');
      } catch (error) {
        // No group committed (nothing owed), or another sweep completed this intent first.
        if (error instanceof StaleWrite) return;
        throw error;
      }
      if (rest.length === 0) return;
    }
  }

  /** The post's own actions (the post, its index entries) and the feeds it touches, with their count changes. */
  private changeItems(previous: Post | undefined, next: Post | undefined): { id: string; items: TransactItems; feeds: FeedChanges } | undefined {
    const post = next ?? previous;
    if (!post) return undefined;
    const TableName = this.tableName;
    const items: TransactItems = [];
    // Names this write; the post's index entries carry it, which is how a feed render knows its cached copy is current.
    const write = randomUUID();

    if (next) {
      items.push({
        Put: {
          TableName,
          Item: { ...keys.post(next.id), ...next, [WRITE_ATTRIBUTE]: write },
          ...(previous
            ? { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': previous.version } }
            : { ConditionExpression: 'attribute_not_exists(PK)' }),
        },
      });
    } else if (previous) {
      items.push({
        Delete: {
          TableName,
          Key: keys.post(previous.id),
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': previous.version },
        },
      });
    }

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

    const feedIds = (p: Post | undefined) => new Set(p ? feedsOf(p).map(feedId) : []);
    const [was, is] = [feedIds(previous), feedIds(next)];
    const feeds: FeedChanges = new Map(
      touchedFeeds(previous, next).map((ref) => [feedId(ref), { listed: isFeed(ref), delta: Number(is.has(feedId(ref))) - Number(was.has(feedId(ref))) }]),
    );
    return { id: post.id, items, feeds };
  }

  /**
   * One revision bump per touched feed, in the same transaction as the write: the durable record that the feed
   * must be regenerated. Its stream record triggers the regeneration; a re-drive finds it even if the trigger is
   * lost. Feed revisions also keep the feed's post count and join the directory index, which lists the feeds.
   */
  private revisionItems(feeds: FeedChanges): TransactItems {
    const changedAt = this.now().toISOString();
    return [...feeds].map(([id, { listed, delta }]) => ({
      Update: {
        TableName: this.tableName,
        Key: keys.feedRev(id),
        UpdateExpression: listed ? 'ADD #rev :one, #count :delta SET changedAt = :at, #dir = :dir' : 'ADD #rev :one SET changedAt = :at',
        ExpressionAttributeNames: { '#rev': 'rev', ...(listed ? { '#count': 'count', '#dir': DIRECTORY_INDEX.partitionKey } : {}) },
        ExpressionAttributeValues: { ':one': 1, ':at': changedAt, ...(listed ? { ':delta': delta, ':dir': DIRECTORY_INDEX.partition } : {}) },
      },
    }));
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
    const entries = (page.Items ?? []).map((item) => ({ id: String(item.postId), write: item[WRITE_ATTRIBUTE] }));
    const cached = new Map(entries.flatMap(({ id, write }) => {
      const post = this.cache.get(id, write);
      return post ? [[id, post] as const] : [];
    }));
    const read = await this.getAll(entries.filter(({ id }) => !cached.has(id)).map(({ id }) => id));
    const posts = entries.flatMap(({ id }) => cached.get(id) ?? read.get(id) ?? []);
    const last = page.LastEvaluatedKey?.SK as string | undefined;
    return { posts, ...(last ? { cursor: Buffer.from(last, 'utf8').toString('base64url') } : {}) };
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
}
