import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms.js';
import { Hub } from './constructs/hub.js';
import { PublisherApi } from './constructs/publisher-api.js';
import { Regeneration } from './constructs/regeneration.js';
import type { FeedpubSettings } from './settings.js';

export interface ServiceStackProps extends StackProps {
  table: ITable;
  bucket: IBucket;
  /** Name of the export that holds the bucket's ARN. */
  bucketArnExport: string;
  feedsUrl: string;
  /** The HTTP API (stateful stack), which this stack gives its routes, stage and authorizer. */
  httpApi: HttpApi;
  settings: FeedpubSettings;
}

/** Everything stateless: the write path, the regeneration lanes, the WebSub hub, alarms. Replaceable at will. */
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

    const hub = new Hub(this, 'Hub', { table, bucketArnExport: props.bucketArnExport, environment });
    const write = new PublisherApi(this, 'Publisher', { table, environment, httpApi: props.httpApi });
    const lanes = new Regeneration(this, 'Regeneration', { table, bucketArnExport: props.bucketArnExport, environment });
    // The API takes subscription requests (POST /hub); the feeds lane announces each render's documents.
    hub.attachAcceptor(write.api.fn);
    // Every function that renders feeds announces what it wrote.
    for (const fn of [lanes.regenerate, lanes.renderPages, lanes.redrive]) hub.attachAnnouncer(fn.fn);
    const alarms = new Alarms(this, 'Alarms', { ...lanes, api: write.api, httpApi: write.httpApi, hub, alarmEmail: settings.alarmEmail });

    for (const fn of [write.api, write.authorize, lanes.regenerate, lanes.renderPages, lanes.redrive, hub.fn]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS managed basic execution role grants only CloudWatch Logs writes.',
      });
      Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'Pinned to nodejs22.x, the runtime feedpub is built and tested for.' });
    }

    new CfnOutput(this, 'ApiUrl', { value: write.httpApi.apiEndpoint, description: 'Publisher API base URL' });
    new CfnOutput(this, 'FeedsUrl', { value: props.feedsUrl, description: 'Feeds base URL (site feed at /feeds/rss.xml)' });
    new CfnOutput(this, 'HubUrl', { value: `${props.feedsUrl}/hub`, description: 'WebSub hub (rel="hub" of every feed document)' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: lanes.deadLetters.queueUrl });
    new CfnOutput(this, 'RedriveFunction', { value: lanes.redrive.fn.functionName, description: 'aws lambda invoke --function-name <this> out.json' });
    new CfnOutput(this, 'HubDeadLetterQueueUrls', { value: `${hub.controlDeadLetters.queueUrl} ${hub.deliveryDeadLetters.queueUrl}`, description: 'Hub jobs given up: verifications and notifications, deliveries' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
