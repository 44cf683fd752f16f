import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';

type Command = { input: unknown; constructor: { name: string } };
type Sender = { send(command: Command): Promise<unknown> };

/** Wraps a real SDK client's send: `before` may fail a call before it leaves; `after` sees calls that succeeded. */
function interceptSend<T extends DynamoDBDocumentClient | S3Client>(
  client: T,
  { before, after }: { before?: (command: Command) => Error | undefined; after?: (command: Command) => void },
): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (command: Command) => {
        const error = before?.(command);
        if (error) throw error;
        const result = await (target as unknown as Sender).send(command);
        after?.(command);
        return result;
      };
    },
  });
}

/**
 * Wraps a real SDK client so that `fault(command)` may throw before the call reaches the server. Fault
 * injection only: every call that is not failed goes to the real local server.
 */
export function withFaults<T extends DynamoDBDocumentClient | S3Client>(client: T, fault: (command: Command) => Error | undefined): T {
  return interceptSend(client, { before: fault });
}

/** Counts the S3 objects written and deleted through a real client, by key, once S3 has confirmed them. */
export function countingWrites(s3: S3Client) {
  const puts = new Map<string, number>();
  const deletes = new Map<string, number>();
  const client = interceptSend(s3, {
    after: (command) => {
      const key = (command.input as { Key?: string }).Key;
      if (key && command.constructor.name === 'PutObjectCommand') puts.set(key, (puts.get(key) ?? 0) + 1);
      if (key && command.constructor.name === 'DeleteObjectCommand') deletes.set(key, (deletes.get(key) ?? 0) + 1);
    },
  });
  return { client, puts, deletes };
}

export interface FaultSwitch {
  /** Probability that a call fails while on. */
  rate: number;
  on: boolean;
  /** Calls that always fail while it returns true (a persistent fault), on or off. */
  always?: (input: Record<string, unknown>, command: string) => boolean;
  injected: number;
}

type Stack = { middlewareStack: { add(mw: unknown, options: { step: string; name: string }): void } };

/**
 * Injects failures inside the SDK's middleware stack, below its retry strategy: like real faults, a call may
 * fail and be retried by the SDK, or fail for good. Half are throttling errors, half 503s.
 */
export function injectFaults<T extends DynamoDBDocumentClient | S3Client>(client: T, faults: FaultSwitch, random = Math.random): T {
  (client as unknown as Stack).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const persistent = faults.always?.(args.input, context.commandName ?? '');
      if (persistent || (faults.on && random() < faults.rate)) {
        faults.injected++;
        const throttle = !persistent && random() < 0.5;
        throw Object.assign(new Error(throttle ? 'Rate exceeded (injected)' : 'Service unavailable (injected)'), {
          name: throttle ? 'ThrottlingException' : 'ServiceUnavailable',
          $fault: 'server',
          $metadata: { httpStatusCode: throttle ? 400 : 503 },
          ...(throttle ? { $retryable: { throttling: true } } : {}),
        });
      }
      return next(args);
    },
    { step: 'deserialize', name: 'feedpubFaultInjection' },
  );
  return client;
}

/** A gate: calls wait at it until it is opened; `reached` resolves when the first one arrives. */
export class Gate {
  private open_!: () => void;
  private reach!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open_ = resolve));
  readonly reached = new Promise<void>((resolve) => (this.reach = resolve));
  arrived = 0;

  /** Waits until the gate is opened. */
  async pass(): Promise<void> {
    this.arrived++;
    this.reach();
    await this.opened;
  }

  open(): void {
    this.open_();
  }
}

/** Wraps a real SDK client so that the calls `match` picks wait at `gate` before they are sent. */
export function gateCalls<T extends DynamoDBDocumentClient | S3Client>(client: T, gate: Gate, match: (command: Command) => boolean): T {
  return pauseCalls(client, () => gate, match);
}

/**
 * Wraps a real SDK client so that, while `armed()` returns a gate, the calls `match` picks wait at that gate before
 * they are sent (a test arms it for one phase, then another gate for the next).
 */
export function pauseCalls<T extends { send(...args: never[]): Promise<unknown> }>(client: T, armed: () => Gate | undefined, match: (command: Command) => boolean): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (...args: never[]) => {
        const gate = armed();
        if (gate && match(args[0] as unknown as Command)) await gate.pass();
        return target.send(...args);
      };
    },
  });
}

/** A render's read of the posts its inbox names (`posts.current`, a BatchGet of POST items) that names this post. */
export const readsPost = (postId: string) => (command: Command) =>
  command.constructor.name === 'BatchGetCommand' && JSON.stringify(command.input).includes(`"PK":"POST#${postId}"`);

