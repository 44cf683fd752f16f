import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2WithLambdaAuthorizer, DynamoDBRecord } from 'aws-lambda';
import { ApiKeyVerifier, authorize, KEY_CACHE, type CallerContext } from '../api/auth.js';
import { buildApi } from '../api/build-api.js';
import { lambdaHandler, type ApiHandler } from '../api/lambda-handler.js';
import { localSettings, type FeedpubConfig } from '../config.js';
import { feedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { buildRegeneration, type Regeneration, type RegenerationOptions } from '../regen/build-regeneration.js';
import { isPostRecord } from '../regen/pages.js';
import { feedRequests, isHeldInboxRecord, isHoldRecord, isOpenInboxRecord } from '../regen/stream-handler.js';
import { isSettingsRecord } from '../regen/settings-fan-out.js';
import { createDocumentClient, createS3Client } from '../store/clients.js';
import { DynamoApiKeyRepository } from '../store/dynamo-api-keys.js';
import { DynamoKeyAdmin } from '../store/dynamo-key-admin.js';
import { hashKey } from '../keys/key-format.js';
import { HOLD_PK, INBOX_PREFIX, laneOfInboxKey, META_PK, OPEN_LANE, SITE_SETTINGS_SK } from '../store/table.js';
import { documentHeaders } from '../feeds/document-headers.js';
import { buildHub, hubConfigOf } from '../hub/build-hub.js';
import { LocalHubQueue } from '../hub/local-queue.js';
import type { RetryPolicy } from '../hub/backoff.js';
import { LocalEventSource, type EventSourceOptions } from './event-source.js';
import { createHttpFront, type SlowRead } from './http-front.js';
import { ensureBucket, ensureTable } from './provision.js';

/** Settings of the local event source mappings (Lambda's event source mappings in AWS). */
export type LaneSettings = Pick<EventSourceOptions, 'maxAttempts' | 'retryBaseMs' | 'idleMs' | 'batchSize' | 'parallelization'>;

export interface LocalFeedpubOptions {
  config: FeedpubConfig;
  /** 0 picks a free port. */
  port: number;
  /** The owner's publisher key, unscoped, registered as `local` (its hash is stored, as in AWS). */
  apiKey: string;
  /** Where the stream positions survive restarts. */
  checkpointFile?: string;
  /** Retry and batch settings of both lanes' event source mappings. */
  lanes?: LaneSettings;
  /** Wraps the SDK clients, for fault injection in tests. */
  wrapClients?: (clients: { doc: DynamoDBDocumentClient; s3: S3Client }) => { doc: DynamoDBDocumentClient; s3: S3Client };
  regeneration?: RegenerationOptions;
  /** How often the tick runs (ms); the schedule runs it once a minute in AWS. */
  tickMs?: number;
  /** Where the hub's queue keeps its journals (a temporary directory, removed on stop, when not given). */
  hubDirectory?: string;
  /**
   * Over the configured retry policy of the hub's deliveries. Tests use it: the environment takes whole seconds,
   * as SQS's visibility timeouts in AWS do.
   */
  hubRetry?: Partial<RetryPolicy>;
}

export interface LocalFeedpub {
  url: string;
  /** The hub's local queue (tests wait on it: `drained()`). */
  hubQueue: LocalHubQueue;
  stop(): Promise<void>;
  /** The two lanes: feeds (open writes' inbox items) and background (post pages, held writes, hold releases), each its own consumer of the stream. */
  lanes: { feeds: LocalEventSource; pages: LocalEventSource };
  regeneration: Regeneration;
  /** The reads of the front slower than FEEDPUB_LOCAL_SLOW_MS (1 s by default), the latest 1,000, each with where its time went. */
  slowReads(): SlowRead[];
}

/**
 * feedpub on one machine: the same API and lane handlers as in Lambda, the same SDK clients, pointed by
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 at the local servers; local event source mappings in place of
 * Lambda's, a timer in place of the schedule, and one HTTP front in place of API Gateway and CloudFront.
 */
export async function startLocalFeedpub(options: LocalFeedpubOptions): Promise<LocalFeedpub> {
  const { config } = options;
  const dynamo = new DynamoDBClient({});
  const base = { doc: createDocumentClient(dynamo), s3: createS3Client() };
  const [streamArn] = await Promise.all([ensureTable(dynamo, config.tableName), ensureBucket(base.s3, config.bucketName)]);
  await new DynamoKeyAdmin(base.doc, config.tableName).registerOwner(hashKey(options.apiKey));

  const { doc, s3 } = options.wrapClients?.(base) ?? base;
  // The hub: its queue journaled on disk (SQS in AWS), its workers in this process, every body inline.
  const hubConfig = { ...hubConfigOf(config, { FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: 'true', ...process.env }), inlineBodyMaxBytes: Infinity };
  const hubDirectory = options.hubDirectory ?? mkdtempSync(join(tmpdir(), 'feedpub-hub-'));
  const hubQueue = await LocalHubQueue.open({ directory: hubDirectory, deliveryConcurrency: hubConfig.deliveryConcurrency, retry: { ...hubConfig.retry, ...options.hubRetry } });
  // ensureTable (above) moved the subscriptions of an older layout: none is left in the old partitions.
  const hub = buildHub(config, hubConfig, doc, hubQueue, undefined, { legacyLayout: false });
  hubQueue.start(hub.handler());
  const verifier = new ApiKeyVerifier(new DynamoApiKeyRepository(base.doc, config.tableName), KEY_CACHE.localMs);
  // Releases and released holds' writes render in the pages lane, in this process: live writes' renders go first.
  // So do an import's transactions: DynamoDB Local serves one request at a time, and a live render's six or so
  // requests would each wait behind a 100-action transaction of the import.
  let feedsLane: LocalEventSource | undefined;
  const backgroundYield = async () => feedsLane?.giveWay(BACKGROUND_YIELD_MS);
  const api = withAuthorizer(verifier, lambdaHandler(buildApi(config, doc, { hub, beforeHeldTransaction: backgroundYield })));
  const local = localSettings({ FEEDPUB_LOCAL_RENDER_SLOTS: process.env.FEEDPUB_LOCAL_RENDER_SLOTS, FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS: process.env.FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS, FEEDPUB_LOCAL_SLOW_MS: process.env.FEEDPUB_LOCAL_SLOW_MS });
  const regeneration = buildRegeneration(config, doc, s3, { renderSlots: local.renderSlots, backgroundRenderSlots: local.backgroundRenderSlots, tickSchedules: false, onWritten: hub.announce, backgroundYield, ...options.regeneration });
  const streams = new DynamoDBStreamsClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
  const common = { streams, streamArn, checkpointFile: options.checkpointFile, ...options.lanes };
  const parkFeeds = async (records: DynamoDBRecord[]) => {
    for (const request of feedRequests({ Records: records })) await regeneration.state.park(request.feedId, 'regeneration kept failing');
  };
  const feeds = new LocalEventSource({
    ...common,
    name: 'feeds',
    filter: (record) => isOpenInboxRecord(record) || isSettingsRecord(record),
    handler: regeneration.feedsHandler,
    parallelization: options.lanes?.parallelization ?? 10,
    park: async (records) => {
      await parkFeeds(records);
      if (records.some(isSettingsRecord)) logger.error('telling feeds of the site settings parked; the tick tells them');
    },
  });
  const lanes = {
    feeds,
    pages: new LocalEventSource({
      ...common,
      name: 'pages',
      filter: (record) => isPostRecord(record) || isHeldInboxRecord(record) || isHoldRecord(record),
      handler: regeneration.backgroundHandler,
      parallelization: options.lanes?.parallelization ?? 2,
      // Feeds first: readers wait for them, and locally both lanes share the machine.
      yieldTo: feeds,
      park: async (records) => {
        await parkFeeds(records);
        for (const record of records.filter(isHoldRecord)) logger.error('hold release parked; the tick resumes it', { holdId: record.dynamodb?.Keys?.SK?.S });
        for (const id of new Set(records.filter(isPostRecord).map(postIdOf))) await regeneration.state.park(feedId({ kind: 'post', name: id }), 'post page kept failing');
      },
    }),
  };
  feedsLane = lanes.feeds;
  lanes.feeds.start();
  lanes.pages.start();
  nudgeOnWrites(base.doc, lanes);
  // The schedule of AWS (once a minute there): abandoned holds, stalled releases, the directory.
  const tickMs = options.tickMs ?? config.directoryIntervalMs;
  const tick = setInterval(() => void regeneration.tick().catch((error: unknown) => logger.warn('tick failed', { error: error as Error })), tickMs);
  tick.unref();
  const schedule = loop(SCHEDULE_INTERVAL_MS, () => regeneration.scheduler.run({ lookaheadMs: SCHEDULE_INTERVAL_MS }));

  // Reads slower than FEEDPUB_LOCAL_SLOW_MS: logged, and the latest 1,000 kept for whoever runs the stack.
  const slowReads: SlowRead[] = [];
  const onSlowRead = (read: SlowRead) => {
    logger.warn('slow read', { ...read });
    if (slowReads.push(read) > 1_000) slowReads.shift();
  };
  const origin = { endpoint: s3Endpoint(), bucket: config.bucketName, headersOf: (key: string) => documentHeaders(key, config.site) };
  const server: Server = createHttpFront(api, origin, { slowMs: local.slowMs, onSlowRead });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    hubQueue,
    lanes,
    regeneration,
    slowReads: () => [...slowReads],
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      clearInterval(tick);
      await schedule.stop();
      await Promise.all([lanes.feeds.stop(), lanes.pages.stop()]);
      await hubQueue.stop();
      if (!options.hubDirectory) rmSync(hubDirectory, { recursive: true, force: true });
      dynamo.destroy();
    },
  };
}

