import { loadConfig } from '../lib/config.js';
import { PageRenderer, createPagesHandler } from '../lib/regen/pages.js';
import { CachedSiteSource } from '../lib/site/site-source.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';
import { DynamoSiteSettings } from '../lib/store/dynamo-site-settings.js';
import { S3FeedStore } from '../lib/store/s3-feed-store.js';

const config = loadConfig();
// The site's stored settings, read at most about once a second: the one item of the table this lane reads.
const site = new CachedSiteSource(config.site, new DynamoSiteSettings(createDocumentClient(), config.tableName));

// The pages lane: post items' stream records in, each post's page written from its new image (or deleted).
export const handler = createPagesHandler(new PageRenderer(new S3FeedStore(createS3Client(), config.bucketName), site));
