import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ApiKeyRepository } from './ports.js';
import { keys } from './table.js';

export class DynamoApiKeyRepository implements ApiKeyRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async exists(hash: string): Promise<boolean> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(hash), ProjectionExpression: 'PK' }));
    return out.Item !== undefined;
  }

  async put(hash: string, name: string): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...keys.apiKey(hash), name, createdAt: new Date().toISOString() } }));
  }
}