/** The longest a background render waits for the feeds lane to be idle (it goes on after it: never starved). */
const BACKGROUND_YIELD_MS = 500;

/** Scheduled posts are looked for this often locally, and published at their dates (a few ms late). */
const SCHEDULE_INTERVAL_MS = 1_000;

/** Runs `work` again `everyMs` after each run ends, until stopped (stop waits for a run in progress). */
function loop(everyMs: number, work: () => Promise<unknown>): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const next = () => {
    timer = setTimeout(() => {
      running = work().catch((error: unknown) => logger.warn('scheduled posts: run failed', { error: error as Error })).finally(() => stopped || next());
    }, everyMs);
    timer.unref();
  };
  next();
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * API Gateway's part, locally: the key is checked (the same code as the Authorize function) and the caller goes
 * into the event as the authorizer's context. A request without a valid key goes on without one, and the API
 * answers 401 (API Gateway answers such requests itself, see README).
 */
function withAuthorizer(verifier: ApiKeyVerifier, api: ApiHandler): ApiHandler {
  return async (event, context) => {
    const answer = await authorize(verifier, event.headers.authorization);
    if (!('context' in answer)) return api(event, context);
    const authorized: APIGatewayProxyEventV2WithLambdaAuthorizer<CallerContext> = { ...event, requestContext: { ...event.requestContext, authorizer: { lambda: answer.context } } };
    return api(authorized, context);
  };
}

