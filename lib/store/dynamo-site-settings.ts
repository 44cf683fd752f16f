import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { canonical, type SiteSettings, type StoredSettings } from '../site/settings.js';
import { keys } from './table.js';

/** The site's settings item (META / SITE), and the inbox items that tell feeds of a change. */
export class DynamoSiteSettings {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The stored settings, read consistently; undefined while none were stored. */
  async get(): Promise<StoredSettings | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.siteSettings, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { settings, version, changedAt, announced } = out.Item;
    return { settings: canonical(settings as SiteSettings), version: Number(version), changedAt: String(changedAt), ...(announced !== undefined ? { announced: Number(announced) } : {}) };
  }

  /**
   * Stores `settings` in place of `previous` (undefined: none stored yet) as the next version. Returns what was
   * stored, or undefined when another change was stored first (the caller reads again).
   */
  async replace(previous: StoredSettings | undefined, settings: SiteSettings, now: Date): Promise<StoredSettings | undefined> {
    const next: StoredSettings = { settings: canonical(settings), version: (previous?.version ?? 0) + 1, changedAt: now.toISOString() };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.siteSettings, ...next },
          ...(previous
            ? { ConditionExpression: '#version = :version', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':version': previous.version } }
            : { ConditionExpression: 'attribute_not_exists(PK)' }),
        }),
      );
      return next;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /**
   * Puts the change to `version` in a feed's inbox (the open lane): its stream record has the feed rendered with
   * the settings. Named by the version, so telling a feed twice leaves one item.
   */
  async tell(feedId: string, version: number): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.settingsInbox(feedId, version), change: 'settings', version } }));
  }

  /** Records that every feed was told of `version` (unless a newer change was stored meanwhile: it tells its own). */
  async told(version: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.siteSettings,
          UpdateExpression: 'SET announced = :version',
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': version },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
