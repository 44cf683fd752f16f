import type { DynamoDBStreamEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config.js';
import { buildHub, hubConfigOf, sqsHubQueue } from '../lib/hub/build-hub.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';
import { buildRegeneration } from '../lib/regen/build-regeneration.js';

const config = loadConfig();
const doc = createDocumentClient();
const queue = sqsHubQueue();
const hub = queue ? buildHub(config, hubConfigOf(config), doc, queue) : undefined;
const regeneration = buildRegeneration(config, doc, createS3Client(), hub ? { onWritten: hub.announce } : {});

// The feeds lane: the table's stream (open writes' inbox items and settings changes only), answering with partial-batch failures;
// and once a minute the schedule's tick (scheduled posts due within 45 s, abandoned holds, the directory).
export const handler = async (event: DynamoDBStreamEvent | { source?: string }) =>
  'Records' in event ? regeneration.feedsHandler(event) : regeneration.tick();
