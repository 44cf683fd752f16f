import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

type Command = { input: unknown; constructor: { name: string } };
type Sender = { send(command: Command): Promise<unknown> };

/**
 * Wraps a real SDK client so that `fault(command)` may throw before the call reaches the server. Fault
 * injection only: every call that is not failed goes to the real local server.
 */
export function withFaults<T extends DynamoDBDocumentClient | S3Client>(client: T, fault: (command: Command) => Error | undefined): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: Command) => {
        const error = fault(command);
        if (error) throw error;
        return (target as unknown as Sender).send(command);
      };
    },
  });
}

/** Counts the S3 objects written and deleted through a real client, by key. */
export function countingWrites(s3: S3Client) {
  const puts = new Map<string, number>();
  const deletes = new Map<string, number>();
  const client = withFaults(s3, (command) => {
    const key = (command.input as { Key?: string }).Key;
    if (key && command.constructor.name === 'PutObjectCommand') puts.set(key, (puts.get(key) ?? 0) + 1);
    if (key && command.constructor.name === 'DeleteObjectCommand') deletes.set(key, (deletes.get(key) ?? 0) + 1);
    return undefined;
  });
  return { client, puts, deletes };
}
