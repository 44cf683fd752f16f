import { Duration, Fn, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_RETRY, retrySchedule } from '../../lib/hub/backoff.js';
import { HUB_QUEUE_ENV } from '../../lib/hub/build-hub.js';
import { HOST_PREFIX, SUBSCRIPTION_PREFIX, hubKeys } from '../../lib/hub/keys.js';
import { FeedpubFunction } from '../feedpub-function.js';

export interface HubProps {
  table: ITable;
  /** Name of the export that holds the feeds bucket's ARN. */
  bucketArnExport: string;
  environment: Record<string, string>;
}

/**
 * A batch is at most 10 messages (the most a FIFO event source takes). Its worst case is 10 deliveries of one
 * subscription, one after another, each taking the whole request timeout (FEEDPUB_HUB_TIMEOUT, 10 s by default; a
 * longer one wants a longer function timeout): 100 s.
 */
const FUNCTION_TIMEOUT = Duration.minutes(2);
/**
 * Lambda needs at least the function timeout and advises six times it (a batch returned by a throttled invocation
 * is not received again too soon); the handler hides a failed job for up to `maxDelayMs` (15 min) by
 * ChangeMessageVisibility, and where that call fails the job comes back after this instead, never sooner than its
 * backoff would have made it, so 12 receives still span hours, not minutes. The jobs of the failed job's group that
 * the handler left unhandled come back after this too (the group is held until then).
 */
const VISIBILITY_TIMEOUT = Duration.seconds(Math.max(6 * FUNCTION_TIMEOUT.toSeconds(), DEFAULT_RETRY.maxDelayMs / 1000));
/** A job is given up after its last backoff, about 81 minutes after its first failure (lib/hub/backoff.ts). */
export const HUB_RETRY_SPAN = Duration.millis(retrySchedule(DEFAULT_RETRY).reduce((sum, wait) => sum + wait, 0));

/** The partitions of the hub's items (lib/hub/keys.ts): conditions that keep a grant to them. */
const onlyPartitions = (...prefixes: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) } });
const VERIFICATION_CLAIMS = hubKeys.verificationClaim('').PK;

/**
 * The WebSub hub in AWS (lib/hub/README.md): two FIFO queues, control (verifications and notifications) and
 * delivery (one message per subscriber and version), each with a FIFO dead-letter queue, and the Hub function that
 * consumes both. Job ids are the deduplication ids (no content-based deduplication); a group keeps its order
 * (a feed's notifications, a subscription's deliveries).
 */
export class Hub extends Construct {
  readonly fn: FeedpubFunction;
  readonly control: Queue;
  readonly delivery: Queue;
  readonly controlDeadLetters: Queue;
  readonly deliveryDeadLetters: Queue;
  /** The queue URLs every function that builds the hub reads (lib/hub/build-hub.ts). */
  readonly queueEnvironment: Record<string, string>;

  private readonly table: ITable;

  constructor(scope: Construct, id: string, { table, bucketArnExport, environment }: HubProps) {
    super(scope, id);
    this.table = table;
    const fifo = (queueId: string, deadLetterQueue?: Queue) =>
      new Queue(this, queueId, {
        fifo: true,
        contentBasedDeduplication: false,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...(deadLetterQueue
          ? {
              // Over the whole retry span with days to spare, so a job is dead-lettered by its receives, never dropped by age.
              retentionPeriod: Duration.days(4),
              visibilityTimeout: VISIBILITY_TIMEOUT,
              // One receive per attempt: the dead-letter queue takes a job after the retry policy's last attempt.
              deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: DEFAULT_RETRY.maxAttempts },
            }
          : { retentionPeriod: Duration.days(14) }),
      });
    this.controlDeadLetters = fifo('ControlDeadLetters');
    this.deliveryDeadLetters = fifo('DeliveryDeadLetters');
    for (const queue of [this.controlDeadLetters, this.deliveryDeadLetters]) {
      Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is a dead-letter destination itself.' });
    }
    this.control = fifo('Control', this.controlDeadLetters);
    this.delivery = fifo('Delivery', this.deliveryDeadLetters);
    this.queueEnvironment = { [HUB_QUEUE_ENV.control]: this.control.queueUrl, [HUB_QUEUE_ENV.delivery]: this.delivery.queueUrl };

