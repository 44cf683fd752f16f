import { loadConfig } from '../lib/config.js';
import { PageRenderer, createPagesHandler } from '../lib/regen/pages.js';
import { createS3Client } from '../lib/store/clients.js';
import { S3FeedStore } from '../lib/store/s3-feed-store.js';

const config = loadConfig();

// The pages lane: post items' stream records in, each post's page written from its new image (or deleted).
export const handler = createPagesHandler(new PageRenderer(new S3FeedStore(createS3Client(), config.bucketName), config.site));
