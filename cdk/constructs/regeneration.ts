import { Duration, Fn, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DIRECTORY_INDEX, HELD_INBOX_PREFIX, HOLD_PK, META_PK, OPEN_INBOX_PREFIX, POST_SK, SITE_SETTINGS_SK } from '../../lib/store/table.js';
import { FeedpubFunction } from '../feedpub-function.js';
import { denyKeyItems, tableActions } from './grants.js';

export interface RegenerationProps {
  table: ITable;
  /** Name of the export that holds the bucket's ARN. */
  bucketArnExport: string;
  environment: Record<string, string>;
}

/**
 * The two lanes that turn writes into documents, each its own consumer of the table's stream, so that post pages
 * and imports never hold up feeds: the feeds lane (open writes' inbox items; the Regenerate function, also run once
 * a minute by a schedule) and the pages lane (post items, held writes' inbox items and hold releases; the
 * RenderPages function). Both report partial-batch
 * failures, retry, and send what keeps failing to one dead-letter queue, which the Redrive function clears.
 *
 * Two consumers is what DynamoDB Streams recommends at most per shard. ParallelizationFactor 10 lets up to ten
 * batches of one shard run at once while Lambda keeps each partition key's records in order and in one batch at
 * a time: a feed's inbox items share its partition key, so one feed is rendered by one invocation at a time,
 * while ten other feeds render beside it. A batch covers every write of its records (a render reads the whole
 * inbox), so a backlog of one feed is at most one batch long.
 */
export class Regeneration extends Construct {
  readonly regenerate: FeedpubFunction;
  readonly renderPages: FeedpubFunction;
  readonly redrive: FeedpubFunction;
  readonly deadLetters: Queue;

  constructor(scope: Construct, id: string, props: RegenerationProps) {
    super(scope, id);
    const { table, environment } = props;
    const directoryIndex = `${table.tableArn}/index/${DIRECTORY_INDEX.name}`;
    // The bucket ARN through a named export, so that the acknowledgements below can name the exact resources.
    const bucketArn = Fn.importValue(props.bucketArnExport);
    const feedObjects = `${bucketArn}/feeds/*`;
    const postPages = `${bucketArn}/posts/*`;
    // The home page is the site feed's page, written with the site feed at the root (the distribution's default root object).
    const homePage = `${bucketArn}/index.html`;

    this.deadLetters = new Queue(this, 'DeadLetters', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.deadLetters).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter destination itself.' });
    const stream = { startingPosition: StartingPosition.TRIM_HORIZON, batchSize: 100, parallelizationFactor: 10, retryAttempts: 10, maxRecordAge: Duration.hours(6), reportBatchItemFailures: true, onFailure: new SqsDlq(this.deadLetters) };

    /** What a function that renders feeds may do: lease, render state, inbox reads and deletes, hold marks, the directory. */
    const renderFeeds = (fn: FeedpubFunction) => {
      fn.fn.addToRolePolicy(tableActions(table, 'GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchGetItem'));
      fn.fn.addToRolePolicy(denyKeyItems(table));
      fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [directoryIndex] }));
      // PutObject conditioned on the last ETag (fencing); GetObject for the HEAD that reads an ETag after a 412.
      fn.fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [feedObjects, homePage] }));
    };

    this.regenerate = new FeedpubFunction(this, 'Regenerate', { entry: 'regenerate', description: 'feedpub feeds lane (table stream) and minute tick', environment, timeout: Duration.seconds(90) });
    renderFeeds(this.regenerate);
    // Open writes' inbox items (and changes of the site's settings): nothing of an import stands in front of a publisher's write.
    this.regenerate.fn.addEventSource(
      new DynamoEventSource(table, {
        ...stream,
        filters: [
          FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT'), dynamodb: { Keys: { SK: { S: FilterRule.beginsWith(OPEN_INBOX_PREFIX) } } } }),
          // A change of the site's settings: every feed is told of it (lib/regen/settings-fan-out.ts).
          FilterCriteria.filter({ eventName: FilterRule.or('INSERT', 'MODIFY'), dynamodb: { Keys: { PK: { S: FilterRule.isEqual(META_PK) }, SK: { S: FilterRule.isEqual(SITE_SETTINGS_SK) } } } }),
        ],
      }),
    );
    new Rule(this, 'Tick', {
      description: 'feedpub: abandoned holds, and the directory of feeds (feeds/index.html, its pages, feeds/opml.xml) brought up to date',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.regenerate.fn, { retryAttempts: 0 })],
    });

    // Post pages, the writes an import holds (their feeds marked for the hold, or rendered once it is released), and
    // the hold's release, which renders every feed it marked: in the feeds lane, it would hold up every feed that
    // the mapping sends to the same one of its ten parallel batches, for the whole release.
    this.renderPages = new FeedpubFunction(this, 'RenderPages', { entry: 'render-pages', description: 'feedpub pages lane: post pages, held writes, hold releases', environment, timeout: Duration.seconds(90) });
    renderFeeds(this.renderPages);
    this.renderPages.fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject'], resources: [postPages] }));
    // The held writes' records mark their feeds for the hold, 25 to a BatchWriteItem (lib/store/dynamo-hold.ts).
    this.renderPages.fn.addToRolePolicy(tableActions(table, 'BatchWriteItem'));
    this.renderPages.fn.addEventSource(
      new DynamoEventSource(table, {
        ...stream,
        filters: [
          FilterCriteria.filter({ dynamodb: { Keys: { SK: { S: FilterRule.isEqual(POST_SK) } } } }),
          FilterCriteria.filter({ eventName: FilterRule.isEqual('INSERT'), dynamodb: { Keys: { SK: { S: FilterRule.beginsWith(HELD_INBOX_PREFIX) } } } }),
          FilterCriteria.filter({ eventName: FilterRule.or('INSERT', 'MODIFY'), dynamodb: { Keys: { PK: { S: FilterRule.isEqual(HOLD_PK) } } } }),
        ],
      }),
    );

    this.redrive = new FeedpubFunction(this, 'Redrive', {
      entry: 'redrive',
      description: 'feedpub re-drive: renders every feed with writes in its inbox and every parked document, clears dead letters',
      environment: { ...environment, FEEDPUB_DEAD_LETTER_QUEUE_URL: this.deadLetters.queueUrl },
      timeout: Duration.minutes(15),
      reservedConcurrency: 1,
    });
    // It renders feeds as the lanes do (archive pages and open members are put in the render's transactions).
    renderFeeds(this.redrive);
    // Scan only here: the sweep reads the keys of inbox items (an operator's command, not a hot path). IAM cannot
    // limit a Scan to some partitions, so it is limited to those two attributes, asked for by name: a Scan that
    // asks for all attributes, or for any other one (a key item's scope, say), is refused.
    this.redrive.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Scan'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK'] }, StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } },
      }),
    );
    this.redrive.fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], resources: [postPages] }));
    this.redrive.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: [this.deadLetters.queueArn] }));

    for (const fn of [this.regenerate, this.renderPages, this.redrive]) {
      for (const [prefix, why] of [['feeds', 'Feeds live under feeds/ with keys made from category and tag names, unknown in advance.'], ['posts', 'Post pages live under posts/ with keys made from post ids, unknown in advance.']]) {
        Validations.of(fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::${props.bucketArnExport}/${prefix}/*]`, reason: why! });
      }
    }
    for (const fn of [this.regenerate, this.renderPages]) {
      Validations.of(fn.fn).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'dynamodb:ListStreams, added by the event source mapping, has no resource-level permissions.' });
    }
  }
}
