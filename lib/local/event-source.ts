import { readFileSync, renameSync, writeFileSync } from 'node:fs';
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

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface EventSourceOptions {
  /** Names the mapping in logs and in the checkpoint file. */
  name: string;
  streams: DynamoDBStreamsClient;
  streamArn: string;
  /** The mapping's filter (the same criteria as the event source mapping's in cdk/). */
  filter: (record: DynamoDBRecord) => boolean;
  handler: StreamHandler;
  /** Called with the records of a batch that kept failing, before the mapping moves past them. */
  park: (records: DynamoDBRecord[], reason: string) => Promise<void>;
  /** File that keeps the position in each shard across restarts; in memory when absent. */
  checkpointFile?: string;
  batchSize?: number;
  /** Batches of one shard handled at once, each partition key always in the same one (Lambda's ParallelizationFactor). */
  parallelization?: number;
  /** Pause between polls of an idle stream (Lambda polls a shard about 4 times a second). */
  idleMs?: number;
  /**
   * Shortest time between the starts of two polls while writes keep coming (a burst): the records of a few
   * milliseconds of writes come in one read rather than one read each. An empty read costs DynamoDB Local about
   * 0.7 ms of CPU and the client about 0.6 ms (`npm run bench:dynamo-latency`), on the cores the renders need.
   */
  minGapMs?: number;
  /**
   * After a nudge whose poll found nothing new (an earlier poll took its records), polls again at these times
   * after the nudge, in case the stream had not yet carried them; then waits for the next nudge or `idleMs`.
   */
  followUpMs?: number[];
  /** Attempts of one batch before its failing records are parked (Lambda's MaximumRetryAttempts + 1). */
  maxAttempts?: number;
  retryBaseMs?: number;
  /** Records read but not yet handled, past which reading waits (a backlog stays in the stream, as in AWS). */
  maxBuffered?: number;
  /**
   * A lane that goes first: while it is busy, this one waits before each batch, up to `maxYieldMs`. Locally both
   * lanes share two cores and one local S3 server; in AWS they are separate functions and need not take turns.
   */
  yieldTo?: LocalEventSource;
  maxYieldMs?: number;
}

interface Checkpoints {
  streamArn: string;
  /** Last sequence number handled, per shard: every record up to it is done. */
  positions: Record<string, string>;
  /** Shards read to their end and handled. */
  finished: string[];
}

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

/** Java's String.hashCode, enough to spread partition keys over the batches of a shard. */
function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h >>> 0;
}

/** Records asked for in one poll of a shard (GetRecords' limit). */
const POLL_LIMIT = 1000;

/**
 * How long a lane waits before its next poll of the stream, from what the last one found (a poll that returned a
 * full page polls again at once). A nudge means a write was committed, so a poll started after it reads it:
 * - a nudge came after the last poll started: poll again, `minGapMs` after that poll started (in a burst, every
 *   write is not read by a poll of its own);
 * - the last poll found records the lane takes: again after `minGapMs` (writes may still be coming, from
 *   elsewhere too);
 * - it found none: at the next of `followUpMs` after the nudge (a stream slow to carry the write), never sooner
 *   than `minGapMs` after the last poll, else `idleMs` (a nudge cuts any wait short).
 */
export function nextPollIn(
  now: number,
  last: { polledAt: number; found: number; nudgedAt: number },
  o: { idleMs: number; minGapMs: number; followUpMs: number[] },
): number {
  if (last.nudgedAt >= last.polledAt || last.found > 0) return Math.max(0, last.polledAt + o.minGapMs - now);
  const followUp = o.followUpMs.map((ms) => last.nudgedAt + ms).find((at) => at > last.polledAt);
  return followUp === undefined ? o.idleMs : Math.max(0, followUp - now, last.polledAt + o.minGapMs - now);
}

/** Which of a shard's `parallelization` batch slots takes the records of a partition key (one slot per key, always). */
export const slotOf = (partitionKey: string, parallelization: number) => hash(partitionKey) % parallelization;

