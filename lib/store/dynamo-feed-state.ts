import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedListing, FeedRevision, FeedStateRepository, RenderState } from './ports.js';
import { DIRECTORY_INDEX, feedIdOfPartition, keys, REV_SK } from './table.js';

export class DynamoFeedStateRepository implements FeedStateRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async revision(feedId: string): Promise<FeedRevision | undefined> {
    // Strongly consistent GetItem is serializable with the write transactions: once it shows revision R,
    // every write that produced R has committed, so a Query issued afterwards sees its index entries.
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.feedRev(feedId), ConsistentRead: true }));
    return out.Item ? { rev: Number(out.Item.rev), changedAt: String(out.Item.changedAt) } : undefined;
  }

  async acquire(feedId: string, owner: string, leaseMs: number): Promise<RenderState | undefined> {
    const now = this.now().getTime();
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.feedRender(feedId),
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          // Not re-entrant: each acquisition has its own token, even within one process.
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':owner': owner, ':until': now + leaseMs, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = out.Attributes ?? {};
      return { renderedRev: Number(item.renderedRev ?? 0), hashes: (item.hashes as RenderState['hashes']) ?? {} };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async recordRender(feedId: string, owner: string, state: RenderState & { itemCount: number }): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.feedRender(feedId),
        UpdateExpression: 'SET renderedRev = :rev, hashes = :hashes, itemCount = :count, renderedAt = :at REMOVE leaseOwner, leaseUntil',
        // A holder whose lease expired must not record over the one who took it.
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeValues: {
          ':rev': state.renderedRev,
          ':hashes': state.hashes,
          ':count': state.itemCount,
          ':at': this.now().toISOString(),
          ':owner': owner,
        },
      }),
    );
  }

  async release(feedId: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.feedRender(feedId),
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      // The lease expired and someone else holds it now: nothing of ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async invalidate(feedId: string): Promise<void> {
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: keys.feedRender(feedId), UpdateExpression: 'REMOVE hashes' }));
    await this.doc.send(
      new UpdateCommand({ TableName: this.tableName, Key: keys.feedRev(feedId), UpdateExpression: 'ADD #rev :one', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':one': 1 } }),
    );
  }

  async lastRender(feedId: string): Promise<{ rev: number; at?: Date }> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.feedRender(feedId), ConsistentRead: true }));
    return { rev: Number(out.Item?.renderedRev ?? 0), ...(out.Item?.renderedAt ? { at: new Date(String(out.Item.renderedAt)) } : {}) };
  }

  async listFeeds(): Promise<FeedListing[]> {
    const feeds: FeedListing[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DIRECTORY_INDEX.name,
          KeyConditionExpression: '#dir = :feeds',
          ExpressionAttributeNames: { '#dir': DIRECTORY_INDEX.partitionKey },
          ExpressionAttributeValues: { ':feeds': DIRECTORY_INDEX.partition },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        feeds.push({ feedId: feedIdOfPartition(String(item.PK)), rev: Number(item.rev), count: Number(item.count ?? 0), changedAt: String(item.changedAt) });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return feeds;
  }

  async listStale(): Promise<string[]> {
    // An operator's sweep (re-drive), not a hot path: it reads only the small REV and RENDER items.
    const revs = new Map<string, number>();
    const rendered = new Map<string, number>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'SK IN (:rev, :render)',
          ExpressionAttributeValues: { ':rev': REV_SK, ':render': 'RENDER' },
          ProjectionExpression: 'PK, SK, rev, renderedRev',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const id = feedIdOfPartition(String(item.PK));
        if (item.SK === REV_SK) revs.set(id, Number(item.rev));
        else rendered.set(id, Number(item.renderedRev ?? 0));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return [...revs].filter(([id, rev]) => rev > (rendered.get(id) ?? 0)).map(([id]) => id);
  }

  async park(feedId: string, rev: number, reason: string): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { ...keys.parked(feedId), rev, reason, parkedAt: this.now().toISOString() } }),
    );
  }

  async listParked(): Promise<{ feedId: string; rev: number; reason: string; parkedAt: string }[]> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'PARKED' }, ConsistentRead: true }),
    );
    return (out.Items ?? []).map((i) => ({ feedId: String(i.SK), rev: Number(i.rev), reason: String(i.reason), parkedAt: String(i.parkedAt) }));
  }

  async unpark(feedId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.parked(feedId) }));
  }
}