    this.fn = new FeedpubFunction(this, 'Hub', {
      entry: 'hub',
      description: 'feedpub WebSub hub: verifications, notifications and deliveries from its two queues',
      environment: { ...environment, ...this.queueEnvironment },
      memorySize: 512,
      timeout: FUNCTION_TIMEOUT,
    });
    // Control: verifications (one GET each) and fan-outs (a Query, then SendMessageBatch), quick and few; ten at
    // once serve dozens of topics per burst, and a flood of POST /hub never takes more than ten instances.
    this.fn.fn.addEventSource(new SqsEventSource(this.control, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 10 }));
    // Delivery: one POST per message, waiting on subscribers. Batches of 10, groups side by side within a batch
    // (the handler runs 16 at once), give up to 500 deliveries in flight: a burst to 100 subscribers in one round.
    // Capped so that slow or dead subscribers cannot take the account's concurrency from the API and the renders.
    this.fn.fn.addEventSource(new SqsEventSource(this.delivery, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: 50 }));
    // The event sources grant receive, delete and ChangeMessageVisibility (the backoff); the hub also sends: a
    // verification's outcome to store again (control), a fan-out's deliveries (delivery).
    this.fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.control.queueArn, this.delivery.queueArn] }));
    // Its items only: subscriptions (read, listed, updated, removed), their twins by host (written and removed with
    // them in one transaction), and verification claims (a conditional put).
    this.fn.fn.addToRolePolicy(this.items(['GetItem', 'Query', 'UpdateItem', 'DeleteItem'], SUBSCRIPTION_PREFIX));
    this.fn.fn.addToRolePolicy(this.items(['PutItem', 'DeleteItem'], HOST_PREFIX));
    this.fn.fn.addToRolePolicy(this.items(['PutItem'], VERIFICATION_CLAIMS));
    // Deliveries of large documents carry an S3 key and VersionId (exactly the bytes of that render).
    const feedObjects = `${Fn.importValue(bucketArnExport)}/feeds/*`;
    this.fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObjectVersion'], resources: [feedObjects] }));
    Validations.of(this.fn).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArnExport}/feeds/*]`,
      reason: 'Feeds live under feeds/ with keys made from category and tag names, unknown in advance.',
    });
  }

  /**
   * A function that serves `POST /hub` (lib/hub/accept-request.ts): it reads the subscription, counts the topic's
   * and the host's (Query, COUNT), then queues the verification on the control queue.
   */
  attachAcceptor(fn: LambdaFunction) {
    this.attachAnnouncer(fn);
    fn.addToRolePolicy(this.items(['GetItem', 'Query'], SUBSCRIPTION_PREFIX));
    fn.addToRolePolicy(this.items(['Query'], HOST_PREFIX));
  }

  /**
   * A function that sends jobs to the control queue, and to no other: the queue URLs (lib/hub/build-hub.ts needs
   * both to build the hub) and sqs:SendMessage on the control queue; deployed after the hub function.
   */
  attachAnnouncer(fn: LambdaFunction) {
    for (const [name, value] of Object.entries(this.queueEnvironment)) fn.addEnvironment(name, value);
    // Updated after the hub function: a job of a new shape (as a feed's notification of layout 4) never reaches a hub
    // of the version before, which would take it for done.
    fn.node.addDependency(this.fn.fn);
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.control.queueArn] }));
  }

  /** Item actions on the table, restricted to partitions that start with one of `prefixes`. */
  private items(actions: string[], ...prefixes: string[]) {
    return new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [this.table.tableArn], conditions: onlyPartitions(...prefixes) });
  }
}
