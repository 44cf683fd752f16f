import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface DeadLetters {
  /** Takes every message visible now (hidden from others while the re-drive runs). */
  takeAll(): Promise<{ Id: string; ReceiptHandle: string }[]>;
  /** Deletes what was taken, once the re-drive has brought every feed up to date. */
  remove(messages: { Id: string; ReceiptHandle: string }[]): Promise<void>;
}

/** The regeneration dead-letter queue in AWS. Its messages only say that a batch failed; the table says which feeds are behind. */
export function sqsDeadLetters(sqs: SQSClient, queueUrl: string, visibilityTimeout = 900): DeadLetters {
  return {
    async takeAll() {
      const taken: { Id: string; ReceiptHandle: string }[] = [];
      for (;;) {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: visibilityTimeout, WaitTimeSeconds: 0 }));
        const messages = out.Messages ?? [];
        if (messages.length === 0) return taken;
        taken.push(...messages.map((m, i) => ({ Id: String(taken.length + i), ReceiptHandle: m.ReceiptHandle! })));
      }
    },
    async remove(messages) {
      for (let i = 0; i < messages.length; i += 10) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.slice(i, i + 10) }));
      }
    },
  };
}
