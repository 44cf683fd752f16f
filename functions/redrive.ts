import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig } from '../lib/config.js';
import { buildHub, hubConfigOf, sqsHubQueue } from '../lib/hub/build-hub.js';
import { logger } from '../lib/log.js';
import { buildRegeneration } from '../lib/regen/build-regeneration.js';
import { sqsDeadLetters } from '../lib/regen/dead-letters.js';
import { createDocumentClient, createS3Client } from '../lib/store/clients.js';

const config = loadConfig();
const doc = createDocumentClient();
const queue = sqsHubQueue();
// What a re-drive renders is announced to subscribers like any render.
const hub = queue ? buildHub(config, hubConfigOf(config), doc, queue) : undefined;
const regeneration = buildRegeneration(config, doc, createS3Client(), hub ? { onWritten: hub.announce } : {});
const deadLetters = process.env.FEEDPUB_DEAD_LETTER_QUEUE_URL ? sqsDeadLetters(new SQSClient({}), process.env.FEEDPUB_DEAD_LETTER_QUEUE_URL) : undefined;

// The operator's re-drive (`aws lambda invoke --function-name <RedriveFunction>`): regenerates every feed with
// writes in its inbox and every parked document, then deletes the dead letters it saw, if everything caught up.
export const handler = async () => {
  const taken = (await deadLetters?.takeAll()) ?? [];
  const report = await regeneration.redrive();
  if (report.failed.length === 0) await deadLetters?.remove(taken);
  logger.info('re-drive finished', { regenerated: report.regenerated.length, failed: report.failed.length, deadLetters: taken.length });
  return { ...report, deadLettersCleared: report.failed.length === 0 ? taken.length : 0 };
};
