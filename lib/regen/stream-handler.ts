import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mapSettled } from '../concurrency.js';
import { DIRECTORY, feedId as idOf, isFeed, parseFeedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { feedIdOfPartition, REV_SK } from '../store/table.js';
import type { DynamoHoldRepository } from '../store/dynamo-hold.js';
import type { FeedRegenerator } from './feed-regenerator.js';

export interface FeedRequest {
  feedId: string;
  /** The highest revision asked for in this batch. */
  rev: number;
  /** Sequence number of the first record asking for this feed: where a retry must start. */
  sequenceNumber: string;
}

/**
 * The feeds a batch of stream records asks for. Only revision items count (in AWS the event source filter
 * already drops everything else); several records for one feed coalesce into one request for the highest.
 */
export function feedRequests(event: DynamoDBStreamEvent): FeedRequest[] {
  const wanted = new Map<string, FeedRequest>();
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
    const pk = image?.PK?.S;
    if (record.eventName === 'REMOVE' || !pk?.startsWith('FEED#') || image?.SK?.S !== REV_SK) continue;
    const feedId = feedIdOfPartition(pk);
    const rev = Number(image.rev?.N ?? 0);
    const seen = wanted.get(feedId);
    if (seen) seen.rev = Math.max(seen.rev, rev);
    else wanted.set(feedId, { feedId, rev, sequenceNumber: record.dynamodb?.SequenceNumber ?? '' });
  }
  return [...wanted.values()];
}

export interface RegenerateOptions {
  /** Feeds rendered at once. */
  concurrency?: number;
  /** The directory is rendered at most once per this many ms here; the tick catches it up (0: every batch). */
  directoryIntervalMs?: number;
}

const DIRECTORY_ID = idOf(DIRECTORY);

/**
 * The regeneration trigger: stream batch in, partial-batch failures out, so one bad feed repeats only itself.
 * While an import holds regeneration, the batch's feeds are only noted as pending; once the hold is released
 * (or expires), the pending feeds are rendered, each once.
 */
export function createRegenerateHandler(regenerator: FeedRegenerator, hold: DynamoHoldRepository, { concurrency = 8, directoryIntervalMs = 0 }: RegenerateOptions = {}) {
  interface Job {
    feedId: string;
    /** The revision asked for; absent for feeds deferred by a hold (rendered at their current revision). */
    request?: FeedRequest;
  }

  const render = async ({ feedId, request }: Job) => {
    const started = performance.now();
    const ref = parseFeedId(feedId);
    // Rendered recently: this write shows in the directory at the next tick, within the interval.
    if (feedId === DIRECTORY_ID && directoryIntervalMs > 0 && (await regenerator.renderedWithin(ref, directoryIntervalMs))) {
      logger.debug('directory left to the tick', { rev: request?.rev });
      return;
    }
    const outcome = request ? await regenerator.ensureRendered(ref, request.rev) : await regenerator.ensureCurrent(ref);
    logger.debug('feed regenerated', { feedId, rev: request?.rev, ...outcome, ms: Math.round(performance.now() - started) });
    return outcome;
  };

  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    let requests = feedRequests(event);
    const { until, pending } = await hold.get();
    const held = until > Date.now();
    if (held) {
      // Shared documents (feeds, the directory) wait for the release, to render once. A post's page has one
      // writer in an import and renders once anyway: it is rendered now, which also keeps the hold's pending
      // set (one item, at most 400 KB) to the feeds, however many posts an import brings.
      const shared = requests.filter((r) => parseFeedId(r.feedId).kind !== 'post');
      // Only what is not pending yet: in an import, the busy feeds are pending after the first batches.
      const known = new Set(pending);
      await hold.defer(shared.map((r) => r.feedId).filter((id) => !known.has(id)));
      requests = requests.filter((r) => !shared.includes(r));
    }
    const jobs: Job[] = [
      ...requests.map((request) => ({ feedId: request.feedId, request })),
      ...(held ? [] : pending.filter((id) => !requests.some((r) => r.feedId === id)).map((feedId) => ({ feedId }))),
    ];
    // Feeds first, since readers wait for them; post pages and the directory after, without competing.
    const failed: Job[] = [];
    const [feeds, pages] = [jobs.filter((j) => isFeed(parseFeedId(j.feedId))), jobs.filter((j) => !isFeed(parseFeedId(j.feedId)))];
    for (const group of [feeds, pages]) {
      const results = await mapSettled(group, concurrency, render);
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') return;
        logger.error('feed regeneration failed', { feedId: group[i]!.feedId, error: result.reason as Error });
        failed.push(group[i]!);
      });
    }
    // Deferred feeds that failed stay pending, and are tried again with the next batch.
    await hold.done(jobs.filter((j) => !j.request && !failed.includes(j)).map((j) => j.feedId));
    return { batchItemFailures: failed.flatMap((j) => (j.request ? [{ itemIdentifier: j.request.sequenceNumber }] : [])) };
  };
}

/**
 * The periodic catch-up (an EventBridge schedule in AWS, a timer locally): completes batches whose request died
 * before bumping their feeds, and renders the directory if a write changed it since its last render. Cheap when
 * nothing changed: three reads, no render. The directory waits while an import holds regeneration, whose
 * release renders it anyway.
 */
export function createTick(regenerator: FeedRegenerator, hold: DynamoHoldRepository, completeAbandonedBatches: () => Promise<number>) {
  return async (): Promise<void> => {
    const completed = await completeAbandonedBatches();
    if (completed > 0) logger.warn('completed batches whose request ended early', { batches: completed });
    if ((await hold.get()).until > Date.now()) return;
    const outcome = await regenerator.ensureCurrent(DIRECTORY);
    if (outcome.renders > 0) logger.debug('directory caught up', { ...outcome });
  };
}
