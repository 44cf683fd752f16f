import { CfnOutput, Duration, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { FilterPattern, LogGroup, MetricFilter, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Alias } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DIRECTORY_INDEX } from '../lib/store/table.js';
import { FeedpubFunction } from './feedpub-function.js';
import type { FeedpubSettings } from './settings.js';

export interface ServiceStackProps extends StackProps {
  table: ITable;
  bucket: IBucket;
  /** Name of the export that holds the bucket's ARN. */
  bucketArnExport: string;
  feedsUrl: string;
  settings: FeedpubSettings;
}

/** Everything stateless: the functions, the HTTP API, the regeneration trigger, its dead-letter queue, alarms. */
export class ServiceStack extends Stack {
  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { table, bucket, settings } = props;

    const environment = {
      FEEDPUB_TABLE: table.tableName,
      FEEDPUB_BUCKET: bucket.bucketName,
      FEEDPUB_SITE_URL: settings.siteUrl ?? props.feedsUrl,
      FEEDPUB_FEEDS_URL: props.feedsUrl,
      FEEDPUB_SITE_TITLE: settings.siteTitle,
      FEEDPUB_SITE_DESCRIPTION: settings.siteDescription,
      FEEDPUB_SITE_LANGUAGE: settings.language,
      FEEDPUB_FEED_ITEMS: String(settings.feedItems),
      FEEDPUB_TIMEZONE: settings.timeZone,
      FEEDPUB_DIRECTORY_INTERVAL: '60',
    };

    // Least privilege: each function gets the item actions it calls, on this table only.
    const tableActions = (...actions: string[]) => new PolicyStatement({ actions: actions.map((a) => `dynamodb:${a}`), resources: [table.tableArn] });

