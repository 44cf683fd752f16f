import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  TransactionCanceledException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type ShardIteratorType } from '@aws-sdk/client-dynamodb-streams';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startMemoryDynamo } from '../../bench/lib/memory-dynamo/index.js';
import type { LocalServer } from '../../lib/local/servers.js';
import { tableDefinition } from '../../lib/store/table.js';

// The server is driven only through the SDK clients feedpub uses, as feedpub drives DynamoDB. With
// MEMORY_DYNAMO_TEST_TARGET=dynamodb-local the same tests run against the suite's DynamoDB Local instead, which
// shows that what they expect is what DynamoDB Local answers.
let server: LocalServer;
let dynamo: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let streams: DynamoDBStreamsClient;
let tables = 0;

beforeAll(async () => {
  server = process.env.MEMORY_DYNAMO_TEST_TARGET === 'dynamodb-local' ? { endpoint: inject('dynamoEndpoint'), pid: 0, stop: async () => {} } : await startMemoryDynamo();
  const config = { endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'any', secretAccessKey: 'any' } };
  dynamo = new DynamoDBClient(config);
  doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  streams = new DynamoDBStreamsClient(config);
});
afterAll(async () => {
  dynamo?.destroy();
  streams?.destroy();
  await server?.stop();
});

/** A fresh table as feedpub creates it (PK/SK, the sparse `feeds` index, a NEW_IMAGE stream). */
async function freshTable(): Promise<{ name: string; streamArn: string }> {
  const name = `t${++tables}-${Date.now()}`;
  const created = await dynamo.send(new CreateTableCommand(tableDefinition(name)));
  return { name, streamArn: created.TableDescription!.LatestStreamArn! };
}

const put = (TableName: string, Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName, Item }));
const get = async (TableName: string, PK: string, SK: string) => (await doc.send(new GetCommand({ TableName, Key: { PK, SK }, ConsistentRead: true }))).Item;

/** Whether a condition holds on an item, asked as feedpub asks: a conditional update. */
async function holds(TableName: string, key: { PK: string; SK: string }, ConditionExpression: string, values: Record<string, unknown> = {}, names?: Record<string, string>): Promise<boolean> {
  try {
    await doc.send(
      new UpdateCommand({ TableName, Key: key, UpdateExpression: 'SET checked = :checked', ConditionExpression, ExpressionAttributeValues: { ':checked': true, ...values }, ExpressionAttributeNames: names }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

async function records(streamArn: string, type: ShardIteratorType = 'TRIM_HORIZON', SequenceNumber?: string) {
  const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!.Shards![0]!;
  const iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: type, SequenceNumber }))).ShardIterator;
  return (await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))).Records ?? [];
}

