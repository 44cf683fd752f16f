/**
 * What one request costs DynamoDB Local and memory-dynamo: GetItem, Query and TransactWriteItems shaped as feedpub
 * sends them (a post read, a feed's read of its inbox and newest entries, a post's write with its index entries
 * and inbox items), one at a time, through the SDK. For each: the latency the client sees, and the CPU the
 * server process spent per request (from /proc, all its threads: JIT and GC included).
 *
 *   npx tsx bench/dynamo-latency.ts [requests per kind, default 1000]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_AWS_ENV, startDynamoLocal, type LocalServer } from '../lib/local/servers.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { keys, tableDefinition } from '../lib/store/table.js';
import { startMemoryDynamo } from './lib/memory-dynamo/index.js';
import { printTable, summarize } from './lib/stack.js';

const REQUESTS = Number(process.argv[2] ?? 1000);
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const TICKS_PER_SECOND = 100;

/** CPU time (ms) a process has used, all its threads. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The Java process startDynamoLocal spawned: this process's child running DynamoDBLocal.jar. */
function dynamoLocalPid(): number {
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1]!.split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('DynamoDBLocal.jar')) return Number(entry);
    } catch {
      // A process that ended meanwhile.
    }
  }
  throw new Error('DynamoDB Local process not found');
}

const content = '<p>' + '新闻内容 news text '.repeat(120) + '</p>';
const post = (id: string) => ({ id, title: `Post ${id}`, content, summary: 'summary', date: '2024-05-01T00:00:00.000Z', updated: '2024-05-01T00:00:00.000Z', categories: ['markets'], tags: ['stocks'], authors: [], contentHash: 'h', version: 1 });

async function measure(name: string, server: LocalServer, pid: number) {
  const dynamo = new DynamoDBClient({ endpoint: server.endpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const doc = createDocumentClient(dynamo);
  const TableName = 'latency';
  await dynamo.send(new CreateTableCommand(tableDefinition(TableName)));
  for (let i = 0; i < 200; i++) {
    await doc.send(new PutCommand({ TableName, Item: { ...keys.post(`p${i}`), ...post(`p${i}`), w: 'x' } }));
    await doc.send(new PutCommand({ TableName, Item: { ...keys.entry('category:markets', `2024-05-01T00:${String(i % 60).padStart(2, '0')}`, `p${i}`), postId: `p${i}`, w: 'x' } }));
  }
  let written = 0;
  let read = 0;
  const kinds = {
    GetItem: () => doc.send(new GetCommand({ TableName, Key: keys.post(`p${read++ % 200}`), ConsistentRead: true })),
    Query: () =>
      doc.send(
        new QueryCommand({ TableName, KeyConditionExpression: 'PK = :pk AND SK < :upper', ExpressionAttributeValues: { ':pk': keys.feedPartition('category:markets'), ':upper': 'N#0$' }, ScanIndexForward: false, Limit: 21, ConsistentRead: true }),
      ),
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
    const started = performance.now();
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now();
      await send();
      samples.push(performance.now() - t);
    }
    const wall = performance.now() - started;
    const cpu = cpuMs(pid) - cpuBefore;
    const s = summarize(samples);
    rows.push({ server: name, request: kind, n: s.n, 'latency p50 ms': s.p50, 'latency p95 ms': s.p95, 'latency mean ms': s.mean, 'server CPU ms/request': Math.round((cpu / REQUESTS) * 100) / 100, 'server CPU share': `${Math.round((cpu / wall) * 100)}%` });
  }
  dynamo.destroy();
  return rows;
}

const memory = await startMemoryDynamo();
const memoryRows = await measure('memory-dynamo', memory, memory.pid).finally(() => memory.stop());
const local = await startDynamoLocal();
const localRows = await measure('DynamoDB Local', local, dynamoLocalPid()).finally(() => local.stop());
printTable(`One request at a time, ${REQUESTS} of each after ${REQUESTS / 2} to warm up (load average before: ${loadBefore})`, [...localRows, ...memoryRows]);
