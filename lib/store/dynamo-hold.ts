import { DeleteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { keys } from './table.js';

export interface HoldState {
  /** Epoch ms until which regeneration is held; 0 once released. */
  until: number;
  /** Feeds whose regeneration was deferred while held. */
  pending: string[];
}

/**
 * The regeneration hold an import takes so that a 20,000-post import renders each feed once at the end, not
 * once per batch. Writes keep bumping feed revisions (nothing is lost); the regenerator only defers rendering.
 * The item's SK is REV so that its stream records reach the regenerator like feed revisions do.
 */
export class DynamoHoldRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<HoldState> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.hold, ConsistentRead: true }));
    return { until: Number(out.Item?.until ?? 0), pending: [...((out.Item?.pending as Set<string> | undefined) ?? [])] };
  }

  /** Takes or extends the hold for `ms` from now. */
  async hold(ms: number): Promise<number> {
    const until = this.now() + ms;
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: keys.hold, UpdateExpression: 'SET #until = :until', ExpressionAttributeNames: { '#until': 'until' }, ExpressionAttributeValues: { ':until': until } }));
    return until;
  }

  /** Ends the hold; its stream record makes the regenerator render the pending feeds. */
  async release(): Promise<void> {
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: keys.hold, UpdateExpression: 'SET #until = :zero', ExpressionAttributeNames: { '#until': 'until' }, ExpressionAttributeValues: { ':zero': 0 } }));
  }

  async defer(feedIds: string[]): Promise<void> {
    if (feedIds.length === 0) return;
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: keys.hold, UpdateExpression: 'ADD pending :feeds', ExpressionAttributeValues: { ':feeds': new Set(feedIds) } }));
  }

  /** Forgets pending feeds once rendered; feeds deferred meanwhile stay. */
  async done(feedIds: string[]): Promise<void> {
    if (feedIds.length === 0) return;
    await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: keys.hold, UpdateExpression: 'DELETE pending :feeds', ExpressionAttributeValues: { ':feeds': new Set(feedIds) } }));
  }

  async clear(): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.hold }));
  }
}
