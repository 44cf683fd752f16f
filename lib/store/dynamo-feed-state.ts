import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient, paginateQuery, paginateScan } from '@aws-sdk/lib-dynamodb';
import { DELTA } from '../feeds/archive.js';
import { LeaseLost, type FeedListing, type LeaseBusy, type LeaseKind, type FeedStateRepository, type InboxItem, type RenderState } from './ports.js';
import { DIRECTORY_INDEX, feedIdOfPartition, INBOX_PREFIX, keys, laneOfInboxKey } from './table.js';

/** Inbox deletes per transaction, beside the RENDER update (DynamoDB allows 100 actions). */
const DELETES_PER_TRANSACTION = 99;


export class DynamoFeedStateRepository implements FeedStateRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async acquire(documentId: string, owner: string, leaseMs: number, kind: LeaseKind = 'live'): Promise<RenderState | LeaseBusy> {
    const now = this.now().getTime();
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.feedRender(documentId),
          // The kind is kept with the lease: a live render that finds a background turn holding it asks for a turn.
          UpdateExpression: kind === 'background' ? 'SET leaseOwner = :owner, leaseUntil = :until, leaseKind = :kind' : 'SET leaseOwner = :owner, leaseUntil = :until REMOVE leaseKind',
          // Not re-entrant: each acquisition has its own token, even within one process.
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now',
          ExpressionAttributeValues: { ':owner': owner, ':until': now + leaseMs, ':now': now, ...(kind === 'background' ? { ':kind': kind } : {}) },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const item = out.Attributes ?? {};
      return {
        objects: (item.objects as RenderState['objects'] | undefined) ?? {},
        count: Number(item.count ?? 0),
        ...(item.newest ? { newest: String(item.newest) } : {}),
        ...(item.renderedAt ? { renderedAt: String(item.renderedAt) } : {}),
        pages: Number(item.pages ?? 0),
      };
    } catch (error) {
      // The item as it was (raw attribute values: the document client does not convert an error's item).
      if (error instanceof ConditionalCheckFailedException) {
        const holder = error.Item?.leaseOwner?.S;
        return { busy: error.Item?.leaseKind?.S === 'background' ? 'background' : 'live', ...(holder ? { holder } : {}) };
      }
      throw error;
    }
  }

  async askTurn(documentId: string, holder?: string): Promise<void> {
    // An item of its own, not the RENDER item: a write there would conflict with the holder's transactions.
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.turnAsked(documentId), at: this.now().getTime(), ...(holder ? { holder } : {}) } }));
  }

  async turnAsked(documentId: string, since: number, token: string): Promise<boolean> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.turnAsked(documentId), ConsistentRead: true }));
    // By name, whatever the clocks of the two processes say; or by time, since the turn started.
    return out.Item?.holder === token || Number(out.Item?.at ?? 0) >= since;
  }

  async renew(documentId: string, owner: string, leaseMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.feedRender(documentId),
          UpdateExpression: 'SET leaseUntil = :until',
          ConditionExpression: 'leaseOwner = :owner AND leaseUntil >= :now',
          ExpressionAttributeValues: { ':owner': owner, ':until': this.now().getTime() + leaseMs, ':now': this.now().getTime() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async leased(documentId: string): Promise<boolean> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: keys.feedRender(documentId), ConsistentRead: true, ProjectionExpression: 'leaseUntil' }),
    );
    return Number(out.Item?.leaseUntil ?? 0) >= this.now().getTime();
  }

  async anyPending(feedId: string, sks: string[]): Promise<boolean> {
    for (let i = 0; i < sks.length; i += 100) {
      const out = await this.doc.send(
        new BatchGetCommand({
          RequestItems: {
            [this.tableName]: { Keys: sks.slice(i, i + 100).map((SK) => ({ PK: keys.feedPartition(feedId), SK })), ConsistentRead: true, ProjectionExpression: 'SK' },
          },
        }),
      );
      // Keys the service did not get to are treated as still there: the caller waits or renders again.
      if ((out.Responses?.[this.tableName]?.length ?? 0) > 0 || Object.keys(out.UnprocessedKeys ?? {}).length > 0) return true;
    }
    return false;
  }

  async record(documentId: string, owner: string, state: RenderState, covered: InboxItem[]): Promise<void> {
    const key = keys.feedRender(documentId);
    const base = state.count - covered.reduce((n, item) => n + DELTA[item.change], 0);
    const chunks: InboxItem[][] = [];
    for (let i = 0; i < covered.length; i += DELETES_PER_TRANSACTION) chunks.push(covered.slice(i, i + DELETES_PER_TRANSACTION));
    if (chunks.length === 0) chunks.push([]);
    let count = base;
    for (const [i, chunk] of chunks.entries()) {
      count += chunk.reduce((n, item) => n + DELTA[item.change], 0);
      const last = i === chunks.length - 1;
      const update = last ? this.finalUpdate(state, count) : { UpdateExpression: 'SET #count = :count', values: { ':count': count } };
      const renderUpdate = {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: update.UpdateExpression,
        // A holder whose lease was taken over must not record over the one who took it.
        ConditionExpression: 'leaseOwner = :owner',
        ExpressionAttributeNames: { '#count': 'count', ...(last ? { '#listed': DIRECTORY_INDEX.partitionKey } : {}) },
        ExpressionAttributeValues: { ':owner': owner, ...update.values },
      };
      try {
        if (chunk.length === 0) {
          await this.doc.send(new UpdateCommand(renderUpdate));
        } else {
          await this.doc.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: renderUpdate },
                ...chunk.map((item) => ({ Delete: { TableName: this.tableName, Key: { PK: key.PK, SK: item.sk } } })),
              ],
            }),
          );
        }
      } catch (error) {
        const lost =
          error instanceof ConditionalCheckFailedException ||
          (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed');
        if (lost) throw new LeaseLost(`The lease of ${documentId} was taken over`, { cause: error });
        throw error;
      }
    }
  }

  /** What the last transaction of a record sets: the objects, the count, and the directory listing; the lease goes. */
  private finalUpdate(state: RenderState, count: number) {
    const listed = count > 0;
    return {
      UpdateExpression: [
        'SET objects = :objects, #count = :count, renderedAt = :at',
        state.newest ? ', newest = :newest' : '',
        listed ? ', #listed = :listed' : '',
        ' REMOVE leaseOwner, leaseUntil',
        state.newest ? '' : ', newest',
        listed ? '' : ', #listed',
      ].join(''),
      values: {
        ':objects': state.objects,
        ':count': count,
        ':at': this.now().toISOString(),
        ...(state.newest ? { ':newest': state.newest } : {}),
        ...(listed ? { ':listed': DIRECTORY_INDEX.partition } : {}),
      },
    };
  }

  async release(documentId: string, owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.feedRender(documentId),
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

  async listFeeds(): Promise<FeedListing[]> {
    const feeds: FeedListing[] = [];
    const query = {
      TableName: this.tableName,
      IndexName: DIRECTORY_INDEX.name,
      KeyConditionExpression: '#listed = :feeds',
      ExpressionAttributeNames: { '#listed': DIRECTORY_INDEX.partitionKey },
      ExpressionAttributeValues: { ':feeds': DIRECTORY_INDEX.partition },
    };
    for await (const page of paginateQuery({ client: this.doc }, query)) {
      for (const item of page.Items ?? []) feeds.push({ feedId: feedIdOfPartition(String(item.PK)), count: Number(item.count ?? 0), newest: String(item.newest ?? '') });
    }
    return feeds;
  }

  async listStale(): Promise<{ feedId: string; lanes: string[] }[]> {
    // An operator's sweep (re-drive), not a hot path: it reads only the keys of inbox items. The Redrive role's Scan
    // is limited in IAM to Select SPECIFIC_ATTRIBUTES over PK and SK (cdk/constructs/regeneration.ts): the filter,
    // the projection and any later change of them may name no other attribute, or AWS refuses the Scan.
    const stale = new Map<string, Set<string>>();
    const scan = { TableName: this.tableName, FilterExpression: 'begins_with(SK, :inbox)', ExpressionAttributeValues: { ':inbox': INBOX_PREFIX }, ProjectionExpression: 'PK, SK', Select: 'SPECIFIC_ATTRIBUTES' as const, ConsistentRead: true };
    for await (const page of paginateScan({ client: this.doc }, scan)) {
      for (const item of page.Items ?? []) {
        const id = feedIdOfPartition(String(item.PK));
        stale.set(id, (stale.get(id) ?? new Set()).add(laneOfInboxKey(String(item.SK))));
      }
    }
    return [...stale].map(([feedId, lanes]) => ({ feedId, lanes: [...lanes] }));
  }

  async park(documentId: string, reason: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.parked(documentId), reason, parkedAt: this.now().toISOString() } }));
  }

  async listParked(): Promise<{ documentId: string; reason: string; parkedAt: string }[]> {
    const out = await this.doc.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.parked('').PK }, ConsistentRead: true }),
    );
    return (out.Items ?? []).map((i) => ({ documentId: String(i.SK), reason: String(i.reason), parkedAt: String(i.parkedAt) }));
  }

  async unpark(documentId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.parked(documentId) }));
  }
}
