import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../config.js';
import { PostService } from '../posts/post-service.js';
import { DynamoHoldRepository } from '../store/dynamo-hold.js';
import { DynamoPostRepository } from '../store/dynamo-posts.js';
import { DynamoSiteSettings } from '../store/dynamo-site-settings.js';
import { SiteSettingsService } from '../site/settings-service.js';
import { CachedSiteSource } from '../site/site-source.js';
import { FeedVisibility } from '../store/dynamo-visibility.js';
import type { Hub } from '../hub/build-hub.js';
import { createApp } from './app.js';

/**
 * The publisher API, wired to DynamoDB: what functions/api.ts serves and the local runner calls. It reads no key:
 * the caller comes checked, in the event (functions/authorize.ts in AWS, the local front locally).
 */
export function buildApi(config: FeedpubConfig, doc: DynamoDBDocumentClient, { hub, beforeHeldTransaction }: { hub?: Pick<Hub, 'accept'>; beforeHeldTransaction?: () => Promise<void> } = {}) {
  const holds = new DynamoHoldRepository(doc, config.tableName);
  const posts = new PostService(new DynamoPostRepository(doc, config.tableName, 5_000, holds, beforeHeldTransaction), config.site);
  const store = new DynamoSiteSettings(doc, config.tableName);
  const settings = new SiteSettingsService(store, new CachedSiteSource(config.site, store), config.site);
  return createApp({ posts, site: config.site, settings, holds, visibility: new FeedVisibility(doc, config.tableName), ...(hub ? { hub } : {}) });
}
