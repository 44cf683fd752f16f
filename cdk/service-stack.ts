import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { Alarms } from './constructs/alarms.js';
import { PublisherApi } from './constructs/publisher-api.js';
import { Regeneration } from './constructs/regeneration.js';
import type { FeedpubSettings } from './settings.js';

export interface ServiceStackProps extends StackProps {
  table: ITable;
  bucket: IBucket;
  /** Name of the export that holds the bucket's ARN. */
  bucketArnExport: string;
  feedsUrl: string;
  settings: FeedpubSettings;
}

/** Everything stateless: the write path, the regeneration lanes, alarms. Replaceable at will. */
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

    const write = new PublisherApi(this, 'Publisher', { table, environment });
    const lanes = new Regeneration(this, 'Regeneration', { table, bucketArnExport: props.bucketArnExport, environment });
    const alarms = new Alarms(this, 'Alarms', { ...lanes, api: write.api, httpApi: write.httpApi, alarmEmail: settings.alarmEmail });

    for (const fn of [write.api, write.authorize, lanes.regenerate, lanes.renderPages, lanes.redrive]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The AWS managed basic execution role grants only CloudWatch Logs writes.',
      });
      Validations.of(fn).acknowledge({ id: 'AwsSolutions-L1', reason: 'Pinned to nodejs22.x, the runtime feedpub is built and tested for.' });
    }

    new CfnOutput(this, 'ApiUrl', { value: write.httpApi.apiEndpoint, description: 'Publisher API base URL' });
    new CfnOutput(this, 'FeedsUrl', { value: props.feedsUrl, description: 'Feeds base URL (site feed at /feeds/rss.xml)' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: lanes.deadLetters.queueUrl });
    new CfnOutput(this, 'RedriveFunction', { value: lanes.redrive.fn.functionName, description: 'aws lambda invoke --function-name <this> out.json' });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarms.topic.topicArn });
  }
}
