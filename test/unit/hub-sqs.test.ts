import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY } from '../../lib/hub/backoff.js';
import { groupOf, type DeliverJob, type HubJob, type NotifyJob, type SingleTopicNotifyJob, type VerifyJob } from '../../lib/hub/jobs.js';
import { topicGroup } from '../../lib/hub/keys.js';
import { createSqsHubHandler, queueUrlOfArn } from '../../lib/hub/sqs-handler.js';
import { SqsHubQueue, sqsBatches } from '../../lib/hub/sqs-queue.js';

// No AWS here: these check how jobs map to SQS calls and how SQS events map to handler calls, with a fake client
// that records the commands it is sent.
const fakeSqs = (answer: (command: unknown) => unknown = () => ({})) => {
  const commands: unknown[] = [];
  const sqs = { send: async (command: unknown) => (commands.push(command), answer(command)) } as unknown as Pick<SQSClient, 'send'>;
  return { sqs, commands };
};

const verify = (id: string): VerifyJob => ({ kind: 'verify', id, mode: 'subscribe', topic: 'https://n.example/feeds/rss.xml', topicKey: 'feeds/rss.xml', callback: 'https://r.example/cb', leaseSeconds: 60, requestedAt: 0 });
const notify = (id: string, inline = ''): NotifyJob => ({ kind: 'notify', id, feed: 'feeds/', topics: [{ topicKey: 'feeds/rss.xml', contentType: 'text/plain', body: { inline } }], announcedAt: 0 });
const deliver = (id: string, subscriptionId = 'sub-1'): DeliverJob => ({ kind: 'deliver', id, topicKey: 'feeds/rss.xml', contentType: 'text/plain', body: { inline: '' }, announcedAt: 0, subscriptionId, callback: 'https://r.example/cb' });

describe('sqsBatches', () => {
  it('sends verifications and notifications to the control queue and deliveries to the delivery queue, grouped and deduplicated', () => {
    const batches = sqsBatches([verify('v'), notify('n'), deliver('d')]);
    expect(batches.get('control')).toEqual([
      [
        { Id: '0', MessageBody: JSON.stringify(verify('v')), MessageGroupId: groupOf(verify('v')), MessageDeduplicationId: 'v' },
        { Id: '1', MessageBody: JSON.stringify(notify('n')), MessageGroupId: topicGroup('feeds/'), MessageDeduplicationId: 'n' },
      ],
    ]);
    expect(batches.get('delivery')).toEqual([[{ Id: '0', MessageBody: JSON.stringify(deliver('d')), MessageGroupId: 'sub-1', MessageDeduplicationId: 'd' }]]);
  });

  it("orders a feed's notifications in its group, and a single-topic notification of before layout 4 in its topic's", () => {
    const old: SingleTopicNotifyJob = { kind: 'notify', id: 'o', topicKey: 'feeds/tags/x/atom.xml', contentType: 'text/plain', body: { inline: '' }, announcedAt: 0 };
    expect(groupOf(notify('n'))).toBe(topicGroup('feeds/'));
    expect(groupOf(old)).toBe(topicGroup('feeds/tags/x/atom.xml'));
    expect(groupOf(old)).not.toBe(groupOf(notify('n')));
  });

  it('cuts batches at ten messages and at 256 KB', () => {
    expect(sqsBatches(Array.from({ length: 25 }, (_, i) => deliver(`d${i}`))).get('delivery')!.map((b) => b.length)).toEqual([10, 10, 5]);
    const big = 'x'.repeat(100_000);
    expect(sqsBatches([notify('a', big), notify('b', big), notify('c', big)]).get('control')!.map((b) => b.length)).toEqual([2, 1]);
  });

  it('refuses a job larger than a message', () => {
    expect(() => sqsBatches([notify('huge', 'x'.repeat(300_000))])).toThrow(/by reference/);
  });
});

