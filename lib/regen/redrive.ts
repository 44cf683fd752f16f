import { parseFeedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { isHolding, type DynamoHoldRepository } from '../store/dynamo-hold.js';
import type { FeedStateRepository, PostRepository } from '../store/ports.js';
import { holdLane } from '../store/table.js';
import type { FeedRegenerator } from './feed-regenerator.js';
import type { PageRenderer } from './pages.js';

export interface RedriveReport {
  regenerated: string[];
  failed: { documentId: string; reason: string }[];
}

export interface RedriveDeps {
  state: FeedStateRepository;
  regenerator: FeedRegenerator;
  pages: PageRenderer;
  posts: PostRepository;
  holds: DynamoHoldRepository;
}

/**
 * Brings every document up to date whatever happened to its trigger: feeds with writes in their inbox (a lost
 * stream record, a crash, records past their age), and parked regenerations of feeds and post pages. Writes an
 * import still holds stay held. Safe to run any time.
 */
export async function redrive({ state, regenerator, pages, posts, holds }: RedriveDeps): Promise<RedriveReport> {
  const parked = await state.listParked();
  const stale = new Map((await state.listStale()).map((s) => [s.feedId, s.lanes]));
  const report: RedriveReport = { regenerated: [], failed: [] };
  const documents = [...new Set([...parked.map((p) => p.documentId), ...stale.keys()])];
  for (const documentId of documents) {
    try {
      const ref = parseFeedId(documentId);
      if (ref.kind === 'post') {
        await pages.fromTable(ref.name, posts);
      } else {
        const lanes: string[] = [];
        for (const lane of stale.get(documentId) ?? []) {
          const holdId = lane.startsWith(holdLane('')) ? lane.slice(holdLane('').length) : undefined;
          if (!holdId || !isHolding(await holds.get(holdId))) lanes.push(lane);
        }
        await regenerator.ensureRendered(ref, { lanes, force: true, waitMs: 30_000 });
      }
      if (parked.some((p) => p.documentId === documentId)) await state.unpark(documentId);
      report.regenerated.push(documentId);
    } catch (error) {
      logger.error('re-drive of a document failed', { documentId, error: error as Error });
      report.failed.push({ documentId, reason: (error as Error).message });
    }
  }
  return report;
}
