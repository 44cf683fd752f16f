import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mapSettled, type Semaphore, sleep } from '../concurrency.js';
import { DIRECTORY, parseFeedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { isHolding, type DynamoHoldRepository, type Hold } from '../store/dynamo-hold.js';
import { feedIdOfPartition, HOLD_PK, holdLane, INBOX_PREFIX, laneOfInboxKey, OPEN_LANE } from '../store/table.js';
import type { FeedRegenerator } from './feed-regenerator.js';
import { HELD_PER_RENDER, TURN_GAP_MS, type HoldRelease } from './hold-release.js';
import { isSettingsRecord, settingsVersionOfRecord, type SettingsFanOut } from './settings-fan-out.js';

/** What one feed is asked for by a batch: the inbox items (by lane) whose records arrived. */
export interface FeedRequest {
  feedId: string;
  /** Inbox item sort keys, by lane. */
  lanes: Map<string, string[]>;
  /** Sequence number of the first record asking for this feed: where a retry must start. */
  sequenceNumber: string;
}

export const isInboxRecord = (record: Pick<DynamoDBRecord, 'eventName' | 'dynamodb'>) =>
  record.eventName === 'INSERT' && record.dynamodb?.Keys?.SK?.S?.startsWith(INBOX_PREFIX) === true;
const holdIdOf = (lane: string) => lane.slice(holdLane('').length);

/** An open-lane inbox item's record: the feeds lane's work (nobody's write waits behind another's backlog). */
export const isOpenInboxRecord = (record: Pick<DynamoDBRecord, 'eventName' | 'dynamodb'>) => isInboxRecord(record) && laneOfInboxKey(record.dynamodb!.Keys!.SK!.S!) === OPEN_LANE;
/** A held write's inbox record: background work (marking its feed for the hold), in the pages lane. */
export const isHeldInboxRecord = (record: Pick<DynamoDBRecord, 'eventName' | 'dynamodb'>) => isInboxRecord(record) && laneOfInboxKey(record.dynamodb!.Keys!.SK!.S!) !== OPEN_LANE;
export const isHoldRecord = (record: Pick<DynamoDBRecord, 'eventName' | 'dynamodb'>) => record.eventName !== 'REMOVE' && record.dynamodb?.Keys?.PK?.S === HOLD_PK;

/** The feeds a batch asks for: one request per feed, whatever the number of its records (a burst coalesces). */
export function feedRequests(event: DynamoDBStreamEvent): FeedRequest[] {
  const wanted = new Map<string, FeedRequest>();
  for (const record of event.Records) {
    if (!isInboxRecord(record)) continue;
    const feedId = feedIdOfPartition(record.dynamodb!.Keys!.PK!.S!);
    const sk = record.dynamodb!.Keys!.SK!.S!;
    const request = wanted.get(feedId) ?? { feedId, lanes: new Map(), sequenceNumber: record.dynamodb?.SequenceNumber ?? '' };
    const lane = laneOfInboxKey(sk);
    request.lanes.set(lane, [...(request.lanes.get(lane) ?? []), sk]);
    wanted.set(feedId, request);
  }
  return [...wanted.values()];
}

/** Holds a batch announces released (a release, or a touch that resumes one). */
function releasedHolds(event: DynamoDBStreamEvent): { holdId: string; sequenceNumber: string }[] {
  return event.Records.filter(isHoldRecord).flatMap((record) => {
    const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
    return image?.phase?.S === 'released' ? [{ holdId: record.dynamodb!.Keys!.SK!.S!, sequenceNumber: record.dynamodb?.SequenceNumber ?? '' }] : [];
  });
}

export interface FeedsHandlerOptions {
  /** Feeds rendered at once. */
  concurrency?: number;
  /** How long a render waits for another holder before the record is retried. */
  waitMs?: number;
  /** Test hook: before a held write's feed is marked for its hold. */
  beforeMark?: (holdId: string, feedId: string) => Promise<void>;
  /** Tells every feed of a change of the site's settings (its record is in the feeds lane too). */
  fanOut?: Pick<SettingsFanOut, 'tell'>;
  /**
   * Renders at once across every batch this handler is running (several batches of a shard run at once). In AWS
   * a function instance runs one batch; locally all of them share one DynamoDB Local, which works one request
   * at a time, so more renders in flight only queue there, in front of the publishers' writes.
   */
  renderSlots?: Semaphore;
  /** Awaited before each render (each turn of a released hold's writes): background work gives way (see RegenerationOptions). */
  beforeRender?: () => Promise<void>;
}

/**
 * The handler of inbox items' stream records, partial-batch failures out, so one bad feed repeats only itself: in
 * the feeds lane, open writes' items and changes of the site's settings; in the pages lane (a handler of its own,
 * with render slots of its own), held writes' items and hold releases. Each feed renders once per batch, covering
 * every write of the batch and any committed before its inbox read. Writes sent under a hold are only marked while
 * the hold holds; once it is released (or expired), they are rendered like any other.
 */
export function createFeedsHandler(regenerator: FeedRegenerator, holds: DynamoHoldRepository, release: HoldRelease, { concurrency = 8, waitMs = 5_000, beforeMark, fanOut, renderSlots, beforeRender }: FeedsHandlerOptions = {}) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const failed: string[] = [];
    const requests = feedRequests(event);
    // Every feed of the batch with held writes is marked first, then each hold read once: a release that lists the
    // marks before they were written is seen here as released (its feeds are rendered below); one that lists them
    // after renders them itself. (A hold read before some of the marks, and kept for the batch, could say holding
    // to a feed marked after a release had finished looking: nobody would render it.)
    const heldFeeds = new Map<string, string[]>();
    for (const request of requests) {
      for (const lane of request.lanes.keys()) if (lane !== OPEN_LANE) heldFeeds.set(holdIdOf(lane), [...(heldFeeds.get(holdIdOf(lane)) ?? []), request.feedId]);
    }
    for (const [holdId, feedIds] of heldFeeds) {
      for (const feedId of feedIds) await beforeMark?.(holdId, feedId);
      await holds.markAll(holdId, feedIds);
    }
    const known = new Map<string, Hold | undefined>(await Promise.all([...heldFeeds.keys()].map(async (id) => [id, await holds.get(id)] as const)));

    const render = async (request: FeedRequest) => {
      const lanes = [OPEN_LANE];
      const items = [...(request.lanes.get(OPEN_LANE) ?? [])];
      const held: string[] = [];
      for (const [lane, sks] of request.lanes) {
        if (lane === OPEN_LANE || isHolding(known.get(holdIdOf(lane)))) continue;
        lanes.push(lane);
        items.push(...sks);
        held.push(...sks);
      }
      if (items.length === 0) return;
      // Held writes of a released hold, most often already covered by its release (an import's records keep coming
      // after it): nothing to render then, and the feed's lease is left to live writes' renders.
      if (held.length === items.length && !(await regenerator.pending(parseFeedId(request.feedId), held))) {
        for (const lane of lanes.slice(1)) if (known.get(holdIdOf(lane))?.phase === 'published') await holds.unmark(holdIdOf(lane), request.feedId);
        return;
      }
      const started = performance.now();
      // A released hold's lane in turns, as the release renders it (HELD_PER_RENDER): each turn under its own lease.
      const rendering = async () => {
        let listed = false;
        for (;;) {
          await beforeRender?.();
          const turn = await regenerator.ensureRendered(parseFeedId(request.feedId), { lanes, items, waitMs, ...(lanes.length > 1 ? { heldLimit: HELD_PER_RENDER } : {}) });
          listed ||= turn.listingChanged === true;
          if (!turn.heldLeft) return { ...turn, listingChanged: listed };
          await sleep(TURN_GAP_MS);
        }
      };
      const outcome = renderSlots ? await renderSlots.run(rendering) : await rendering();
      if (outcome.listingChanged) listingChanged = true;
      // A published hold's marks are this lane's to remove. While the release runs, it renders every marked feed and
      // removes the mark itself: a render here may have covered only this batch's writes (another holder covered
      // the rest), and the mark is how the release finds the others.
      for (const lane of lanes.slice(1)) if (known.get(holdIdOf(lane))?.phase === 'published') await holds.unmark(holdIdOf(lane), request.feedId);
      logger.debug('feed regenerated', { feedId: request.feedId, ...outcome, ms: Math.round(performance.now() - started) });
    };

    let listingChanged = false;
    const results = await mapSettled(requests, concurrency, render);
    // A new feed (or one gone) is in the directory at once, not at the next tick: a reader who just made a category
    // looks for it there. Counts and dates of feeds already listed wait for the tick. One try: if another render of
    // the directory is under way, it or the tick lists the feed, and this batch does not wait for it.
    if (listingChanged) {
      await regenerator.regenerate(DIRECTORY, { lanes: [], force: true }).catch((error: unknown) => logger.warn('directory not rendered; the tick will', { error: error as Error }));
    }
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      logger.error('feed regeneration failed', { feedId: requests[i]!.feedId, error: result.reason as Error });
      failed.push(requests[i]!.sequenceNumber);
    });

    for (const { holdId, sequenceNumber } of releasedHolds(event)) {
      await release.run(holdId).catch((error: unknown) => {
        logger.error('hold release failed', { holdId, error: error as Error });
        failed.push(sequenceNumber);
      });
    }
    // Only the newest change of the batch is told: an older one is not told once a newer one is stored.
    const change = event.Records.filter(isSettingsRecord).at(-1);
    if (change && fanOut) {
      await fanOut.tell(settingsVersionOfRecord(change)).catch((error: unknown) => {
        logger.error('telling feeds of the site settings failed', { error: error as Error });
        failed.push(change.dynamodb?.SequenceNumber ?? '');
      });
    }
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
