import { loadConfig } from '../lib/config.js';
import { buildHub, hubConfigOf, sqsHubQueue } from '../lib/hub/build-hub.js';
import { buildRegeneration } from '../lib/regen/build-regeneration.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';

const config = loadConfig();
const doc = createDocumentClient();
const queue = sqsHubQueue();
const hub = queue ? buildHub(config, hubConfigOf(config), doc, queue) : undefined;
const regeneration = buildRegeneration(config, doc, createS3Client(), hub ? { onWritten: hub.announce } : {});

// The pages lane: post items' stream records in, each post's page written from its new image (or deleted); the
// records of writes an import holds, whose feeds are marked for the hold (or rendered, if it was released meanwhile);
// and hold records: a released hold's release renders every feed it marked.
export const handler = regeneration.backgroundHandler;
