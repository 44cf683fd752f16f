import { readFileSync, writeFileSync } from 'node:fs';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { sleep } from '../concurrency.js';
import { logger } from '../log.js';
import { REV_SK } from '../store/table.js';

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface StreamPollerOptions {
  streams: DynamoDBStreamsClient;
  streamArn: string;
  handler: StreamHandler;
  /** Called with the records of a batch that kept failing, before the poller moves past them. */
  park: (records: DynamoDBRecord[], reason: string) => Promise<void>;
  /** File that keeps the position in each shard across restarts; in memory when absent. */
  checkpointFile?: string;
  batchSize?: number;
  /** Pause between polls of an idle stream (Lambda polls a shard about 4 times a second). */
  idleMs?: number;
  /** Pause between polls for a short while after a nudge, while the records of a write arrive. */
  eagerMs?: number;
  /** Attempts of one batch before its failing records are parked (Lambda's MaximumRetryAttempts + 1). */
  maxAttempts?: number;
  retryBaseMs?: number;
}

interface Checkpoints {
  streamArn: string;
  /** Last sequence number handled, per shard. */
  positions: Record<string, string>;
  /** Shards read to their end. */
  finished: string[];
}

/** The same filter as the event source mapping in AWS: only feed revision items trigger regeneration. */
const isRevisionRecord = (r: StreamRecord) => r.dynamodb?.Keys?.SK?.S === REV_SK && r.eventName !== 'REMOVE';

/** A record as Lambda's event source mapping delivers it (creation time in epoch seconds). */
export function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const { ApproximateCreationDateTime, ...dynamodb } = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(dynamodb as DynamoDBRecord['dynamodb']),
      ApproximateCreationDateTime: ApproximateCreationDateTime ? Math.floor(ApproximateCreationDateTime.getTime() / 1000) : undefined,
    },
  };
}

/**
 * Locally, what Lambda's event source mapping does in AWS: reads the table's stream shard by shard, in order,
 * hands batches to the regenerate handler, retries from the first failed record, parks a batch that keeps
 * failing, and remembers its position so that a restart resumes where it stopped.
 */
export class StreamPoller {
  private readonly o: Required<Omit<StreamPollerOptions, 'checkpointFile'>> & Pick<StreamPollerOptions, 'checkpointFile'>;
  private checkpoints: Checkpoints;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  /** Until when polls follow each other closely (a write was just committed). */
  private eagerUntil = 0;
  private nudgedAt = 0;

  constructor(options: StreamPollerOptions) {
    this.o = { batchSize: 100, idleMs: 250, eagerMs: 5, maxAttempts: 6, retryBaseMs: 100, ...options };
    this.checkpoints = this.loadCheckpoints();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((error: unknown) => logger.error('stream poller stopped', { error: error as Error }));
  }

  /**
   * A write was committed: poll now, and closely for a moment after. Locally the API runs in this process and
   * says so, which lets an idle stream be polled rarely (it cost a quarter of a core at 100 polls a second);
   * writes from elsewhere are still picked up by the idle polls.
   */
  nudge(): void {
    this.nudgedAt = Date.now();
    this.eagerUntil = this.nudgedAt + 200;
    this.wake?.();
  }

  /** Stops after the batch in hand; what is not handled yet is handled after the next start. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private loadCheckpoints(): Checkpoints {
    const fresh = { streamArn: this.o.streamArn, positions: {}, finished: [] };
    if (!this.o.checkpointFile) return fresh;
    try {
      const saved = JSON.parse(readFileSync(this.o.checkpointFile, 'utf8')) as Checkpoints;
      return saved.streamArn === this.o.streamArn ? saved : fresh;
    } catch {
      return fresh;
    }
  }

  private saveCheckpoints(): void {
    if (this.o.checkpointFile) writeFileSync(this.o.checkpointFile, JSON.stringify(this.checkpoints));
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.o.streams.send(new DescribeStreamCommand({ StreamArn: this.o.streamArn, ExclusiveStartShardId: start }));
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  /** Shards to read now: not finished, and whose parent (if we know it) is finished, as Lambda orders them. */
  private async readableShards(): Promise<Shard[]> {
    const shards = await this.listShards();
    const known = new Set(shards.map((s) => s.ShardId));
    const finished = new Set(this.checkpoints.finished);
    return shards.filter(
      (s) => !finished.has(s.ShardId!) && (!s.ParentShardId || !known.has(s.ParentShardId) || finished.has(s.ParentShardId)),
    );
  }

