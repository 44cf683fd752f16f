import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRepository, StoredKey } from './ports.js';
import { keys } from './table.js';

/** A key item as the API side reads it; keys made before scopes have none (they are unscoped). */
export function storedKey(item: Record<string, unknown>): StoredKey {
  const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  return {
    name: typeof item.name === 'string' ? item.name : '',
    scope: { categories: strings(item.categories), tags: strings(item.tags) },
    ...(typeof item.createdAt === 'string' ? { createdAt: item.createdAt } : {}),
    ...(typeof item.lastUsedAt === 'string' ? { lastUsedAt: item.lastUsedAt } : {}),
  };
}

/**
 * The key checks of the authorizer (and of the local stack): one consistent read by hash, and the note of a use.
 * In AWS this runs in the Authorize function, whose role may read key items and update `lastUsedAt` only.
 */
export class DynamoApiKeyRepository implements ApiKeyRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async find(hash: string): Promise<StoredKey | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(hash), ConsistentRead: true }));
    return out.Item ? storedKey(out.Item) : undefined;
  }

  async recordUse(hash: string, at: string, since: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.apiKey(hash),
          UpdateExpression: 'SET lastUsedAt = :at',
          // Never re-creates a revoked key's item; at most one write per key per interval, whoever races.
          ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :since)',
          ExpressionAttributeValues: { ':at': at, ':since': since },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