describe('tables', () => {
  it('creates a table that is ACTIVE at once, with its stream, and that waitUntilTableExists accepts', async () => {
    const { name, streamArn } = await freshTable();
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 5, minDelay: 1 }, { TableName: name });
    const table = (await dynamo.send(new DescribeTableCommand({ TableName: name }))).Table!;
    expect(table.TableStatus).toBe('ACTIVE');
    expect(table.LatestStreamArn).toBe(streamArn);
    expect(table.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus])).toEqual([['feeds', 'ACTIVE']]);
    expect((await dynamo.send(new ListTablesCommand({}))).TableNames).toContain(name);
  });

  it('refuses to create a table that exists, and does not know tables that do not', async () => {
    const { name } = await freshTable();
    await expect(dynamo.send(new CreateTableCommand(tableDefinition(name)))).rejects.toBeInstanceOf(ResourceInUseException);
    await expect(dynamo.send(new DescribeTableCommand({ TableName: 'no-such-table' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(get('no-such-table', 'a', 'b')).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('conditions', () => {
  it('write once with attribute_not_exists, then fail with ConditionalCheckFailedException', async () => {
    const { name } = await freshTable();
    const create = () => doc.send(new PutCommand({ TableName: name, Item: { PK: 'HOLD', SK: 'h1', phase: 'holding' }, ConditionExpression: 'attribute_not_exists(PK)' }));
    await create();
    await expect(create()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('compare numbers as numbers, strings by their UTF-8 bytes, and never across types', async () => {
    const { name } = await freshTable();
    const key = { PK: 'FEED#x', SK: 'RENDER' };
    await put(name, { ...key, leaseUntil: 1_700_000_000_500, owner: 'a', emoji: '😀' });
    expect(await holds(name, key, 'leaseUntil < :now', { ':now': 1_700_000_000_501 })).toBe(true);
    expect(await holds(name, key, 'leaseUntil < :now', { ':now': 999 })).toBe(false);
    expect(await holds(name, key, 'leaseUntil >= :n AND leaseUntil <= :n', { ':n': 1_700_000_000_500 })).toBe(true);
    expect(await holds(name, key, 'leaseUntil > :s', { ':s': '1' })).toBe(false);
    // U+1F600 sorts after U+FFFF in UTF-8 (not in UTF-16).
    expect(await holds(name, key, 'emoji > :bmp', { ':bmp': '\uffff' })).toBe(true);
  });

  it('treat a missing attribute as unequal to anything, and as failing every other comparison', async () => {
    const { name } = await freshTable();
    const key = { PK: 'HOLD', SK: 'h' };
    await put(name, { ...key, phase: 'released' });
    expect(await holds(name, key, 'nothing <> :v', { ':v': 'x' })).toBe(true);
    expect(await holds(name, key, 'nothing = :v', { ':v': 'x' })).toBe(false);
    expect(await holds(name, key, 'nothing < :v', { ':v': 'x' })).toBe(false);
    expect(await holds(name, key, 'NOT (nothing = :v)', { ':v': 'x' })).toBe(true);
  });

  it('combine AND, OR, NOT and parentheses with AND before OR, and know IN, BETWEEN, begins_with', async () => {
    const { name } = await freshTable();
    const key = { PK: 'HOLD', SK: 'h' };
    await put(name, { ...key, phase: 'released', n: 5 });
    expect(await holds(name, key, 'phase = :a OR phase = :r AND n = :five', { ':a': 'nope', ':r': 'released', ':five': 5 })).toBe(true);
    expect(await holds(name, key, '(phase = :a OR phase = :r) AND NOT n = :five', { ':a': 'nope', ':r': 'released', ':five': 5 })).toBe(false);
    expect(await holds(name, key, 'attribute_exists(PK) AND phase <> :p', { ':p': 'published' })).toBe(true);
    expect(await holds(name, key, 'phase IN (:x, :r)', { ':x': 'holding', ':r': 'released' })).toBe(true);
    expect(await holds(name, key, 'n BETWEEN :lo AND :hi', { ':lo': 5, ':hi': 6 })).toBe(true);
    expect(await holds(name, key, 'begins_with(phase, :p)', { ':p': 'rel' })).toBe(true);
    expect(await holds(name, key, 'begins_with(phase, :p)', { ':p': 'hold' })).toBe(false);
  });

  it('refuse unused and undefined names and values, as DynamoDB does', async () => {
    const { name } = await freshTable();
    const key = { PK: 'HOLD', SK: 'h' };
    await expect(holds(name, key, 'attribute_exists(PK)', { ':unused': 1 })).rejects.toThrow(/unused in expressions: keys: \{:unused\}/);
    await expect(holds(name, key, 'attribute_exists(#n)', {})).rejects.toThrow(/attribute name used in the document path is not defined/);
    await expect(holds(name, key, 'phase = :nope', {})).rejects.toThrow(/attribute value used in expression is not defined/);
  });
});

describe('updates', () => {
  it('SET with if_not_exists, list_append and arithmetic, read from the item as it was', async () => {
    const { name } = await freshTable();
    const Key = { PK: 'HOLD', SK: 'h' };
    await put(name, { ...Key, n: 10, xs: ['a'], releasedAt: 'first' });
    const out = await doc.send(
      new UpdateCommand({
        TableName: name,
        Key,
        UpdateExpression: 'SET releasedAt = if_not_exists(releasedAt, :at), touched = if_not_exists(touched, :at), xs = list_append(xs, :more), n = n + :one, m = n - :one',
        ExpressionAttributeValues: { ':at': 'second', ':more': ['b'], ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(out.Attributes).toEqual({ ...Key, releasedAt: 'first', touched: 'second', xs: ['a', 'b'], n: 11, m: 9 });
  });

  it('REMOVE attributes, ADD to numbers and sets, DELETE from sets, and set nested map paths', async () => {
    const { name } = await freshTable();
    const Key = { PK: 'FEED#f', SK: 'RENDER' };
    await put(name, { ...Key, leaseOwner: 'me', leaseUntil: 1, count: 1, tags: new Set(['a', 'b']), more: new Set(['x']), objects: { rss: { sha: 'h1' } } });
    const out = await doc.send(
      new UpdateCommand({
        TableName: name,
        Key,
        UpdateExpression: 'SET objects.atom = :atom, objects.rss.sha = :h2 REMOVE leaseOwner, leaseUntil ADD #count :two, more :c, fresh :one DELETE tags :a',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':atom': { sha: 'h3' }, ':h2': 'h2', ':two': 2, ':c': new Set(['c']), ':one': 1, ':a': new Set(['a']) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(out.Attributes).toEqual({ ...Key, count: 3, fresh: 1, tags: new Set(['b']), more: new Set(['c', 'x']), objects: { rss: { sha: 'h2' }, atom: { sha: 'h3' } } });
  });

  it('create the item when it is missing, and answer UPDATED_OLD with the attributes it changed', async () => {
    const { name } = await freshTable();
    const Key = { PK: 'FEED#g', SK: 'RENDER' };
    const first = await doc.send(new UpdateCommand({ TableName: name, Key, UpdateExpression: 'SET a = :v, b = :v', ExpressionAttributeValues: { ':v': 1 }, ReturnValues: 'UPDATED_OLD' }));
    const second = await doc.send(new UpdateCommand({ TableName: name, Key, UpdateExpression: 'SET a = :v', ExpressionAttributeValues: { ':v': 2 }, ReturnValues: 'UPDATED_OLD' }));
    expect(first.Attributes).toBeUndefined();
    expect(second.Attributes).toEqual({ a: 1 });
    expect(await get(name, Key.PK, Key.SK)).toEqual({ ...Key, a: 2, b: 1 });
  });

  it('refuse to update a key attribute, paths that overlap, and arithmetic on what is not a number', async () => {
    const { name } = await freshTable();
    const Key = { PK: 'FEED#h', SK: 'RENDER' };
    await put(name, { ...Key, s: 'text' });
    const update = (UpdateExpression: string, values: Record<string, unknown>) => doc.send(new UpdateCommand({ TableName: name, Key, UpdateExpression, ExpressionAttributeValues: values }));
    await expect(update('SET SK = :v', { ':v': 'x' })).rejects.toThrow(/Cannot update attribute SK/);
    await expect(update('SET a = :v REMOVE a', { ':v': 1 })).rejects.toThrow(/Two document paths overlap/);
    await expect(update('SET s = s + :v', { ':v': 1 })).rejects.toThrow(/operand in the update expression has an incorrect data type/);
    await expect(update('SET n = nothere + :v', { ':v': 'one' })).rejects.toThrow(/Incorrect operand type for operator or function; operator or function: \+/);
    await expect(update('SET n = nothere + :v', { ':v': 1 })).rejects.toThrow(/refers to an attribute that does not exist/);
  });
});

describe('queries', () => {
  const feed = 'FEED#q';
  const sks = ['E#2024-01-01#a', 'E#2024-01-02#b', 'E#2024-01-03#c', 'N#0#w1', 'N#0#w2', 'N#h.x#w3', 'RENDER'];
  let name: string;
  beforeAll(async () => {
    ({ name } = await freshTable());
    for (const SK of sks) await put(name, { PK: feed, SK, postId: SK.slice(-1) });
    await put(name, { PK: 'FEED#other', SK: 'E#2024-01-01#z' });
  });
  const keysOf = async (input: Omit<QueryCommandInput, 'TableName'>) => ((await doc.send(new QueryCommand({ TableName: name, ConsistentRead: true, ...input }))).Items ?? []).map((i) => i.SK);
  const where = (condition: string, values: Record<string, unknown>, forward = true) =>
    keysOf({ KeyConditionExpression: `PK = :pk${condition ? ` AND ${condition}` : ''}`, ExpressionAttributeValues: { ':pk': feed, ...values }, ScanIndexForward: forward });

  it('read a partition in sort key order, either way', async () => {
    expect(await where('', {})).toEqual(sks);
    expect(await where('', {}, false)).toEqual([...sks].reverse());
  });

  it('know every sort key condition', async () => {
    expect(await where('begins_with(SK, :p)', { ':p': 'N#0#' })).toEqual(['N#0#w1', 'N#0#w2']);
    expect(await where('SK < :x', { ':x': 'N#0$' }, false)).toEqual(['N#0#w2', 'N#0#w1', 'E#2024-01-03#c', 'E#2024-01-02#b', 'E#2024-01-01#a']);
    expect(await where('SK <= :x', { ':x': 'E#2024-01-02#b' })).toEqual(['E#2024-01-01#a', 'E#2024-01-02#b']);
    expect(await where('SK > :x', { ':x': 'N#h.x#w3' })).toEqual(['RENDER']);
    expect(await where('SK >= :x', { ':x': 'N#h.x#w3' })).toEqual(['N#h.x#w3', 'RENDER']);
    expect(await where('SK = :x', { ':x': 'RENDER' })).toEqual(['RENDER']);
    expect(await where('SK BETWEEN :a AND :b', { ':a': 'E#2024-01-02', ':b': 'N#0#w1' })).toEqual(['E#2024-01-02#b', 'E#2024-01-03#c', 'N#0#w1']);
    expect(await where(':x < SK', { ':x': 'N#h' })).toEqual(['N#h.x#w3', 'RENDER']);
  });

  it('page with Limit and ExclusiveStartKey, every item once, forward and backward', async () => {
    for (const forward of [true, false]) {
      const seen: unknown[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await doc.send(new QueryCommand({ TableName: name, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': feed }, Limit: 2, ScanIndexForward: forward, ExclusiveStartKey: start }));
        seen.push(...(page.Items ?? []).map((i) => i.SK));
        start = page.LastEvaluatedKey;
      } while (start);
      expect(seen).toEqual(forward ? sks : [...sks].reverse());
    }
  });

  it('filter after Limit (filtered items count as scanned), count with Select COUNT, project', async () => {
    const filtered = await doc.send(new QueryCommand({ TableName: name, KeyConditionExpression: 'PK = :pk', FilterExpression: 'postId = :c', ExpressionAttributeValues: { ':pk': feed, ':c': 'c' }, Limit: 2 }));
    const counted = await doc.send(new QueryCommand({ TableName: name, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :e)', ExpressionAttributeValues: { ':pk': feed, ':e': 'E#' }, Select: 'COUNT' }));
    const projected = await doc.send(new QueryCommand({ TableName: name, KeyConditionExpression: 'PK = :pk AND SK = :r', ExpressionAttributeValues: { ':pk': feed, ':r': 'RENDER' }, ProjectionExpression: 'postId' }));
    expect([filtered.Items, filtered.Count, filtered.ScannedCount, filtered.LastEvaluatedKey?.SK]).toEqual([[], 0, 2, 'E#2024-01-02#b']);
    expect([counted.Items, counted.Count]).toEqual([undefined, 3]);
    expect(projected.Items).toEqual([{ postId: 'R' }]);
  });

  it('read the sparse index of listed feeds in order, projected, page by page', async () => {
    const { name: table } = await freshTable();
    for (const id of ['c', 'a', 'b']) await put(table, { PK: `FEED#${id}`, SK: 'RENDER', listed: 'feeds', count: 1, newest: '2024', objects: { big: 'x' } });
    await put(table, { PK: 'FEED#empty', SK: 'RENDER', count: 0 });
    const query = (ExclusiveStartKey?: Record<string, unknown>) =>
      doc.send(new QueryCommand({ TableName: table, IndexName: 'feeds', KeyConditionExpression: '#l = :f', ExpressionAttributeNames: { '#l': 'listed' }, ExpressionAttributeValues: { ':f': 'feeds' }, Limit: 2, ExclusiveStartKey }));
    const first = await query();
    const second = await query(first.LastEvaluatedKey);
    expect(first.Items).toEqual([
      { PK: 'FEED#a', SK: 'RENDER', listed: 'feeds', count: 1, newest: '2024' },
      { PK: 'FEED#b', SK: 'RENDER', listed: 'feeds', count: 1, newest: '2024' },
    ]);
    expect(first.LastEvaluatedKey).toEqual({ PK: 'FEED#b', SK: 'RENDER', listed: 'feeds' });
    expect(second.Items?.map((i) => i.PK)).toEqual(['FEED#c']);
    await expect(doc.send(new QueryCommand({ TableName: table, IndexName: 'feeds', KeyConditionExpression: 'listed = :f', ExpressionAttributeValues: { ':f': 'feeds' }, ConsistentRead: true }))).rejects.toThrow(/Consistent reads are not supported/);
  });

  it('leave an index entry behind when an item drops its index key', async () => {
    const { name: table } = await freshTable();
    await put(table, { PK: 'FEED#a', SK: 'RENDER', listed: 'feeds' });
    await doc.send(new UpdateCommand({ TableName: table, Key: { PK: 'FEED#a', SK: 'RENDER' }, UpdateExpression: 'REMOVE listed' }));
    const out = await doc.send(new QueryCommand({ TableName: table, IndexName: 'feeds', KeyConditionExpression: 'listed = :f', ExpressionAttributeValues: { ':f': 'feeds' } }));
    expect(out.Items).toEqual([]);
  });

  it('scan every item once, page by page, filtered and projected', async () => {
    const seen: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: name, FilterExpression: 'begins_with(SK, :n)', ExpressionAttributeValues: { ':n': 'N#' }, ProjectionExpression: 'PK, SK', Limit: 3, ExclusiveStartKey: start }));
      seen.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    expect(seen).toEqual(['N#0#w1', 'N#0#w2', 'N#h.x#w3'].map((SK) => ({ PK: feed, SK })));
  });
});

describe('batches', () => {
  it('write puts and deletes, and read what exists, leaving nothing unprocessed', async () => {
    const { name } = await freshTable();
    await put(name, { PK: 'HOLD#h', SK: 'old' });
    const written = await doc.send(new BatchWriteCommand({ RequestItems: { [name]: [{ PutRequest: { Item: { PK: 'HOLD#h', SK: 'f1' } } }, { PutRequest: { Item: { PK: 'HOLD#h', SK: 'f2' } } }, { DeleteRequest: { Key: { PK: 'HOLD#h', SK: 'old' } } }] } }));
    const read = await doc.send(new BatchGetCommand({ RequestItems: { [name]: { Keys: ['f1', 'f2', 'old'].map((SK) => ({ PK: 'HOLD#h', SK })), ConsistentRead: true, ProjectionExpression: 'SK' } } }));
    expect(written.UnprocessedItems).toEqual({});
    expect(read.Responses?.[name]?.map((i) => i.SK).sort()).toEqual(['f1', 'f2']);
    expect(read.UnprocessedKeys).toEqual({});
  });
});

describe('transactions', () => {
  it('write all their actions', async () => {
    const { name } = await freshTable();
    await put(name, { PK: 'FEED#f', SK: 'N#0#w0' });
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: name, Item: { PK: 'POST#p', SK: 'POST', version: 1 }, ConditionExpression: 'attribute_not_exists(PK)' } },
          { Update: { TableName: name, Key: { PK: 'FEED#f', SK: 'RENDER' }, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 1 } } },
          { Delete: { TableName: name, Key: { PK: 'FEED#f', SK: 'N#0#w0' } } },
          { ConditionCheck: { TableName: name, Key: { PK: 'POST#q', SK: 'POST' }, ConditionExpression: 'attribute_not_exists(PK)' } },
        ],
      }),
    );
    expect([await get(name, 'POST#p', 'POST'), await get(name, 'FEED#f', 'RENDER'), await get(name, 'FEED#f', 'N#0#w0')]).toEqual([{ PK: 'POST#p', SK: 'POST', version: 1 }, { PK: 'FEED#f', SK: 'RENDER', n: 1 }, undefined]);
  });

  it('cancel whole on a failed condition, with a reason per action in order, and write nothing', async () => {
    const { name } = await freshTable();
    await put(name, { PK: 'POST#p', SK: 'POST', version: 2 });
    const error = await doc
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: name, Item: { PK: 'FEED#f', SK: 'E#1#p' } } },
            { Put: { TableName: name, Item: { PK: 'POST#p', SK: 'POST', version: 3 }, ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': 1 } } },
            { Delete: { TableName: name, Key: { PK: 'FEED#f', SK: 'N#0#w' } } },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ConditionalCheckFailed', 'None']);
    expect([await get(name, 'FEED#f', 'E#1#p'), await get(name, 'POST#p', 'POST')]).toEqual([undefined, { PK: 'POST#p', SK: 'POST', version: 2 }]);
  });

  it('refuse two actions on one item', async () => {
    const { name } = await freshTable();
    const Item = { PK: 'POST#p', SK: 'POST' };
    await expect(doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: name, Item } }, { Delete: { TableName: name, Key: Item } }] }))).rejects.toThrow(/multiple operations on one item/);
  });

  it('let exactly one of many concurrent creations of an item win (requests do not interleave)', async () => {
    const { name } = await freshTable();
    const attempts = Array.from({ length: 20 }, (_, i) =>
      doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: name, Item: { PK: 'POST#race', SK: 'POST', writer: i }, ConditionExpression: 'attribute_not_exists(PK)' } },
            { Put: { TableName: name, Item: { PK: 'FEED#f', SK: `N#0#${i}` } } },
          ],
        }),
      ),
    );
    const outcomes = await Promise.allSettled(attempts);
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    expect((await get(name, 'POST#race', 'POST'))?.writer).toBe(won[0]);
    const inbox = await doc.send(new QueryCommand({ TableName: name, KeyConditionExpression: 'PK = :f', ExpressionAttributeValues: { ':f': 'FEED#f' }, ConsistentRead: true }));
    expect(inbox.Items?.map((i) => i.SK)).toEqual([`N#0#${won[0]}`]);
  });
});

