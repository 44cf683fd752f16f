import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createApp } from './api/app.js';
import { ApiKeyVerifier } from './api/auth.js';
import type { FeedpubConfig } from './config.js';
import { PostService } from './posts/post-service.js';
import { FeedRegenerator } from './regen/feed-regenerator.js';
import { createRegenerateHandler } from './regen/stream-handler.js';
import { DynamoApiKeyRepository } from './store/dynamo-api-keys.js';
import { DynamoFeedStateRepository } from './store/dynamo-feed-state.js';
import { DynamoPostRepository } from './store/dynamo-posts.js';
import { S3FeedStore } from './store/s3-feed-store.js';

/** The publisher API, wired to DynamoDB: what functions/api.ts serves and the local runner calls. */
export function buildApi(config: FeedpubConfig, doc: DynamoDBDocumentClient) {
  const posts = new PostService(new DynamoPostRepository(doc, config.tableName), config.site);
  const keys = new ApiKeyVerifier(new DynamoApiKeyRepository(doc, config.tableName));
  return createApp({ posts, keys, site: config.site });
}

/** The regeneration side, wired to DynamoDB and S3: what functions/regenerate.ts runs on stream batches. */
export function buildRegeneration(config: FeedpubConfig, doc: DynamoDBDocumentClient, s3: S3Client) {
  const state = new DynamoFeedStateRepository(doc, config.tableName);
  const regenerator = new FeedRegenerator({
    posts: new DynamoPostRepository(doc, config.tableName),
    state,
    feeds: new S3FeedStore(s3, config.bucketName),
    site: config.site,
  });
  return { regenerator, state, handler: createRegenerateHandler(regenerator) };
}
