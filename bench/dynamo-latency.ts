/**
 * What one request costs DynamoDB Local and memory-dynamo: GetItem, Query and TransactWriteItems shaped as feedpub
 * sends them (a post read, a feed's read of its inbox and newest entries, a post's write with its index entries
 * and inbox items), and a poll of the stream that finds nothing new (GetRecords, what a local lane sends while it
 * waits for writes), one at a time, through the SDK. For each: the latency the client sees, the CPU the server
 * process spent per request (from /proc, all its threads: JIT and GC included), and the client's (this process).
 *
 *   npm run bench:dynamo-latency [-- requests per kind, default 1000]      (writes bench/results/dynamo-latency.json)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS_ENV, startDynamoLocal, type LocalServer } from '../lib/local/servers.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { keys, tableDefinition } from '../lib/store/table.js';
import { startMemoryDynamo } from './lib/memory-dynamo/index.js';
import { processCpuMs as cpuMs } from './lib/profile.js';
import { printTable, summarize } from './lib/stack.js';

const REQUESTS = Number(process.argv[2] ?? 1000);
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const content = '<p>' + '新闻内容 news text '.repeat(120) + '</p>';
const post = (id: string) => ({ id, title: `Post ${id}`, content, summary: 'summary', date: '2024-05-01T00:00:00.000Z', updated: '2024-05-01T00:00:00.000Z', categories: ['markets'], tags: ['stocks'], authors: [], contentHash: 'h', version: 1 });

async function measure(name: string, server: LocalServer, pid: number) {
  const clientConfig = { endpoint: server.endpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const dynamo = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const doc = createDocumentClient(dynamo);
  const TableName = 'latency';
  await dynamo.send(new CreateTableCommand(tableDefinition(TableName)));
  for (let i = 0; i < 200; i++) {
    await doc.send(new PutCommand({ TableName, Item: { ...keys.post(`p${i}`), ...post(`p${i}`), w: 'x' } }));
    await doc.send(new PutCommand({ TableName, Item: { ...keys.entry('category:markets', `2024-05-01T00:${String(i % 60).padStart(2, '0')}`, `p${i}`), postId: `p${i}`, w: 'x' } }));
  }
  let written = 0;
  let read = 0;
  // The stream's newest shard, read from its end: every poll finds nothing (nothing is written while they run).
  let iterator: string | undefined;
  const streamArn = (await dynamo.send(new DescribeTableCommand({ TableName }))).Table!.LatestStreamArn!;
  const shardId = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!.Shards!.at(-1)!.ShardId!;
  const kinds = {
    GetItem: () => doc.send(new GetCommand({ TableName, Key: keys.post(`p${read++ % 200}`), ConsistentRead: true })),
    Query: () =>
      doc.send(
        new QueryCommand({ TableName, KeyConditionExpression: 'PK = :pk AND SK < :upper', ExpressionAttributeValues: { ':pk': keys.feedPartition('category:markets'), ':upper': 'N#0$' }, ScanIndexForward: false, Limit: 21, ConsistentRead: true }),
      ),
    'GetRecords (empty)': async () => {
      iterator ??= (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'LATEST' }))).ShardIterator!;
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      if (out.Records?.length) throw new Error('the stream was to be read from its end: nothing new');
      iterator = out.NextShardIterator;
    },
    TransactWriteItems: () => {
      const id = `new-${written++}`;
      const w = `w${written}`;
      return doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { ...keys.post(id), ...post(id), w }, ConditionExpression: 'attribute_not_exists(PK)' } },
            ...['category:markets', 'tag:stocks'].flatMap((feed) => [
              { Put: { TableName, Item: { ...keys.entry(feed, '2024-05-01T00:00:00.000Z', id), postId: id, w } } },
              { Put: { TableName, Item: { ...keys.inbox(feed, '0', w), postId: id, w, change: 'join' } } },
            ]),
          ],
        }),
      );
    },
  };
  const rows = [];
  for (const [kind, send] of Object.entries(kinds)) {
    // Warm up first: DynamoDB Local's JIT compiles its hot paths in the first thousand requests or so.
    for (let i = 0; i < REQUESTS / 2; i++) await send();
    const samples: number[] = [];
    const cpuBefore = cpuMs(pid);
    const clientBefore = process.cpuUsage();
    const started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      await send();
      samples.push(performance.now() - t);
    }
    const wall = performance.now() - started;
    const cpu = cpuMs(pid) - cpuBefore;
    const client = process.cpuUsage(clientBefore);
    const s = summarize(samples);
    rows.push({ server: name, request: kind, n: s.n, 'latency p50 ms': s.p50, 'latency p95 ms': s.p95, 'latency mean ms': s.mean, 'server CPU ms/request': Math.round((cpu / REQUESTS) * 100) / 100, 'server CPU share': `${Math.round((cpu / wall) * 100)}%`, 'client CPU ms/request': Math.round(((client.user + client.system) / 1000 / REQUESTS) * 100) / 100 });
  }
  dynamo.destroy();
  streams.destroy();
  return rows;
}

const memory = await startMemoryDynamo();
const memoryRows = await measure('memory-dynamo', memory, memory.pid).finally(() => memory.stop());
const local = await startDynamoLocal();
const localRows = await measure('DynamoDB Local', local, local.pid).finally(() => local.stop());
printTable(`One request at a time, ${REQUESTS} of each after ${REQUESTS / 2} to warm up (load average before: ${loadBefore})`, [...localRows, ...memoryRows]);
writeFileSync(join(import.meta.dirname, 'results', 'dynamo-latency.json'), `${JSON.stringify({ benchmark: 'dynamo-latency', command: `npm run bench:dynamo-latency${process.argv[2] ? ` -- ${process.argv[2]}` : ''}`, date: new Date().toISOString(), node: process.version, requests: REQUESTS, loadBefore, rows: [...localRows, ...memoryRows] }, null, 2)}\n`);