const postIdOf = (record: DynamoDBRecord) => record.dynamodb?.Keys?.PK?.S?.slice('POST#'.length) ?? '';

function s3Endpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_S3 must point at the local S3 server');
  return endpoint.replace(/\/+$/, '');
}

/**
 * Wakes a lane when this process commits a write whose stream records that lane takes (`lanesWoken`). The lanes'
 * own writes (a render's record, a lease) carry nothing a lane takes, and wake neither: each wake costs a poll.
 */
function nudgeOnWrites(doc: DynamoDBDocumentClient, lanes: { feeds: LocalEventSource; pages: LocalEventSource }): void {
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const woken = lanesWoken(context.commandName, args.input as WriteInput);
      if (woken.feeds) lanes.feeds.nudge();
      if (woken.pages) lanes.pages.nudge();
      return result;
    },
    { step: 'initialize', name: 'nudgeLanes' },
  );
}

type ItemKey = { PK?: unknown; SK?: unknown };
interface WriteInput {
  Key?: ItemKey;
  Item?: ItemKey;
  TransactItems?: { Put?: { Item?: ItemKey }; Update?: { Key?: ItemKey }; Delete?: { Key?: ItemKey } }[];
}

/**
 * Which lanes' filters pass the stream records of a document-client write: the feeds lane takes open-lane inbox
 * items and the site's settings; the pages lane takes posts, held writes' inbox items and holds. A post's
 * transaction wakes both (its item, its feeds' inbox items), a hold the pages lane, the settings and the inbox
 * items that tell feeds of them the feeds lane.
 */
export function lanesWoken(commandName: string | undefined, input: WriteInput): { feeds: boolean; pages: boolean } {
  const woken = { feeds: false, pages: false };
  const put = (item?: ItemKey) => {
    const sk = String(item?.SK);
    if (sk.startsWith(INBOX_PREFIX)) woken[laneOfInboxKey(sk) === OPEN_LANE ? 'feeds' : 'pages'] = true;
    if (item?.PK === META_PK && item.SK === SITE_SETTINGS_SK) woken.feeds = true;
    change(item);
  };
  const change = (key?: ItemKey) => {
    if (String(key?.PK).startsWith('POST#') || key?.PK === HOLD_PK) woken.pages = true;
  };
  if (commandName === 'TransactWriteItemsCommand') {
    for (const t of input.TransactItems ?? []) {
      put(t.Put?.Item);
      change(t.Update?.Key);
      change(t.Delete?.Key);
    }
  } else if (commandName === 'PutItemCommand') put(input.Item);
  else if (commandName === 'UpdateItemCommand') change(input.Key);
  return woken;
}