/** The records of one shard in the order they were read, each done or not: the checkpoint is the done prefix. */
export class ShardProgress {
  private order: { seq: string; done: boolean }[] = [];
  /** Where the records not yet passed by the checkpoint begin in `order`. */
  private head = 0;
  private readonly bySeq = new Map<string, { seq: string; done: boolean }>();
  endReached = false;

  read(seq: string, done: boolean): void {
    const entry = { seq, done };
    this.order.push(entry);
    if (!done) this.bySeq.set(seq, entry);
  }

  done(seq: string): void {
    const entry = this.bySeq.get(seq);
    if (entry) entry.done = true;
    this.bySeq.delete(seq);
  }

  /**
   * Passes the done prefix; returns the last sequence number in it (the new checkpoint), if any. In time linear in
   * the records passed: shifting them off one by one moved the whole array each time, and a prefix of a few hundred
   * thousand records (a large import's stream, its first record done last) held the event loop for 24 s.
   */
  advance(): string | undefined {
    let last: string | undefined;
    while (this.head < this.order.length && this.order[this.head]!.done) last = this.order[this.head++]!.seq;
    // The records passed are dropped once they outnumber those kept (and are more than 1,024).
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    return last;
  }

  get settled(): boolean {
    return this.head === this.order.length;
  }
}

/** Records waiting for one batch slot of a shard, handled one batch at a time, in order. */
interface Slot {
  shardId: string;
  queue: DynamoDBRecord[];
  busy: boolean;
}

/**
 * Locally, what one Lambda event source mapping does in AWS: reads the table's stream shard by shard, keeps the
 * records its filter passes, and hands them in batches to its handler, with `parallelization` batches of a shard
 * in flight at once and each partition key always in the same one (so one key's records are handled in order, as
 * Lambda keeps them). A failed batch is retried from its first failed record, and parked after `maxAttempts`. The
 * position in each shard is the last record up to which everything is handled; it survives restarts.
 *
 * Each mapping reads the stream on its own, as two mappings of one stream do in AWS: a backlog in one lane (post
 * pages after an import) never holds up another (feeds).
 */
export class LocalEventSource {
  private readonly o: Required<Omit<EventSourceOptions, 'checkpointFile' | 'yieldTo'>> & Pick<EventSourceOptions, 'checkpointFile' | 'yieldTo'>;
  private checkpoints: Checkpoints;
  private readonly progress = new Map<string, ShardProgress>();
  private readonly slots = new Map<string, Slot>();
  private buffered = 0;
  private running = false;
  private loop?: Promise<void>;
  private readonly workers = new Set<Promise<void>>();
  private wake?: () => void;
  private drained?: () => void;
  /** When the last write was committed (a nudge): every poll started after it reads that write's records. */
  private nudgedAt = 0;
  /** When the last poll started. */
  private lastPollAt = 0;
  /**
   * When the last poll that read every shard started: a nudge before it was read by then, unless the stream had
   * not carried the write yet (the follow-up polls find it; lower-priority work may start in that gap).
   */
  private polledThrough = 0;
  /** Polls of the stream (GetRecords of a shard), since the start (tests count them). */
  polls = 0;

  constructor(options: EventSourceOptions) {
    this.o = { batchSize: 100, parallelization: 4, idleMs: 250, minGapMs: 15, followUpMs: [10, 40, 120], maxAttempts: 6, retryBaseMs: 100, maxBuffered: 2_000, maxYieldMs: 200, ...options };
    this.checkpoints = this.loadCheckpoints();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run().catch((error: unknown) => logger.error('event source stopped', { mapping: this.o.name, error: error as Error }));
  }

  /**
   * A write this lane may want was committed: poll now (or, in a burst, `minGapMs` after the last poll started).
   * Locally the API runs in this process and says so, which lets an idle stream be polled rarely; writes from
   * elsewhere are still picked up by idle polls.
   */
  nudge(): void {
    this.nudgedAt = performance.now();
    this.wake?.();
  }

