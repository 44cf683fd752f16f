import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../store/clients.js';
import { moveSubscriptions } from '../hub/move-subscriptions.js';
import { keys, SCHEMA_VERSION, tableDefinition } from '../store/table.js';

/**
 * Creates the table if it does not exist and returns its stream ARN. A table of layout 3 is moved to layout 4 (its
 * subscriptions, lib/hub/move-subscriptions.ts); one of another layout (a data directory kept from an older
 * feedpub) is refused with what to do, rather than misread. On every start but the first the
 * table is there: one DescribeTable and one GetItem, as each call to a JVM that has just started is slow.
 */
export async function ensureTable(dynamo: DynamoDBClient, tableName: string): Promise<string> {
  const doc = createDocumentClient(dynamo);
  let table = await describeTable(dynamo, tableName);
  let created = false;
  if (!table) {
    try {
      await dynamo.send(new CreateTableCommand(tableDefinition(tableName)));
      created = true;
    } catch (error) {
      // Created meanwhile by another process: checked below as a table that was there.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  if (table?.TableStatus !== 'ACTIVE') {
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
    table = await describeTable(dynamo, tableName);
  }
  if (created) {
    await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.schema, version: SCHEMA_VERSION } }));
  } else {
    const schema = await doc.send(new GetCommand({ TableName: tableName, Key: keys.schema, ConsistentRead: true }));
    let version = Number(schema.Item?.version ?? 1);
    if (version === 3) {
      // Layout 4 keeps a feed's subscriptions in one partition; nothing else changed.
      await moveSubscriptions(doc, tableName);
      await doc.send(new PutCommand({ TableName: tableName, Item: { ...keys.schema, version: (version = 4) } }));
    }
    if (version !== SCHEMA_VERSION) {
      throw new Error(`Table ${tableName} holds data of feedpub's layout ${version}; this feedpub reads layout ${SCHEMA_VERSION}. Delete the local data directory (.feedpub, or FEEDPUB_DATA_DIR) and import again.`);
    }
  }
  const arn = table?.LatestStreamArn;
  if (!arn) throw new Error(`Table ${tableName} has no stream`);
  return arn;
}

async function describeTable(dynamo: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await dynamo.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}
