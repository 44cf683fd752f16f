import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { mapSettled } from '../concurrency.js';
import { parseFeedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { feedIdOfPartition, REV_SK } from '../store/table.js';
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
    if (record.eventName === 'REMOVE' || !pk || image?.SK?.S !== REV_SK) continue;
    const feedId = feedIdOfPartition(pk);
    const rev = Number(image.rev?.N ?? 0);
    const seen = wanted.get(feedId);
    if (seen) seen.rev = Math.max(seen.rev, rev);
    else wanted.set(feedId, { feedId, rev, sequenceNumber: record.dynamodb?.SequenceNumber ?? '' });
  }
  return [...wanted.values()];
}

/** The regeneration trigger: stream batch in, partial-batch failures out, so one bad feed repeats only itself. */
export function createRegenerateHandler(regenerator: FeedRegenerator, concurrency = 8) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const requests = feedRequests(event);
    const results = await mapSettled(requests, concurrency, async (request) => {
      const started = performance.now();
      const outcome = await regenerator.ensureRendered(parseFeedId(request.feedId), request.rev);
      logger.debug('feed regenerated', { feedId: request.feedId, rev: request.rev, ...outcome, ms: Math.round(performance.now() - started) });
      return outcome;
    });
    const failures = requests.filter((request, i) => {
      const result = results[i]!;
      if (result.status === 'fulfilled') return false;
      logger.error('feed regeneration failed', { feedId: request.feedId, rev: request.rev, error: result.reason as Error });
      return true;
    });
    return { batchItemFailures: failures.map((f) => ({ itemIdentifier: f.sequenceNumber })) };
  };
}
