import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../config.js';
import { DynamoFeedArchive } from '../store/dynamo-feed-archive.js';
import { DynamoFeedStateRepository } from '../store/dynamo-feed-state.js';
import { DynamoHoldRepository } from '../store/dynamo-hold.js';
import { DynamoPostRepository } from '../store/dynamo-posts.js';
import { DynamoSiteSettings } from '../store/dynamo-site-settings.js';
import { CachedSiteSource } from '../site/site-source.js';
import { SettingsFanOut } from './settings-fan-out.js';
import { S3FeedStore } from '../store/s3-feed-store.js';
import { FeedRegenerator, type RegeneratorHooks, type WrittenFile } from './feed-regenerator.js';
import type { FeedsHandlerOptions } from './stream-handler.js';
import { Semaphore } from '../concurrency.js';
import { HoldRelease } from './hold-release.js';
import { createPagesHandler, isPostRecord, PageRenderer } from './pages.js';
import { redrive } from './redrive.js';
import { createFeedsHandler, isHeldInboxRecord, isHoldRecord } from './stream-handler.js';
import { Scheduler } from './schedule.js';
import { createTick } from './tick.js';

/**
 * How far ahead the minute tick publishes scheduled posts, each at its date: less than the minute between ticks, so
 * that a tick ends before the next one begins, and with the Lambda timeout (90 s) well above it.
 */
export const TICK_LOOKAHEAD_MS = 45_000;

export interface RegenerationOptions {
  leaseMs?: number;
  /** The feeds lane's renders in flight at once across batches (locally: DynamoDB Local works one request at a time). */
  renderSlots?: number;
  /**
   * The same for the background lane's renders of released holds' writes (renderSlots when not given); not for the
   * release's own renders, which HoldRelease runs 8 feeds at a time.
   */
  backgroundRenderSlots?: number;
  /** Told of each render's new bytes, before it is recorded (the WebSub hub's notifications). */
  onWritten?: (files: WrittenFile[]) => Promise<void>;
  /** False where the scheduler runs on its own loop (locally, every second) rather than in the tick. */
  tickSchedules?: boolean;
  /**
   * Awaited by the pages lane before each render of a feed (a hold's release, a released hold's writes) and of a
   * post page. Locally:
   * waits while the feeds lane is busy, since both lanes share one process; in AWS they are separate functions.
   */
  backgroundYield?: () => Promise<void>;
  /** Test hooks: fault injection between the steps of a render and of a held write's marking. */
  hooks?: RegeneratorHooks & Pick<FeedsHandlerOptions, 'beforeMark'>;
}

/**
 * The regeneration side, wired to DynamoDB and S3: the feeds lane (functions/regenerate.ts), the pages lane
 * (functions/render-pages.ts), the tick and the re-drive, all rendering with the site's stored settings (read at
 * most about once a second).
 */
export function buildRegeneration(config: FeedpubConfig, doc: DynamoDBDocumentClient, s3: S3Client, options: RegenerationOptions = {}) {
  const state = new DynamoFeedStateRepository(doc, config.tableName);
  const posts = new DynamoPostRepository(doc, config.tableName);
  const store = new S3FeedStore(s3, config.bucketName);
  const archive = new DynamoFeedArchive(doc, config.tableName);
  const settings = new DynamoSiteSettings(doc, config.tableName);
  const site = new CachedSiteSource(config.site, settings);
  const regenerator = new FeedRegenerator({ posts, state, archive, feeds: store, site, pageSize: config.archivePageSize, leaseMs: options.leaseMs, hooks: options.hooks, onWritten: options.onWritten });
  const holds = new DynamoHoldRepository(doc, config.tableName);
  const release = new HoldRelease(regenerator, holds, { beforeRender: options.backgroundYield });
  const pages = new PageRenderer(store, site);
  const scheduler = new Scheduler(posts);
  const fanOut = new SettingsFanOut(settings, state);
  // The feeds lane's renders and the pages lane's (held writes) have render slots of their own: a released
  // import's renders never take the slots that a publisher's write waits for.
  const slots = (count: number | undefined) => (count ? { renderSlots: new Semaphore(count) } : {});
  const feedsHandler = createFeedsHandler(regenerator, holds, release, { beforeMark: options.hooks?.beforeMark, fanOut, ...slots(options.renderSlots) });
  const heldHandler = createFeedsHandler(regenerator, holds, release, { beforeMark: options.hooks?.beforeMark, fanOut, beforeRender: options.backgroundYield, ...slots(options.backgroundRenderSlots ?? options.renderSlots) });
  const pagesHandler = createPagesHandler(pages, { beforePage: options.backgroundYield });
  return {
    regenerator,
    state,
    holds,
    posts,
    pages,
    release,
    feedsHandler,
    pagesHandler,
    backgroundHandler: backgroundHandler(heldHandler, pagesHandler),
    scheduler,
    tick: createTick(regenerator, holds, { fanOut, ...(options.tickSchedules === false ? {} : { scheduler, lookaheadMs: TICK_LOOKAHEAD_MS }) }),
    redrive: () => redrive({ state, regenerator, pages, posts, holds }),
  };
}

export type Regeneration = ReturnType<typeof buildRegeneration>;

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

/**
 * The pages lane's handler: post pages, the records of writes an import holds (their feeds marked for the hold,
 * or rendered when it was released meanwhile), and the hold's release. All are background work: in the feeds lane
 * they would stand in front of publishers' writes. Held records would wait, in order per feed, before the next open
 * write of the same feed (the site feed's above all); a release, which renders every feed of an import for up to
 * its budget, would hold up every feed whose partition key the mapping sends to the same one of its parallel
 * batches (ParallelizationFactor 10: a tenth of all feeds, for the whole release). DynamoDB Streams serve two
 * readers per shard well, so the background kinds share the second one.
 */
function backgroundHandler(held: StreamHandler, pages: StreamHandler): StreamHandler {
  const none: DynamoDBBatchResponse = { batchItemFailures: [] };
  return async (event) => {
    const holds = event.Records.filter((record) => isHeldInboxRecord(record) || isHoldRecord(record));
    const posts = event.Records.filter(isPostRecord);
    const [a, b] = await Promise.all([holds.length > 0 ? held({ Records: holds }) : none, posts.length > 0 ? pages({ Records: posts }) : none]);
    return { batchItemFailures: [...a.batchItemFailures, ...b.batchItemFailures] };
  };
}
