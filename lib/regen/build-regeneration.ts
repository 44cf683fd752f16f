import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../config.js';
import { DynamoFeedStateRepository } from '../store/dynamo-feed-state.js';
import { DynamoHoldRepository } from '../store/dynamo-hold.js';
import { DynamoPostRepository } from '../store/dynamo-posts.js';
import { S3FeedStore } from '../store/s3-feed-store.js';
import { FeedRegenerator } from './feed-regenerator.js';
import { createRegenerateHandler, createTick } from './stream-handler.js';

/** The regeneration side, wired to DynamoDB and S3: what functions/regenerate.ts runs on stream batches. */
export function buildRegeneration(config: FeedpubConfig, doc: DynamoDBDocumentClient, s3: S3Client) {
  const state = new DynamoFeedStateRepository(doc, config.tableName);
  const posts = new DynamoPostRepository(doc, config.tableName);
  const regenerator = new FeedRegenerator({
    posts,
    state,
    feeds: new S3FeedStore(s3, config.bucketName),
    site: config.site,
  });
  const hold = new DynamoHoldRepository(doc, config.tableName);
  return {
    regenerator,
    state,
    hold,
    handler: createRegenerateHandler(regenerator, hold, { directoryIntervalMs: config.directoryIntervalMs }),
    tick: createTick(regenerator, hold, () => posts.completeAbandonedBatches()),
    posts,
  };
}
