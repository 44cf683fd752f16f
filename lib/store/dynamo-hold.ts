import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HOLD_PK, keys } from './table.js';
import { queryItems } from './query-items.js';

/**
 * holding: the hold's writes wait in their own inbox lane; released: its release renders every feed it deferred;
 * published: done.
 */
export type HoldPhase = 'holding' | 'released' | 'published';

export interface Hold {
  id: string;
  phase: HoldPhase;
  /** Epoch ms until which the hold lasts unless renewed; past it, the hold counts as released. */
  until: number;
  createdAt: string;
  /** Last time its release was started or resumed. */
  touchedAt?: string;
  publishedAt?: string;
}

/** Whether the hold still defers its writes' renders (an expired hold is as good as released). */
export const isHolding = (hold: Hold | undefined, now = Date.now()) => hold?.phase === 'holding' && hold.until > now;

function toHold(item: Record<string, unknown>): Hold {
  return {
    id: String(item.SK),
    phase: item.phase as HoldPhase,
    until: Number(item.until),
    createdAt: String(item.createdAt),
    ...(item.touched ? { touchedAt: String(item.touched) } : {}),
    ...(item.publishedAt ? { publishedAt: String(item.publishedAt) } : {}),
  };
}

/**
 * Regeneration holds: an import takes one so that its thousands of writes render each feed once, at the release,
 * instead of once per batch. Only the writes sent under the hold wait (in their own inbox lane); anybody else's
 * post is published at once, import or not. A feed the hold deferred is marked (HOLD#<id>, <feedId>); the release
 * renders the marked feeds and removes the marks. Nothing depends on a shared set of pending feeds: the inbox
 * items themselves say what is not rendered yet, and are deleted only by a render that covered them.
 */
export class DynamoHoldRepository {
  /**
   * Marks this process has written, so that an import's thousands of writes mark each feed once per process. A
   * cached mark cannot be stale while it matters: marks are only removed by the release, after which a held write
   * is rendered at once rather than marked.
   */
  private readonly marks = new Set<string>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(ms: number): Promise<Hold> {
    const hold: Hold = { id: randomBytes(9).toString('base64url'), phase: 'holding', until: this.now() + ms, createdAt: new Date(this.now()).toISOString() };
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.hold(hold.id), phase: hold.phase, until: hold.until, createdAt: hold.createdAt }, ConditionExpression: 'attribute_not_exists(PK)' }),
    );
    return hold;
  }

  async get(id: string): Promise<Hold | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.hold(id), ConsistentRead: true }));
    return out.Item ? toHold(out.Item) : undefined;
  }

  /** Every hold, whatever its phase (the tick looks for abandoned ones). */
  async list(): Promise<Hold[]> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': HOLD_PK }, ConsistentRead: true }),
    );
    return (out.Items ?? []).map(toHold);
  }

  /** Extends a hold that is still holding; undefined when it is not (released, expired, unknown). */
  async renew(id: string, ms: number): Promise<Hold | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.hold(id),
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: 'phase = :holding AND #until > :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':until': this.now() + ms, ':holding': 'holding', ':now': this.now() },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toHold(out.Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Releases a hold (its stream record starts the release's renders). Releasing a released hold again does
   * nothing but touch it, which starts its renders again if a release was interrupted. False for an unknown hold.
   */
  async release(id: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.hold(id),
          UpdateExpression: 'SET phase = :released, releasedAt = if_not_exists(releasedAt, :at), touched = :at',
          ConditionExpression: 'attribute_exists(PK) AND phase <> :published',
          ExpressionAttributeValues: { ':released': 'released', ':at': new Date(this.now()).toISOString(), ':published': 'published' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return (await this.get(id)) !== undefined;
      throw error;
    }
  }

  /** Marks a feed the hold deferred (idempotent). */
  async mark(id: string, feedId: string): Promise<void> {
    await this.markAll(id, [feedId]);
  }

  /** Marks feeds the hold deferred, in batches of 25, skipping those this process marked already. */
  async markAll(id: string, feedIds: string[]): Promise<void> {
    const fresh = feedIds.filter((feedId) => !this.marks.has(`${id}\n${feedId}`));
    for (let i = 0; i < fresh.length; i += 25) {
      let request: Record<string, { PutRequest: { Item: Record<string, string> } }[]> | undefined = {
        [this.tableName]: fresh.slice(i, i + 25).map((feedId) => ({ PutRequest: { Item: keys.holdMarker(id, feedId) } })),
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        request = (await this.doc.send(new BatchWriteCommand({ RequestItems: request }))).UnprocessedItems as typeof request;
      }
    }
    for (const feedId of fresh) this.marks.add(`${id}\n${feedId}`);
  }

  /** Feeds the hold deferred and no release has rendered yet. */
  async marked(id: string, limit?: number): Promise<string[]> {
    const { items } = await queryItems(this.doc, { TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.holdMarker(id, '').PK }, ConsistentRead: true }, limit || Infinity);
    return items.map((item) => String(item.SK));
  }

  async unmark(id: string, feedId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.holdMarker(id, feedId) }));
  }

  /** Touches a released hold so that its stream record starts the rest of its release in a fresh invocation. */
  async touch(id: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: keys.hold(id), UpdateExpression: 'SET touched = :at', ConditionExpression: 'phase = :released', ExpressionAttributeValues: { ':at': new Date(this.now()).toISOString(), ':released': 'released' } }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  /** Every feed it deferred is rendered: the hold is done; it is deleted after a while by `forget`. */
  async published(id: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: keys.hold(id), UpdateExpression: 'SET phase = :published, publishedAt = :at', ConditionExpression: 'attribute_exists(PK)', ExpressionAttributeValues: { ':published': 'published', ':at': new Date(this.now()).toISOString() } }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  /** Deletes a published hold and any mark left on it (a record that arrived for a feed the release had done). */
  async forget(id: string): Promise<void> {
    for (const feedId of await this.marked(id)) await this.unmark(id, feedId);
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.hold(id) }));
  }
}
