import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mapSettled } from '../concurrency.js';
import { isFeed, parseFeedId } from '../feeds/feed-ref.js';
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

/**
 * The regeneration trigger: stream batch in, partial-batch failures out, so one bad feed repeats only itself.
 * While an import holds regeneration, the batch's feeds are only noted as pending; once the hold is released
 * (or expires), the pending feeds are rendered, each once.
 */
export function createRegenerateHandler(regenerator: FeedRegenerator, hold: DynamoHoldRepository, concurrency = 8) {
  const render = (feedId: string, rev?: number) => async () => {
    const started = performance.now();
    const ref = parseFeedId(feedId);
    const outcome = rev === undefined ? await regenerator.ensureCurrent(ref) : await regenerator.ensureRendered(ref, rev);
    logger.debug('feed regenerated', { feedId, rev, ...outcome, ms: Math.round(performance.now() - started) });
    return outcome;
  };

  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const requests = feedRequests(event);
    const { until, pending } = await hold.get();
    if (until > Date.now()) {
      await hold.defer(requests.map((r) => r.feedId));
      return { batchItemFailures: [] };
    }
    const deferred = pending.filter((id) => !requests.some((r) => r.feedId === id));
    const jobs = [...requests.map((r) => render(r.feedId, r.rev)), ...deferred.map((id) => render(id))];
    // Feeds first: readers wait for them; post pages and the directory follow, without competing.
    const ids = [...requests.map((r) => r.feedId), ...deferred];
    const isFeedJob = (i: number) => isFeed(parseFeedId(ids[i]!));
    const order = jobs.map((_, i) => i).sort((a, b) => Number(isFeedJob(b)) - Number(isFeedJob(a)));
    const firstPages = order.findIndex((i) => !isFeedJob(i));
    const settled = new Array<PromiseSettledResult<unknown>>(jobs.length);
    for (const group of firstPages < 0 ? [order] : [order.slice(0, firstPages), order.slice(firstPages)]) {
      const out = await mapSettled(group, concurrency, (i) => jobs[i]!());
      group.forEach((i, j) => (settled[i] = out[j]!));
    }
    const results = settled;

    const failed = (i: number) => {
      const result = results[i]!;
      if (result.status === 'fulfilled') return false;
      logger.error('feed regeneration failed', { feedId: i < requests.length ? requests[i]!.feedId : deferred[i - requests.length], error: result.reason as Error });
      return true;
    };
    // Deferred feeds that failed stay pending, and are tried again with the next batch.
    await hold.done(deferred.filter((_, j) => !failed(requests.length + j)));
    const failures = requests.filter((_, i) => failed(i));
    return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.sequenceNumber })) };
  };
}
