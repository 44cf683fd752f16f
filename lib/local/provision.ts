import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../store/clients.js';
import { keys, SCHEMA_VERSION, tableDefinition } from '../store/table.js';

/**
 * Creates the table if it does not exist and returns its stream ARN. A table of another layout (a data directory
 * kept from an older feedpub) is refused with what to do, rather than misread.
 */
export async function ensureTable(dynamo: DynamoDBClient, tableName: string): Promise<string> {
  let created = true;
  try {
    await dynamo.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    created = false;
  }
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  const doc = createDocumentClient(dynamo);
  if (created) {
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.schema, version: SCHEMA_VERSION } }));
  } else {
    const schema = await doc.send(new GetCommand({ TableName: tableName, Key: keys.schema, ConsistentRead: true }));
    const version = Number(schema.Item?.version ?? 1);
    if (version !== SCHEMA_VERSION) {
      throw new Error(`Table ${tableName} holds data of feedpub's layout ${version}; this feedpub reads layout ${SCHEMA_VERSION}. Delete the local data directory (.feedpub, or FEEDPUB_DATA_DIR) and import again.`);
    }
  }
  const table = await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
  const arn = table.Table?.LatestStreamArn;
  if (!arn) throw new Error(`Table ${tableName} has no stream`);
  return arn;
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