    const api = new FeedpubFunction(this, 'Api', { entry: 'api', description: 'feedpub publisher API', environment });
    // A write is one TransactWriteItems, authorized action by action.
    api.fn.addToRolePolicy(tableActions('GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'ConditionCheckItem', 'Query', 'BatchGetItem'));

    const authorize = new FeedpubFunction(this, 'Authorize', {
      entry: 'authorize',
      description: 'feedpub publisher key authorizer',
      environment,
      memorySize: 256,
      timeout: Duration.seconds(5),
    });
    authorize.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        // Only the hashed-key items, nothing else in the table.
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['KEY#*'] } },
      }),
    );

    const regenerate = new FeedpubFunction(this, 'Regenerate', {
      entry: 'regenerate',
      description: 'feedpub feed regeneration (table stream)',
      environment,
      timeout: Duration.seconds(60),
    });
    // DeleteItem: the minute tick completes batches whose request ended early, deleting their intent items.
    regenerate.fn.addToRolePolicy(tableActions('GetItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchGetItem'));
    // The directory page lists the feeds through the table's directory index.
    const directoryIndex = `${table.tableArn}/index/${DIRECTORY_INDEX.name}`;
    regenerate.fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [directoryIndex] }));
    // The bucket ARN through a named export, so that the acknowledgements below can name the exact resources.
    const bucketArn = Fn.importValue(props.bucketArnExport);
    const feedObjects = `${bucketArn}/feeds/*`;
    const postPages = `${bucketArn}/posts/*`;
    const pagesAndFeeds = [
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [feedObjects, postPages] }),
      // A deleted post's page is deleted; feeds never are.
      new PolicyStatement({ actions: ['s3:DeleteObject'], resources: [postPages] }),
    ];
    for (const statement of pagesAndFeeds) regenerate.fn.addToRolePolicy(statement);

    const deadLetters = new Queue(this, 'RegenerationDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter destination itself.' });

    regenerate.fn.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // Records for one feed stay in order within a shard; several batches per shard run at once.
        parallelizationFactor: 4,
        retryAttempts: 10,
        maxRecordAge: Duration.hours(6),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(deadLetters),
        // Only feed revision bumps trigger a regeneration (docs/DESIGN.md).
        filters: [FilterCriteria.filter({ dynamodb: { Keys: { SK: { S: FilterRule.isEqual('REV') } } } })],
      }),
    );

    // The directory is rendered at most once per FEEDPUB_DIRECTORY_INTERVAL on writes; this catches it up.
    new Rule(this, 'DirectoryTick', {
      description: 'feedpub: brings feeds/index.html and feeds/opml.xml up to date',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(regenerate.fn, { retryAttempts: 0 })],
    });

    const acknowledgeObjects = (fn: FeedpubFunction) => {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${props.bucketArnExport}/feeds/*]`,
        reason: 'Feeds live under feeds/ with keys made from category and tag names, unknown in advance.',
      });
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${props.bucketArnExport}/posts/*]`,
        reason: 'Post pages live under posts/ with keys made from post ids, unknown in advance.',
      });
    };
    acknowledgeObjects(regenerate);
    Validations.of(regenerate.fn).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams, added by the event source mapping, has no resource-level permissions.',
    });

    const redrive = new FeedpubFunction(this, 'Redrive', {
      entry: 'redrive',
      description: 'feedpub re-drive: regenerates every feed behind its revision, clears dead letters',
      environment: { ...environment, FEEDPUB_DEAD_LETTER_QUEUE_URL: deadLetters.queueUrl },
      timeout: Duration.minutes(15),
      reservedConcurrency: 1,
    });
    // Scan only here: the sweep reads the small REV/RENDER items of every feed (an operator's command, not a hot path).
    redrive.fn.addToRolePolicy(tableActions('GetItem', 'UpdateItem', 'Query', 'BatchGetItem', 'Scan', 'DeleteItem'));
    redrive.fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Query'], resources: [directoryIndex] }));
    for (const statement of pagesAndFeeds) redrive.fn.addToRolePolicy(statement);
    redrive.fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: [deadLetters.queueArn] }));
    acknowledgeObjects(redrive);

    const httpApi = new HttpApi(this, 'HttpApi', { description: 'feedpub publisher API', createDefaultStage: false });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_MONTH });
    new HttpStage(this, 'DefaultStage', {
      httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', api.fn);
    const authorizer = new HttpLambdaAuthorizer('PublisherKey', authorize.fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: Duration.minutes(5),
    });
    httpApi.addRoutes({ path: '/posts', methods: [HttpMethod.GET, HttpMethod.POST], integration, authorizer });
    httpApi.addRoutes({ path: '/posts/{id}', methods: [HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE], integration, authorizer });
    httpApi.addRoutes({ path: '/posts/batch', methods: [HttpMethod.POST], integration, authorizer });
    httpApi.addRoutes({ path: '/regeneration/hold', methods: [HttpMethod.PUT, HttpMethod.DELETE], integration, authorizer });
    const [health] = httpApi.addRoutes({ path: '/health', methods: [HttpMethod.GET], integration });
    Validations.of(health!).acknowledge({ id: 'AwsSolutions-APIG4', reason: 'The health check is public by design and reads nothing.' });

    // Alarms, to one topic.
    const topic = new Topic(this, 'Alarms', { masterKey: Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'), enforceSSL: true });
    if (settings.alarmEmail) topic.addSubscription(new EmailSubscription(settings.alarmEmail));
    const failures = new MetricFilter(this, 'RegenerationFailures', {
      logGroup: regenerate.fn.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', 'feed regeneration failed'),
      metricNamespace: 'feedpub',
      metricName: 'RegenerationFailures',
      metricValue: '1',
    });
    const alarm = (id: string, metric: IMetric, threshold: number, description: string) =>
      new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(new SnsAction(topic));
    const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };
    alarm('RegenerationErrorsAlarm', failures.metric(fiveMinutes), 5, 'Feeds failed to regenerate (they are retried; check the logs)');
    alarm('RegenerationCrashAlarm', regenerate.fn.metricErrors(fiveMinutes), 1, 'The regenerate function itself failed');
    alarm('DeadLettersAlarm', deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 1, 'Regenerations were parked: invoke the RedriveFunction');
    alarm('RegenerationLagAlarm', regenerate.fn.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }), 60_000, 'Feeds lag the writes by more than a minute');
    alarm('Api5xxAlarm', httpApi.metricServerError(fiveMinutes), 5, 'The publisher API answered 5xx');
    alarm('ApiThrottlesAlarm', api.fn.metricThrottles(fiveMinutes), 1, 'The API function was throttled');
    alarm('RegenerationThrottlesAlarm', regenerate.fn.metricThrottles(fiveMinutes), 1, 'The regenerate function was throttled');

    for (const fn of [api, authorize, regenerate, redrive]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS managed basic execution role grants only CloudWatch Logs writes.',
      });
      Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'Pinned to nodejs22.x, the runtime feedpub is built and tested for.' });
    }

    new CfnOutput(this, 'ApiUrl', { value: httpApi.apiEndpoint, description: 'Publisher API base URL' });
    new CfnOutput(this, 'FeedsUrl', { value: props.feedsUrl, description: 'Feeds base URL (site feed at /feeds/rss.xml)' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetters.queueUrl });
    new CfnOutput(this, 'RedriveFunction', { value: redrive.fn.functionName, description: 'aws lambda invoke --function-name <this> out.json' });
    new CfnOutput(this, 'AlarmTopicArn', { value: topic.topicArn });
  }
}
