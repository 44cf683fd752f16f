import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../lib/config.js';
import { buildHub, hubConfigOf, sqsHubQueue } from '../lib/hub/build-hub.js';
import { createSqsHubHandler } from '../lib/hub/sqs-handler.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';

const config = loadConfig();
const hubConfig = hubConfigOf(config);
const queue = sqsHubQueue();
if (!queue) throw new Error('The hub function needs FEEDPUB_HUB_CONTROL_QUEUE_URL and FEEDPUB_HUB_DELIVERY_QUEUE_URL');
const hub = buildHub(config, hubConfig, createDocumentClient(), queue, { s3: createS3Client() });

// Both hub queues (control: verifications and notifications; delivery: one POST per subscriber and version).
export const handler = createSqsHubHandler(hub.handler(), { sqs: new SQSClient({}), retry: hubConfig.retry });
