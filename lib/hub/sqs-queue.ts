import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { groupOf, laneOf, type HubJob, type HubLane } from './jobs.js';
import type { HubQueue } from './queue.js';

/** Both queues are FIFO: a feed's notifications and a subscription's deliveries must keep their order. */
export type SqsHubQueueUrls = Record<HubLane, string>;

/** SQS's limits on one SendMessageBatch: 10 messages, 256 KB in all (the attributes counted with a margin). */
export const SQS_BATCH_MESSAGES = 10;
export const SQS_BATCH_BYTES = 256 * 1024 - 8 * 1024;

/** SQS deduplication ids: at most 128 characters; a longer job id is hashed. */
const dedupId = (id: string) => (id.length <= 128 ? id : createHash('sha256').update(id).digest('base64url'));

/**
 * The SendMessageBatch entries of some jobs, by lane, in batches SQS takes: the group orders them (MessageGroupId),
 * the job id deduplicates them for five minutes (a fan-out retried sends its deliveries under the same ids).
 */
export function sqsBatches(jobs: HubJob[]): Map<HubLane, SendMessageBatchRequestEntry[][]> {
  const batches = new Map<HubLane, SendMessageBatchRequestEntry[][]>();
  const size = new Map<HubLane, number>();
  for (const job of jobs) {
    const lane = laneOf(job);
    const body = JSON.stringify(job);
    const bytes = Buffer.byteLength(body);
    if (bytes > SQS_BATCH_BYTES) throw new Error(`Hub job ${job.id} is ${bytes} bytes, more than an SQS message takes; its body must travel by reference`);
    const list = batches.get(lane) ?? [];
    let last = list.at(-1);
    if (!last || last.length === SQS_BATCH_MESSAGES || (size.get(lane) ?? 0) + bytes > SQS_BATCH_BYTES) {
      list.push((last = []));
      size.set(lane, 0);
    }
    last.push({ Id: String(last.length), MessageBody: body, MessageGroupId: groupOf(job), MessageDeduplicationId: dedupId(job.id) });
    size.set(lane, size.get(lane)! + bytes);
    batches.set(lane, list);
  }
  return batches;
}

/**
 * The hub's queue in AWS: two FIFO queues, control (verifications, notifications) and delivery, each with a
 * redrive policy to its dead-letter queue (maxReceiveCount = the retry policy's maxAttempts). Consumed by Lambda
 * through createSqsHubHandler. Entries SQS reports failed are sent again, a few times, before `send` throws.
 */
export class SqsHubQueue implements HubQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly urls: SqsHubQueueUrls,
  ) {}

  async send(jobs: HubJob[]): Promise<void> {
    for (const [lane, batches] of sqsBatches(jobs)) {
      for (let entries of batches) {
        for (let attempt = 0; entries.length > 0; attempt++) {
          if (attempt === 3) throw new Error(`SQS refused ${entries.length} hub jobs: ${entries.map((e) => e.MessageDeduplicationId).join(', ')}`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
          const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.urls[lane], Entries: entries }));
          const failed = new Set((out.Failed ?? []).map((f) => f.Id));
          entries = entries.filter((e) => failed.has(e.Id));
        }
      }
    }
  }
}
