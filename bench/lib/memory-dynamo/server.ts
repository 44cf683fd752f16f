import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { Database } from './database.js';
import { DynamoError, validation } from './errors.js';
import { itemOperations } from './items.js';
import { query, scan } from './query.js';
import { streamOperations } from './streams.js';
import { tableOperations } from './table-operations.js';
import { transactWriteItems } from './transactions.js';

type Operation = (input: never, db: Database, raw: string) => unknown;

const prefixed = (prefix: string, ops: Record<string, Operation>) => Object.fromEntries(Object.entries(ops).map(([name, op]) => [`${prefix}.${name}`, op]));

/**
 * The operations by X-Amz-Target: DynamoDB's and DynamoDB Streams' JSON 1.0 protocols on one endpoint, as
 * DynamoDB Local serves them.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.LowLevelAPI.html
 */
const OPERATIONS: Record<string, Operation> = {
  ...prefixed('DynamoDB_20120810', { ...tableOperations, ...itemOperations, Query: query, Scan: scan, TransactWriteItems: transactWriteItems }),
  ...prefixed('DynamoDBStreams_20120810', streamOperations),
};

/** The parameters that came before expressions; feedpub uses none, and this server says so rather than ignore them. */
const LEGACY = ['Expected', 'AttributeUpdates', 'ConditionalOperator', 'AttributesToGet', 'KeyConditions', 'QueryFilter', 'ScanFilter'];

/**
 * Runs one request to its end: every operation is synchronous, so requests are applied one at a time, each
 * whole (a transaction's writes are never interleaved with another request's, and no read sees half of one).
 */
export function handle(db: Database, target: string, raw: string): { status: number; body: unknown } {
  try {
    const operation = OPERATIONS[target];
    if (!operation) throw new DynamoError('UnknownOperationException', `Unknown operation ${target}`);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(raw || '{}') as Record<string, unknown>;
    } catch {
      throw new DynamoError('SerializationException', 'The request body is not JSON');
    }
    const legacy = LEGACY.find((p) => input[p] !== undefined);
    if (legacy) throw validation(`memory-dynamo does not implement the legacy parameter ${legacy}; use expressions`);
    return { status: 200, body: operation(input as never, db, raw) };
  } catch (error) {
    if (error instanceof DynamoError) return { status: error.status, body: error.body() };
    process.stderr.write(`memory-dynamo: ${target} failed: ${(error as Error).stack}\n`);
    return { status: 500, body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', Message: (error as Error).message } };
  }
}

/** The HTTP server. Any signature is accepted: nothing here is secret. */
export function createMemoryDynamoServer(db = new Database()): Server {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { status, body } = handle(db, String(req.headers['x-amz-target'] ?? ''), Buffer.concat(chunks).toString('utf8'));
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
      res.end(text);
    });
  });
  // Longer than the SDK's idle sockets live, so that the server never closes a connection a client is reusing.
  server.keepAliveTimeout = 65_000;
  return server;
}