  private async iteratorFor(shardId: string): Promise<string | undefined> {
    const after = this.checkpoints.positions[shardId];
    const out = await this.o.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.o.streamArn,
        ShardId: shardId,
        ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return out.ShardIterator;
  }

  private async run(): Promise<void> {
    const iterators = new Map<string, string | undefined>();
    while (this.running) {
      try {
        if (iterators.size === 0) {
          for (const shard of await this.readableShards()) iterators.set(shard.ShardId!, await this.iteratorFor(shard.ShardId!));
        }
        let busy = false;
        for (const [shardId, iterator] of iterators) {
          if (!this.running) break;
          if (!iterator) {
            this.finishShard(shardId, iterators);
            continue;
          }
          const polledAt = Date.now();
          const out = await this.o.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.o.batchSize }));
          const records = out.Records ?? [];
          if (records.length > 0) {
            busy = true;
            // The records the nudges announced are here: no need to poll closely any more.
            if (this.nudgedAt < polledAt) this.eagerUntil = 0;
            await this.deliver(shardId, records);
          }
          if (out.NextShardIterator) iterators.set(shardId, out.NextShardIterator);
          else this.finishShard(shardId, iterators);
        }
        if (!busy) await this.idle(Date.now() < this.eagerUntil ? this.o.eagerMs : this.o.idleMs);
      } catch (error) {
        // Expired iterators, a restarted server: start again from the checkpoints.
        if (this.running) logger.warn('stream poll failed; resuming from checkpoints', { error: error as Error });
        iterators.clear();
        await this.idle(500);
      }
    }
  }

  private finishShard(shardId: string, iterators: Map<string, string | undefined>): void {
    iterators.delete(shardId);
    this.checkpoints.finished.push(shardId);
    this.saveCheckpoints();
    // Children of a finished shard become readable: list shards again on the next round.
    iterators.clear();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Hands one batch to the handler; retries from the first failed record; parks what keeps failing. */
  private async deliver(shardId: string, batch: StreamRecord[]): Promise<void> {
    let pending = batch.filter(isRevisionRecord).map((r) => toLambdaRecord(r, this.o.streamArn));
    for (let attempt = 1; pending.length > 0; attempt++) {
      // Sequence numbers of the records that failed; undefined when the whole batch failed.
      let failed: Set<string> | undefined;
      let reason = 'regeneration failed';
      try {
        const response = await this.o.handler({ Records: pending });
        failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (error) {
        reason = (error as Error).message;
      }
      const failedFrom = failed ? pending.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? '')) : 0;
      if (failedFrom < 0) break;
      // As Lambda does: the retry starts at the first failed record.
      pending = pending.slice(failedFrom);
      if (attempt >= this.o.maxAttempts) {
        const parked = failed ? pending.filter((r) => failed.has(r.dynamodb?.SequenceNumber ?? '')) : pending;
        logger.error('parking stream records after repeated failures', { shardId, records: parked.length, attempts: attempt });
        await this.o.park(parked, reason);
        break;
      }
      if (!this.running) return; // not checkpointed: handled again after the next start
      await sleep(this.o.retryBaseMs * 2 ** (attempt - 1));
    }
    this.checkpoints.positions[shardId] = batch.at(-1)!.dynamodb!.SequenceNumber!;
    this.saveCheckpoints();
  }
}
