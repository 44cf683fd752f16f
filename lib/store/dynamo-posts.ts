import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.js';
import { feedId, feedsOf, isFeed, touchedFeeds } from '../feeds/feed-ref.js';
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

/** On a post and its index entries: the write that stored this version of the post. */
const WRITE_ATTRIBUTE = 'w';

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
    const post = next ?? previous;
    if (!post) return;
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

    // One revision bump per touched feed, in the same transaction: the durable record that the feed must be
    // regenerated. Its stream record triggers the regeneration; a re-drive finds it even if the trigger is lost.
    // Feed revisions also keep the feed's post count and join the directory index, which lists the feeds.
    const changedAt = this.now().toISOString();
    const feedIds = (p: Post | undefined) => new Set(p ? feedsOf(p).map(feedId) : []);
    const [was, is] = [feedIds(previous), feedIds(next)];
    for (const ref of touchedFeeds(previous, next)) {
      const id = feedId(ref);
      const listed = isFeed(ref);
      items.push({
        Update: {
          TableName,
          Key: keys.feedRev(id),
          UpdateExpression: listed ? 'ADD #rev :one, #count :delta SET changedAt = :at, #dir = :dir' : 'ADD #rev :one SET changedAt = :at',
          ExpressionAttributeNames: { '#rev': 'rev', ...(listed ? { '#count': 'count', '#dir': DIRECTORY_INDEX.partitionKey } : {}) },
          ExpressionAttributeValues: {
            ':one': 1,
            ':at': changedAt,
            ...(listed ? { ':delta': Number(is.has(id)) - Number(was.has(id)), ':dir': DIRECTORY_INDEX.partition } : {}),
          },
        },
      });
    }

    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const codes = (error.CancellationReasons ?? []).map((r) => r.Code);
        if (codes.includes('ConditionalCheckFailed')) throw new StaleWrite(`Post ${post.id} changed concurrently`, { cause: error });
        if (codes.includes('TransactionConflict')) throw new TransactionBusy(`Post ${post.id}: transaction conflict`, { cause: error });
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
    const read = await this.getMany(entries.filter(({ id }) => !cached.has(id)).map(({ id }) => id));
    const posts = entries.flatMap(({ id }) => cached.get(id) ?? read.get(id) ?? []);
    const last = page.LastEvaluatedKey?.SK as string | undefined;
    return { posts, ...(last ? { cursor: Buffer.from(last, 'utf8').toString('base64url') } : {}) };
  }

  /** Posts by id (a post deleted since its entry was read is absent), remembered in the cache. */
  private async getMany(ids: string[]): Promise<Map<string, Post>> {
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
