import { DIRECTORY } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import type { DynamoHoldRepository } from '../store/dynamo-hold.js';
import type { FeedRegenerator } from './feed-regenerator.js';
import type { Scheduler } from './schedule.js';
import type { SettingsFanOut } from './settings-fan-out.js';

/** A release that has not moved for this long was interrupted: touching the hold resumes it. */
const STALLED_RELEASE_MS = 2 * 60_000;
/** Published holds are kept this long for importers that ask how their release went. */
const KEEP_PUBLISHED_MS = 60 * 60_000;

export interface TickOptions {
  /** Tells the feeds of a change of the site's settings whose stream record was lost. */
  fanOut?: Pick<SettingsFanOut, 'catchUp'>;
  /** Publishes scheduled posts that are due (AWS: in the tick; locally a loop of its own runs it every second). */
  scheduler?: Scheduler;
  /** How far ahead the tick publishes scheduled posts, each at its date (it waits for them). */
  lookaheadMs?: number;
  now?: () => number;
}

/**
 * The periodic catch-up (an EventBridge schedule once a minute in AWS, a timer locally): releases holds whose
 * importer went away (their until passed), resumes releases that stalled, forgets old holds, and renders the
 * directory (feeds/index.html, a page per initial of categories and of tags, feeds/opml.xml) if the feeds' listing
 * changed, publishes scheduled posts, and tells the feeds of a change of the site's settings whose stream record was
 * lost. Cheap when nothing changed: the holds, the settings item, one Query of the index of feeds, a
 * render whose bytes equal the stored ones, no S3 write. (The home page is the site feed's page: it is rendered with
 * the site feed.)
 */
export function createTick(regenerator: FeedRegenerator, holds: DynamoHoldRepository, { scheduler, fanOut, lookaheadMs = 0, now = Date.now }: TickOptions = {}) {
  return async (): Promise<void> => {
    // Scheduled posts beside the catch-up: the scheduler may wait for posts due before the next tick.
    await Promise.all([scheduler?.run({ lookaheadMs }), catchUp()]);
  };

  async function catchUp(): Promise<void> {
    for (const hold of await holds.list()) {
      if (hold.phase === 'holding' && hold.until < now()) {
        logger.warn('releasing an abandoned hold', { holdId: hold.id });
        await holds.release(hold.id);
      } else if (hold.phase === 'released' && Date.parse(hold.touchedAt ?? hold.createdAt) < now() - STALLED_RELEASE_MS) {
        await holds.touch(hold.id);
      } else if (hold.phase === 'published' && Date.parse(hold.publishedAt ?? hold.createdAt) < now() - KEEP_PUBLISHED_MS) {
        await holds.forget(hold.id);
      }
    }
    await fanOut?.catchUp();
    const outcome = await regenerator.ensureRendered(DIRECTORY, { lanes: [], force: true, waitMs: 30_000 });
    if (outcome.puts > 0) logger.debug('directory caught up', { ...outcome });
  }
}