  /** Stops reading, and waits for the batches in hand; what is not handled is handled after the next start. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.drained?.();
    await this.loop;
    await Promise.all(this.workers);
  }

  /**
   * Whether records read are waiting or being handled, or a write was committed (a nudge) that no finished poll
   * has read yet: work of lower priority gives way from the commit of a write this lane takes, not from its poll.
   */
  get busy(): boolean {
    return this.buffered > 0 || [...this.slots.values()].some((s) => s.busy) || (this.running && this.nudgedAt > this.polledThrough);
  }

  /** Resolves once this lane is not busy, or after `maxMs` (work of lower priority waits for it). */
  async giveWay(maxMs = this.o.maxYieldMs): Promise<void> {
    for (const until = Date.now() + maxMs; this.busy && Date.now() < until; ) await sleep(5);
  }

  /** Resolves once every record read so far is handled (tests and benchmarks wait for quiet with it). */
  async idle(): Promise<void> {
    while (this.busy) await sleep(10);
  }

  private loadCheckpoints(): Checkpoints {
    const fresh = { streamArn: this.o.streamArn, positions: {}, finished: [] };
    if (!this.o.checkpointFile) return fresh;
    try {
      const saved = (JSON.parse(readFileSync(this.o.checkpointFile, 'utf8')) as Record<string, Checkpoints>)[this.o.name];
      return saved?.streamArn === this.o.streamArn ? saved : fresh;
    } catch {
      return fresh;
    }
  }

