import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { mapSettled } from '../concurrency.js';
import { logger } from '../log.js';
import { retryDelayMs, type RetryPolicy } from './backoff.js';
import type { HubJob } from './jobs.js';
import type { JobHandler } from './queue.js';

export interface SqsHubHandlerOptions {
  sqs: Pick<SQSClient, 'send'>;
  /** Must agree with the queues: maxReceiveCount of their redrive policy = maxAttempts. */
  retry: RetryPolicy;
  /** FIFO groups handled at once within a batch. */
  concurrency?: number;
  /** The queue URL of an event source ARN; derived for the standard AWS partition by default. */
  queueUrlOf?: (arn: string) => string;
}

/** arn:aws:sqs:<region>:<account>:<name> -> https://sqs.<region>.amazonaws.com/<account>/<name> */
export function queueUrlOfArn(arn: string): string {
  const [, , , region, account, name] = arn.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

/** The groups of a batch, each in the order SQS gave (a FIFO queue gives a group's messages in order). */
export function recordGroups(records: SQSRecord[]): SQSRecord[][] {
  const groups = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const key = record.attributes.MessageGroupId ?? record.messageId;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()];
}

/**
 * The Lambda handler of a hub queue (SQS event source with ReportBatchItemFailures). Groups run side by side, a
 * group's messages in order; at the first failure of a group, that message and every later one of its group are
 * reported failed, unhandled, so the group keeps its order. The failed message is hidden for the backoff
 * (ChangeMessageVisibility); its group waits behind it, as FIFO queues hold a group while a message is in flight.
 * After maxAttempts receives the redrive policy moves it to the dead-letter queue.
 */
export function createSqsHubHandler(handler: JobHandler, options: SqsHubHandlerOptions) {
  const urlOf = options.queueUrlOf ?? queueUrlOfArn;
  /**
   * A failed job and the later ones of its group in the batch (returned untried, to keep the group's order) come back
   * together after the failed one's backoff, not after the queue's visibility timeout.
   */
  const backoff = async (records: SQSRecord[], attempt: number) => {
    // At its last attempt, visible at once: its next receive moves it to the dead-letter queue.
    const seconds = attempt >= options.retry.maxAttempts ? 0 : Math.ceil(retryDelayMs(attempt, options.retry) / 1000);
    await Promise.all(
      records.map((record) =>
        options.sqs
          .send(new ChangeMessageVisibilityCommand({ QueueUrl: urlOf(record.eventSourceARN), ReceiptHandle: record.receiptHandle, VisibilityTimeout: Math.min(seconds, 43_200) }))
          .catch((error: unknown) => logger.warn('hub job backoff not set: it returns after the queue visibility timeout', { messageId: record.messageId, error: error as Error })),
      ),
    );
  };

  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failed: string[] = [];
    await mapSettled(recordGroups(event.Records), options.concurrency ?? 16, async (records) => {
      for (const [i, record] of records.entries()) {
        const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
        try {
          await handler(JSON.parse(record.body) as HubJob, { attempt, sentAt: Number(record.attributes.SentTimestamp) });
        } catch (error) {
          logger.warn('hub job failed', { messageId: record.messageId, attempt, error: error as Error });
          failed.push(...records.slice(i).map((r) => r.messageId));
          await backoff(records.slice(i), attempt);
          return;
        }
      }
    });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
