import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../config.js';
import { PostService } from '../posts/post-service.js';
import { DynamoApiKeyRepository } from '../store/dynamo-api-keys.js';
import { DynamoHoldRepository } from '../store/dynamo-hold.js';
import { DynamoPostRepository } from '../store/dynamo-posts.js';
import { FeedVisibility } from '../store/dynamo-visibility.js';
import type { Hub } from '../hub/build-hub.js';
import { createApp } from './app.js';
import { ApiKeyVerifier } from './auth.js';

/** The publisher API, wired to DynamoDB: what functions/api.ts serves and the local runner calls. */
export function buildApi(config: FeedpubConfig, doc: DynamoDBDocumentClient, { hub }: { hub?: Pick<Hub, 'accept'> } = {}) {
  const holds = new DynamoHoldRepository(doc, config.tableName);
  const posts = new PostService(new DynamoPostRepository(doc, config.tableName, 5_000, holds), config.site);
  const keys = new ApiKeyVerifier(new DynamoApiKeyRepository(doc, config.tableName));
  return createApp({ posts, keys, site: config.site, holds, visibility: new FeedVisibility(doc, config.tableName), ...(hub ? { hub } : {}) });
}
