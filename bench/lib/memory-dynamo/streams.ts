import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoError, validation } from './errors.js';
import type { Database } from './database.js';
import { itemSize, type Item } from './values.js';

export type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

export const REGION = 'us-east-1';
export const ACCOUNT = '000000000000';
const MAX_RECORDS_BYTES = 1024 * 1024;
/** Sequence numbers: increasing, 21 digits, as DynamoDB Local writes them (DynamoDB's are longer still). */
const sequenceNumber = (n: number) => String(n).padStart(21, '0');

/**
 * A table's stream: one shard that stays open, its records in commit order, one per item write that changed
 * something (a transaction's records one after the other, as it commits whole). Records are kept for the life
 * of the server (DynamoDB keeps them 24 hours; no benchmark runs that long).
 * https://docs.aws.amazon.com/amazondynamodbstreams/latest/APIReference/API_Record.html
 */
export class Stream {
  readonly label = new Date().toISOString().replace('Z', '');
  readonly arn: string;
  readonly shardId = `shardId-${String(Date.now()).padStart(20, '0')}-${randomBytes(4).toString('hex')}`;
  readonly records: Record<string, unknown>[] = [];
  readonly createdAt = Date.now() / 1000;

  constructor(
    readonly tableName: string,
    readonly viewType: StreamViewType,
  ) {
    this.arn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}/stream/${this.label}`;
  }

  record(keys: Item, old: Item | undefined, next: Item | undefined): void {
    const withNew = next && (this.viewType === 'NEW_IMAGE' || this.viewType === 'NEW_AND_OLD_IMAGES');
    const withOld = old && (this.viewType === 'OLD_IMAGE' || this.viewType === 'NEW_AND_OLD_IMAGES');
    this.records.push({
      eventID: randomUUID(),
      eventName: !old ? 'INSERT' : next ? 'MODIFY' : 'REMOVE',
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: keys,
        ...(withNew ? { NewImage: next } : {}),
        ...(withOld ? { OldImage: old } : {}),
        SequenceNumber: sequenceNumber(this.records.length + 1),
        SizeBytes: itemSize(keys) + (withNew ? itemSize(next) : 0) + (withOld ? itemSize(old) : 0),
        StreamViewType: this.viewType,
      },
    });
  }

  describe(exclusiveStartShardId?: string) {
    const shard = { ShardId: this.shardId, SequenceNumberRange: { StartingSequenceNumber: sequenceNumber(1) } };
    return {
      StreamArn: this.arn,
      StreamLabel: this.label,
      StreamStatus: 'ENABLED',
      StreamViewType: this.viewType,
      CreationRequestDateTime: this.createdAt,
      TableName: this.tableName,
      Shards: exclusiveStartShardId === this.shardId ? [] : [shard],
    };
  }
}

function streamOf(db: Database, arn: unknown): Stream {
  const name = typeof arn === 'string' ? /:table\/([^/]+)\/stream\//.exec(arn)?.[1] : undefined;
  const stream = name ? db.tables.get(name)?.stream : undefined;
  if (!stream || stream.arn !== arn) throw new DynamoError('ResourceNotFoundException', `Requested resource not found: Stream: ${String(arn)} not found`);
  return stream;
}

/** An iterator names the stream, the shard and the index of the next record to read. */
const iterator = (stream: Stream, next: number) => `${stream.arn}|${stream.shardId}|${next}`;

/** The Amazon DynamoDB Streams API: https://docs.aws.amazon.com/amazondynamodbstreams/latest/APIReference/API_Operations.html */
export const streamOperations = {
  ListStreams: (input: { TableName?: string }, db: Database) => ({
    Streams: [...db.tables.values()].flatMap((t) => (t.stream && (!input.TableName || t.name === input.TableName) ? [{ StreamArn: t.stream.arn, TableName: t.name, StreamLabel: t.stream.label }] : [])),
  }),

  DescribeStream: (input: { StreamArn?: string; ExclusiveStartShardId?: string }, db: Database) => {
    const stream = streamOf(db, input.StreamArn);
    return { StreamDescription: { ...stream.describe(input.ExclusiveStartShardId), KeySchema: db.tables.get(stream.tableName)!.definition.KeySchema } };
  },

  GetShardIterator: (input: { StreamArn?: string; ShardId?: string; ShardIteratorType?: string; SequenceNumber?: string }, db: Database) => {
    const stream = streamOf(db, input.StreamArn);
    if (input.ShardId !== stream.shardId) throw new DynamoError('ResourceNotFoundException', 'Shard does not exist');
    const at = () => {
      if (!/^\d{1,40}$/.test(input.SequenceNumber ?? '')) throw validation('Invalid SequenceNumber');
      return Math.max(0, Number(input.SequenceNumber) - 1);
    };
    switch (input.ShardIteratorType) {
      case 'TRIM_HORIZON':
        return { ShardIterator: iterator(stream, 0) };
      case 'LATEST':
        return { ShardIterator: iterator(stream, stream.records.length) };
      case 'AT_SEQUENCE_NUMBER':
        return { ShardIterator: iterator(stream, at()) };
      case 'AFTER_SEQUENCE_NUMBER':
        return { ShardIterator: iterator(stream, at() + 1) };
      default:
        throw validation(`Invalid ShardIteratorType: ${String(input.ShardIteratorType)}`);
    }
  },

  GetRecords: (input: { ShardIterator?: string; Limit?: number }, db: Database) => {
    const [arn, shardId, position] = String(input.ShardIterator).split('|');
    const stream = arn && /^\d+$/.test(position ?? '') ? db.tables.get(/:table\/([^/]+)\//.exec(arn)?.[1] ?? '')?.stream : undefined;
    if (!stream || stream.arn !== arn || stream.shardId !== shardId) throw validation('Invalid ShardIterator');
    const limit = input.Limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw validation(`1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000`);
    const records: Record<string, unknown>[] = [];
    let bytes = 0;
    let next = Number(position);
    while (next < stream.records.length && records.length < limit && bytes < MAX_RECORDS_BYTES) {
      const record = stream.records[next++]!;
      bytes += (record.dynamodb as { SizeBytes: number }).SizeBytes;
      records.push(record);
    }
    return { Records: records, NextShardIterator: iterator(stream, next) };
  },
};
