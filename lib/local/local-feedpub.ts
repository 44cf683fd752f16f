import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handle } from 'hono/aws-lambda';
import { hashKey } from '../api/auth.js';
import type { FeedpubConfig } from '../config.js';
import { feedRequests } from '../regen/stream-handler.js';
import { createDocumentClient, createS3Client } from '../store/clients.js';
import { REV_SK } from '../store/table.js';
import { DynamoApiKeyRepository } from '../store/dynamo-api-keys.js';
import { buildApi } from '../api/build-api.js';
import { logger } from '../log.js';
import { buildRegeneration } from '../regen/build-regeneration.js';
import { createHttpFront, type ApiHandler } from './http-front.js';
import { ensureBucket, ensureTable } from './provision.js';
import { StreamPoller, type StreamPollerOptions } from './stream-poller.js';

export interface LocalFeedpubOptions {
  config: FeedpubConfig;
  /** 0 picks a free port. */
  port: number;
  /** Publisher key to accept (its hash is stored, as in AWS). */
  apiKey: string;
  /** Where the stream position survives restarts. */
  checkpointFile?: string;
  /** Retry settings of the stream poller (Lambda's event source mapping in AWS). */
  poller?: Pick<StreamPollerOptions, 'maxAttempts' | 'retryBaseMs' | 'idleMs' | 'batchSize'>;
  /** Wraps the SDK clients, for fault injection in tests. */
  wrapClients?: (clients: { doc: DynamoDBDocumentClient; s3: S3Client }) => { doc: DynamoDBDocumentClient; s3: S3Client };
}

export interface LocalFeedpub {
  url: string;
  stop(): Promise<void>;
  poller: StreamPoller;
  regeneration: ReturnType<typeof buildRegeneration>;
}

/**
 * feedpub on one machine: the same API and regenerate handlers as in Lambda, the same SDK clients, pointed
 * by AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 at the local servers; a stream poller in place of the
 * event source mapping, and one HTTP front in place of API Gateway and CloudFront.
 */
export async function startLocalFeedpub(options: LocalFeedpubOptions): Promise<LocalFeedpub> {
  const { config } = options;
  const dynamo = new DynamoDBClient({});
  const base = { doc: createDocumentClient(dynamo), s3: createS3Client() };
  const streamArn = await ensureTable(dynamo, config.tableName);
  await ensureBucket(base.s3, config.bucketName);
  await new DynamoApiKeyRepository(base.doc, config.tableName).put(hashKey(options.apiKey), 'local');

  const { doc, s3 } = options.wrapClients?.(base) ?? base;
  const api = handle(buildApi(config, doc)) as unknown as ApiHandler;
  const regeneration = buildRegeneration(config, doc, s3);
  const poller = new StreamPoller({
    streams: new DynamoDBStreamsClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB }),
    streamArn,
    handler: regeneration.handler,
    checkpointFile: options.checkpointFile,
    ...options.poller,
    park: async (records, reason) => {
      for (const request of feedRequests({ Records: records })) await regeneration.state.park(request.feedId, request.rev, reason);
    },
  });
  poller.start();
  nudgeOnRevisions(base.doc, poller);
  // The schedule of AWS (once a minute there): completes abandoned batches and catches the directory up.
  const tickMs = config.directoryIntervalMs > 0 ? Math.max(1000, config.directoryIntervalMs / 2) : 30_000;
  const tick = setInterval(() => void regeneration.tick().catch((error: unknown) => logger.warn('tick failed', { error: error as Error })), tickMs);
  tick.unref();

  const server: Server = createHttpFront(api, { endpoint: s3Endpoint(), bucket: config.bucketName });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };

  return {
    url: `http://127.0.0.1:${port}`,
    poller,
    regeneration,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      clearInterval(tick);
      await poller.stop();
      dynamo.destroy();
    },
  };
}

function s3Endpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_S3 must point at the local S3 server');
  return endpoint.replace(/\/+$/, '');
}

/** Wakes the poller when this process commits a write that bumps a revision (what the stream filter passes). */
function nudgeOnRevisions(doc: DynamoDBDocumentClient, poller: StreamPoller): void {
  type Args = { input: { Key?: { SK?: unknown } } };
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const name = context.commandName;
      if (name === 'TransactWriteItemsCommand' || (name === 'UpdateItemCommand' && (args as Args).input.Key?.SK === REV_SK)) poller.nudge();
      return result;
    },
    { step: 'initialize', name: 'nudgeStreamPoller' },
  );
}