  private saveCheckpoints(): void {
    const file = this.o.checkpointFile;
    if (!file) return;
    let all: Record<string, Checkpoints> = {};
    try {
      all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Checkpoints>;
    } catch {
      // First save, or a file of an older layout: started afresh.
    }
    all[this.o.name] = this.checkpoints;
    // Written aside and renamed: a crash never leaves half a checkpoint file.
    writeFileSync(`${file}.tmp`, JSON.stringify(all));
    renameSync(`${file}.tmp`, file);
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
    return shards.filter((s) => !finished.has(s.ShardId!) && (!s.ParentShardId || !known.has(s.ParentShardId) || finished.has(s.ParentShardId)));
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
          // Records in hand are handled before a shard is opened again from its checkpoint: nothing twice.
          await this.waitUntil(() => this.buffered === 0 && ![...this.slots.values()].some((s) => s.busy));
          this.progress.clear();
          for (const shard of await this.readableShards()) iterators.set(shard.ShardId!, await this.iteratorFor(shard.ShardId!));
        }
        const polledAt = performance.now();
        this.lastPollAt = polledAt;
        // Records this lane takes (a render's own records, which it does not, say nothing of writes to come).
        let found = 0;
        // Read again at once: a full page (more is waiting), or a shard ended (its children are readable now).
        let again = false;
        for (const [shardId, iterator] of iterators) {
          if (!this.running) break;
          await this.waitUntil(() => this.buffered < this.o.maxBuffered);
          if (!iterator) {
            this.endShard(shardId, iterators);
            again = true;
            continue;
          }
          this.polls++;
          const out = await this.o.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: POLL_LIMIT }));
          const records = out.Records ?? [];
          if (records.length >= POLL_LIMIT) again = true;
          if (records.length > 0) found += this.accept(shardId, records);
          if (out.NextShardIterator) iterators.set(shardId, out.NextShardIterator);
          else {
            this.endShard(shardId, iterators);
            again = true;
          }
        }
        if (this.running) this.polledThrough = polledAt;
        const wait = again ? 0 : nextPollIn(performance.now(), { polledAt, found, nudgedAt: this.nudgedAt }, this.o);
        if (wait > 0) await this.pause(wait);
      } catch (error) {
        // Expired iterators, a restarted server: start again from the checkpoints.
        if (this.running) logger.warn('stream poll failed; resuming from checkpoints', { mapping: this.o.name, error: error as Error });
        iterators.clear();
        await this.pause(500);
      }
    }
  }

  /**
   * Files the records of a read: those the filter passes go to their partition key's slot, the others are done.
   * Returns how many it passed.
   */
  private accept(shardId: string, records: StreamRecord[]): number {
    let wanted = 0;
    const progress = this.progress.get(shardId) ?? new ShardProgress();
    this.progress.set(shardId, progress);
    for (const raw of records) {
      const record = toLambdaRecord(raw, this.o.streamArn);
      const seq = record.dynamodb?.SequenceNumber ?? '';
      const takes = this.o.filter(record);
      progress.read(seq, !takes);
      if (!takes) continue;
      wanted++;
      const key = `${shardId}/${slotOf(record.dynamodb?.Keys?.PK?.S ?? '', this.o.parallelization)}`;
      const slot = this.slots.get(key) ?? { shardId, queue: [], busy: false };
      this.slots.set(key, slot);
      slot.queue.push(record);
      this.buffered++;
      if (!slot.busy) this.work(slot);
    }
    this.checkpoint(shardId);
    return wanted;
  }

  private work(slot: Slot): void {
    slot.busy = true;
    const worker = (async () => {
      while (slot.queue.length > 0 && this.running) {
        await this.o.yieldTo?.giveWay(this.o.maxYieldMs);
        const batch = slot.queue.splice(0, this.o.batchSize);
        const handled = await this.deliver(batch);
        this.buffered -= batch.length;
        const progress = this.progress.get(slot.shardId);
        // A batch given up because the mapping stops stays behind the checkpoint: handled after the next start.
        if (handled) for (const record of batch) progress?.done(record.dynamodb?.SequenceNumber ?? '');
        this.checkpoint(slot.shardId);
        this.drained?.();
      }
    })()
      .catch((error: unknown) => logger.error('event source batch failed', { mapping: this.o.name, error: error as Error }))
      .finally(() => {
        slot.busy = false;
        this.workers.delete(worker);
        this.drained?.();
      });
    this.workers.add(worker);
  }

  private checkpoint(shardId: string): void {
    const progress = this.progress.get(shardId);
    const position = progress?.advance();
    if (position) this.checkpoints.positions[shardId] = position;
    if (progress?.endReached && progress.settled && !this.checkpoints.finished.includes(shardId)) this.checkpoints.finished.push(shardId);
    if (position || progress?.endReached) this.saveCheckpoints();
  }

  private endShard(shardId: string, iterators: Map<string, string | undefined>): void {
    iterators.delete(shardId);
    const progress = this.progress.get(shardId) ?? new ShardProgress();
    this.progress.set(shardId, progress);
    progress.endReached = true;
    this.checkpoint(shardId);
    // Children of a finished shard become readable: list shards again on the next round.
    iterators.clear();
  }

  /**
   * Waits `ms`, or until a nudge; a nudge within `minGapMs` of the last poll's start waits out the gap. A lane
   * stopped while it polled does not wait at all (stop's wake found no pause to end).
   */
  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        const gap = this.lastPollAt + this.o.minGapMs - performance.now();
        if (gap > 0 && this.running) timer = setTimeout(resolve, gap);
        else resolve();
      };
    }).finally(() => (this.wake = undefined));
  }

  private async waitUntil(ready: () => boolean): Promise<void> {
    while (this.running && !ready()) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  /**
   * Hands one batch to the handler; retries from the first failed record; parks what keeps failing. False when
   * the mapping stopped before the batch was handled.
   */
  private async deliver(batch: DynamoDBRecord[]): Promise<boolean> {
    let pending = batch;
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
      if (failedFrom < 0) return true;
      // As Lambda does: the retry starts at the first failed record.
      pending = pending.slice(failedFrom);
      if (attempt >= this.o.maxAttempts) {
        const parked = failed ? pending.filter((r) => failed.has(r.dynamodb?.SequenceNumber ?? '')) : pending;
        logger.error('parking stream records after repeated failures', { mapping: this.o.name, records: parked.length, attempts: attempt });
        await this.o.park(parked, reason);
        return true;
      }
      if (!this.running) return false;
      await sleep(this.o.retryBaseMs * 2 ** (attempt - 1));
    }
    return true;
  }
}
