import type { DynamoDBStreamEvent } from 'aws-lambda';
import { loadConfig } from '../lib/config.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';
import { buildRegeneration } from '../lib/regen/build-regeneration.js';

const regeneration = buildRegeneration(loadConfig(), createDocumentClient(), createS3Client());

// Triggered by the table's stream (feed revision items only), answering with partial-batch failures; and once a
// minute by a schedule, which brings the directory up to date.
export const handler = async (event: DynamoDBStreamEvent | { source?: string }) =>
  'Records' in event ? regeneration.handler(event) : regeneration.tick();