describe('SqsHubQueue', () => {
  it('sends again the entries SQS reports failed', async () => {
    let calls = 0;
    const { sqs, commands } = fakeSqs(() => (calls++ === 0 ? { Failed: [{ Id: '1', SenderFault: false, Code: 'InternalError' }] } : {}));
    await new SqsHubQueue(sqs, { control: 'https://q/control.fifo', delivery: 'https://q/delivery.fifo' }).send([deliver('d0'), deliver('d1')]);
    const sent = commands.map((c) => (c as SendMessageBatchCommand).input);
    expect(sent.map((input) => [input.QueueUrl, input.Entries!.map((e) => e.MessageDeduplicationId)])).toEqual([
      ['https://q/delivery.fifo', ['d0', 'd1']],
      ['https://q/delivery.fifo', ['d1']],
    ]);
  });
});

describe('createSqsHubHandler', () => {
  const ARN = 'arn:aws:sqs:eu-west-1:123456789012:feedpub-hub-delivery.fifo';
  const record = (job: HubJob, receiveCount = 1, body = JSON.stringify(job)): SQSRecord => ({
    messageId: `m-${job.id}`,
    receiptHandle: `r-${job.id}`,
    body,
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '1700000000000', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1700000000001', MessageGroupId: groupOf(job) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: ARN,
    awsRegion: 'eu-west-1',
  });
  const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

  it('derives the queue URL from the event source ARN', () => {
    expect(queueUrlOfArn(ARN)).toBe('https://sqs.eu-west-1.amazonaws.com/123456789012/feedpub-hub-delivery.fifo');
  });

  it("reports a group's failed message and every later one of its group, unhandled; other groups go on", async () => {
    const { sqs } = fakeSqs();
    const handled: string[] = [];
    const handle = createSqsHubHandler(async (job) => {
      handled.push(job.id);
      if (job.id === 'a2') throw new Error('503');
    }, { sqs, retry: DEFAULT_RETRY });
    const result = await handle(event(record(deliver('a1', 'A')), record(deliver('a2', 'A')), record(deliver('b1', 'B')), record(deliver('a3', 'A'))));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-a2' }, { itemIdentifier: 'm-a3' }]);
    expect(handled.sort()).toEqual(['a1', 'a2', 'b1']);
  });

  it("hides the untried later messages of a failed message's group for the same backoff, not the queue's timeout", async () => {
    const { sqs, commands } = fakeSqs();
    const handle = createSqsHubHandler(async (job) => {
      if (job.id === 'a2') throw new Error('503');
    }, { sqs, retry: DEFAULT_RETRY });
    await handle(event(record(deliver('a1', 'A')), record(deliver('a2', 'A'), 3), record(deliver('a3', 'A'), 3)));
    expect(commands.map((c) => (c as ChangeMessageVisibilityCommand).input).map((i) => [i.ReceiptHandle, i.VisibilityTimeout])).toEqual([
      ['r-a2', 40],
      ['r-a3', 40],
    ]);
  });

  it('hides a failed message for the backoff of its attempt, and passes the attempt and send time to the handler', async () => {
    const { sqs, commands } = fakeSqs();
    const seen: unknown[] = [];
    const handle = createSqsHubHandler(async (_job, meta) => {
      seen.push(meta);
      throw new Error('timeout');
    }, { sqs, retry: DEFAULT_RETRY });
    await handle(event(record(deliver('x'), 3)));
    expect(seen).toEqual([{ attempt: 3, sentAt: 1700000000000 }]);
    expect(commands.map((c) => (c as ChangeMessageVisibilityCommand).input)).toEqual([
      { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/feedpub-hub-delivery.fifo', ReceiptHandle: 'r-x', VisibilityTimeout: 40 },
    ]);
  });

  it('makes a message that failed its last attempt visible at once, for the redrive policy to dead-letter it', async () => {
    const { sqs, commands } = fakeSqs();
    const handle = createSqsHubHandler(async () => {
      throw new Error('down');
    }, { sqs, retry: DEFAULT_RETRY });
    await handle(event(record(deliver('x'), 12)));
    expect((commands[0] as ChangeMessageVisibilityCommand).input.VisibilityTimeout).toBe(0);
  });

  it('reports a message it cannot read as failed', async () => {
    const { sqs } = fakeSqs();
    const handle = createSqsHubHandler(async () => undefined, { sqs, retry: DEFAULT_RETRY });
    expect((await handle(event(record(deliver('bad'), 1, '{not json')))).batchItemFailures).toEqual([{ itemIdentifier: 'm-bad' }]);
  });
});
