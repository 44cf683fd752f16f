import { loadConfig } from '../lib/config.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';
import { buildRegeneration } from '../lib/regen/build-regeneration.js';

// Triggered by the table's stream (feed revision items only); answers with partial-batch failures.
export const handler = buildRegeneration(loadConfig(), createDocumentClient(), createS3Client()).handler;
