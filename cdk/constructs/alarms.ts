import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { FeedpubFunction } from '../feedpub-function.js';
import { HUB_RETRY_SPAN, type Hub } from './hub.js';

export interface AlarmsProps {
  regenerate: FeedpubFunction;
  renderPages: FeedpubFunction;
  api: FeedpubFunction;
  httpApi: HttpApi;
  deadLetters: Queue;
  hub: Hub;
  alarmEmail?: string;
}

/**
 * The alarm topic's key. CloudWatch publishes an alarm to an encrypted topic only when the key's policy lets it use
 * the key, which the AWS-managed SNS key's policy cannot (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html,
 * compatibility with AWS services): a customer-managed key whose policy lets cloudwatch.amazonaws.com make data keys
 * and decrypt, for this account's alarms only. Nothing durable is encrypted with it (SNS holds messages only while it
 * delivers them), so it goes with the stack after the shortest waiting period.
 */
function alarmTopicKey(scope: Construct): Key {
  const { account, region, partition } = Stack.of(scope);
  const key = new Key(scope, 'TopicKey', {
    description: 'feedpub alarm topic',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  key.addToResourcePolicy(
    new PolicyStatement({
      sid: 'CloudWatchAlarmsPublish',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      // Only on behalf of this account's alarms (no confused deputy).
      conditions: {
        StringEquals: { 'aws:SourceAccount': account },
        ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
      },
    }),
  );
  return key;
}

/**
 * What an operator is told about, on one topic: failing renders, dead letters, lag, API errors, throttles, and the
 * hub's given-up jobs, late deliveries and crashes.
 */
export class Alarms extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { masterKey: alarmTopicKey(this), enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const failures = new MetricFilter(this, 'RegenerationFailures', {
      logGroup: props.regenerate.fn.logGroup,
      filterPattern: FilterPattern.stringValue('$.message', '=', 'feed regeneration failed'),
      metricNamespace: 'feedpub',
      metricName: 'RegenerationFailures',
      metricValue: '1',
    });
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string) =>
      new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      }).addAlarmAction(new SnsAction(this.topic));
    const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };
    alarm('RegenerationErrorsAlarm', failures.metric(fiveMinutes), 5, 'Feeds failed to regenerate (they are retried; check the logs)');
    alarm('RegenerationCrashAlarm', props.regenerate.fn.metricErrors(fiveMinutes), 1, 'The regenerate function itself failed');
    alarm('PagesCrashAlarm', props.renderPages.fn.metricErrors(fiveMinutes), 1, 'The post pages function itself failed');
    alarm('DeadLettersAlarm', props.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }), 1, 'Renders were given up: invoke the RedriveFunction');
    alarm('RegenerationLagAlarm', props.regenerate.fn.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }), 60_000, 'Feeds lag the writes by more than a minute');
    alarm('PagesLagAlarm', props.renderPages.fn.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }), 5 * 60_000, 'Post pages lag the writes by more than five minutes');
    alarm('Api5xxAlarm', props.httpApi.metricServerError(fiveMinutes), 5, 'The publisher API answered 5xx');
    alarm('ApiThrottlesAlarm', props.api.fn.metricThrottles(fiveMinutes), 1, 'The API function was throttled');
    alarm('RegenerationThrottlesAlarm', props.regenerate.fn.metricThrottles(fiveMinutes), 1, 'The regenerate function was throttled');
    const { hub } = props;
    const maximum = { period: Duration.minutes(5), statistic: 'Maximum' };
    alarm('HubControlDeadLettersAlarm', hub.controlDeadLetters.metricApproximateNumberOfMessagesVisible(maximum), 1, 'Hub verifications or notifications were given up after every retry (see the hub function logs)');
    alarm('HubDeliveryDeadLettersAlarm', hub.deliveryDeadLetters.metricApproximateNumberOfMessagesVisible(maximum), 1, 'Deliveries to a WebSub subscriber failed for over an hour and were given up');
    alarm('HubDeliveryAgeAlarm', hub.delivery.metricApproximateAgeOfOldestMessage(maximum), HUB_RETRY_SPAN.toSeconds(), 'A delivery has waited longer than its whole retry schedule: deliveries lag, or wait behind a failing subscriber');
    alarm('HubCrashAlarm', hub.fn.fn.metricErrors(fiveMinutes), 1, 'The hub function itself failed (a timeout or a crash, not a subscriber refusing)');
  }
}