describe('consumed capacity', () => {
  it('count 1 read unit per 4 KB (half when eventually consistent), 1 write unit per KB, index writes, and double in transactions', async () => {
    const { name } = await freshTable();
    const units = (out: { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }) => [out.ConsumedCapacity ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
    const TOTAL = 'TOTAL' as const;
    const big = 'x'.repeat(5000);
    expect(units(await doc.send(new PutCommand({ TableName: name, Item: { PK: 'a', SK: 'b', big }, ReturnConsumedCapacity: TOTAL })))).toBe(5);
    expect(units(await doc.send(new GetCommand({ TableName: name, Key: { PK: 'a', SK: 'b' }, ConsistentRead: true, ReturnConsumedCapacity: TOTAL })))).toBe(2);
    expect(units(await doc.send(new GetCommand({ TableName: name, Key: { PK: 'a', SK: 'b' }, ReturnConsumedCapacity: TOTAL })))).toBe(1);
    expect(units(await doc.send(new GetCommand({ TableName: name, Key: { PK: 'a', SK: 'none' }, ConsistentRead: true, ReturnConsumedCapacity: TOTAL })))).toBe(1);
    expect(units(await doc.send(new PutCommand({ TableName: name, Item: { PK: 'FEED#x', SK: 'RENDER', listed: 'feeds' }, ReturnConsumedCapacity: TOTAL })))).toBe(2);
    expect(units(await doc.send(new TransactWriteCommand({ TransactItems: [{ Put: { TableName: name, Item: { PK: 'c', SK: 'd' } } }, { Delete: { TableName: name, Key: { PK: 'FEED#x', SK: 'RENDER' } } }], ReturnConsumedCapacity: TOTAL })))).toBe(6);
  });
});

describe('streams', () => {
  it('carry one record per write: INSERT, MODIFY and REMOVE, with keys, new images and increasing sequence numbers', async () => {
    const { name, streamArn } = await freshTable();
    await put(name, { PK: 'HOLD', SK: 'h', phase: 'holding' });
    await doc.send(new UpdateCommand({ TableName: name, Key: { PK: 'HOLD', SK: 'h' }, UpdateExpression: 'SET phase = :r', ExpressionAttributeValues: { ':r': 'released' } }));
    await doc.send(new DeleteCommand({ TableName: name, Key: { PK: 'HOLD', SK: 'h' } }));
    const got = await records(streamArn);
    expect(got.map((r) => [r.eventName, r.dynamodb?.Keys, r.dynamodb?.NewImage?.phase])).toEqual([
      ['INSERT', { PK: { S: 'HOLD' }, SK: { S: 'h' } }, { S: 'holding' }],
      ['MODIFY', { PK: { S: 'HOLD' }, SK: { S: 'h' } }, { S: 'released' }],
      ['REMOVE', { PK: { S: 'HOLD' }, SK: { S: 'h' } }, undefined],
    ]);
    const sequence = got.map((r) => r.dynamodb!.SequenceNumber!);
    expect(sequence.every((s, i) => /^\d{21,}$/.test(s) && (i === 0 || s > sequence[i - 1]!))).toBe(true);
    expect(got.every((r) => r.dynamodb?.StreamViewType === 'NEW_IMAGE' && r.dynamodb.SizeBytes! > 0 && r.dynamodb.ApproximateCreationDateTime instanceof Date && r.eventID)).toBe(true);
  });

  it('carry a transaction as consecutive records in the order of its actions, and nothing for a write that changes nothing', async () => {
    const { name, streamArn } = await freshTable();
    await put(name, { PK: 'before', SK: '1' });
    await put(name, { PK: 'before', SK: '1' });
    await doc.send(new TransactWriteCommand({ TransactItems: ['a', 'b', 'c'].map((SK) => ({ Put: { TableName: name, Item: { PK: 'POST#t', SK } } })) }));
    await put(name, { PK: 'after', SK: '1' });
    const got = await records(streamArn);
    expect(got.map((r) => `${r.eventName} ${r.dynamodb?.Keys?.PK?.S} ${r.dynamodb?.Keys?.SK?.S}`)).toEqual(['INSERT before 1', 'INSERT POST#t a', 'INSERT POST#t b', 'INSERT POST#t c', 'INSERT after 1']);
  });

  it('read from TRIM_HORIZON, LATEST, AT_ and AFTER_SEQUENCE_NUMBER, and go on with NextShardIterator', async () => {
    const { name, streamArn } = await freshTable();
    for (const SK of ['1', '2', '3']) await put(name, { PK: 'p', SK });
    const all = await records(streamArn);
    const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!.Shards![0]!;
    const latest = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'LATEST' }))).ShardIterator;
    await put(name, { PK: 'p', SK: '4' });
    const first = await streams.send(new GetRecordsCommand({ ShardIterator: latest, Limit: 1 }));
    const next = await streams.send(new GetRecordsCommand({ ShardIterator: first.NextShardIterator }));
    const sk = (rs: { dynamodb?: { Keys?: Record<string, { S?: string }> } }[] | undefined) => (rs ?? []).map((r) => r.dynamodb?.Keys?.SK?.S);
    expect(shard.SequenceNumberRange?.StartingSequenceNumber).toMatch(/^\d{21,}$/);
    expect(sk(all)).toEqual(['1', '2', '3']);
    expect(sk(await records(streamArn, 'AT_SEQUENCE_NUMBER', all[1]!.dynamodb!.SequenceNumber))).toEqual(['2', '3', '4']);
    expect(sk(await records(streamArn, 'AFTER_SEQUENCE_NUMBER', all[1]!.dynamodb!.SequenceNumber))).toEqual(['3', '4']);
    expect([sk(first.Records), sk(next.Records), next.NextShardIterator]).toEqual([['4'], [], expect.any(String)]);
  });
});
