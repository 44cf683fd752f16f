import { parseFeedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import type { FeedStateRepository } from '../store/ports.js';
import type { FeedRegenerator } from './feed-regenerator.js';

export interface RedriveReport {
  regenerated: string[];
  failed: { feedId: string; reason: string }[];
}

/**
 * Brings every feed up to date whatever happened to its trigger: batches whose request ended before bumping
 * their feeds, parked regenerations, and any feed whose revision is ahead of what was rendered (a lost stream
 * record, a crash, a restart). Safe to run any time.
 */
export async function redrive(
  state: FeedStateRepository,
  regenerator: FeedRegenerator,
  completeAbandonedBatches: () => Promise<number> = async () => 0,
): Promise<RedriveReport> {
  await completeAbandonedBatches();
  const parked = await state.listParked();
  const feedIds = [...new Set([...parked.map((p) => p.feedId), ...(await state.listStale())])];
  const report: RedriveReport = { regenerated: [], failed: [] };
  for (const feedId of feedIds) {
    try {
      await regenerator.ensureCurrent(parseFeedId(feedId));
      if (parked.some((p) => p.feedId === feedId)) await state.unpark(feedId);
      report.regenerated.push(feedId);
    } catch (error) {
      logger.error('re-drive of a feed failed', { feedId, error: error as Error });
      report.failed.push({ feedId, reason: (error as Error).message });
    }
  }
  return report;
}
