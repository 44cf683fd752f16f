import { mapSettled, sleep } from '../concurrency.js';
import { DIRECTORY, parseFeedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import type { DynamoHoldRepository } from '../store/dynamo-hold.js';
import { holdLane, OPEN_LANE } from '../store/table.js';
import type { FeedRegenerator } from './feed-regenerator.js';

/**
 * Held writes one render of a feed covers at a release. A release of a large import would otherwise render a feed's
 * whole backlog under one lease (3,000 posts of 1-8 KB held the site feed's for over 30 s on DynamoDB Local, and a
 * post published meanwhile waited for it, then was parked): in turns, each holds it a bounded time.
 */
export const HELD_PER_RENDER = 250;
/**
 * The pause between two turns: longer than the longest poll of the lease by a live render that found a turn holding
 * it (LONGEST_POLL_BEHIND_TURN_MS, FeedRegenerator.ensureRendered), so that it takes the lease before the next turn
 * does; a turn of the pages lane waiting behind the release's polls up to twice as long, and may get in too.
 */
export const TURN_GAP_MS = 100;

export interface HoldReleaseOptions {
  concurrency?: number;
  /** Time one invocation spends on a release; the rest is picked up by a fresh one (Lambda has a timeout). */
  budgetMs?: number;
  /** Awaited before each render of a feed, each turn (locally: live writes' renders go first; see RegenerationOptions). */
  beforeRender?: () => Promise<void>;
}

/**
 * The release of a hold: every feed it marked is rendered, covering its lane and the open one, and unmarked; then
 * the hold is published. Marks are removed only after their feed's render, so a release cut short (a crash, the
 * function's timeout) leaves exactly the feeds still to render, and touching the hold resumes it.
 */
export class HoldRelease {
  constructor(
    private readonly regenerator: FeedRegenerator,
    private readonly holds: DynamoHoldRepository,
    private readonly options: HoldReleaseOptions = {},
  ) {}

  async run(holdId: string): Promise<void> {
    const { concurrency = 8, budgetMs = 40_000 } = this.options;
    const deadline = Date.now() + budgetMs;
    const hold = await this.holds.get(holdId);
    if (hold?.phase !== 'released') return;
    for (;;) {
      const feeds = await this.holds.marked(holdId, 100);
      if (feeds.length === 0) {
        // The directory too: an import brings feeds it does not list yet, and the importer waits for all of it.
        await this.regenerator.ensureRendered(DIRECTORY, { lanes: [], force: true, waitMs: 30_000 });
        await this.holds.published(holdId);
        logger.info('hold published', { holdId });
        return;
      }
      const results = await mapSettled(feeds, concurrency, async (feedId) => {
        // In turns of HELD_PER_RENDER writes: the lease is free between them for a live write's render.
        for (;;) {
          await this.options.beforeRender?.();
          const turn = await this.regenerator.ensureRendered(parseFeedId(feedId), { lanes: [OPEN_LANE, holdLane(holdId)], waitMs: 30_000, heldLimit: HELD_PER_RENDER });
          if (!turn.heldLeft) break;
          await sleep(TURN_GAP_MS);
        }
        await this.holds.unmark(holdId, feedId);
      });
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) throw failure.reason;
      if (Date.now() > deadline) {
        // The rest in a fresh invocation: the touch is a stream record like the release itself.
        await this.holds.touch(holdId);
        return;
      }
    }
  }
}
