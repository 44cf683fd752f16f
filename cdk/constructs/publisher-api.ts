import { Duration, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaAuthorizer, HttpLambdaResponseType } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FeedpubFunction } from '../feedpub-function.js';
import { KEY_CACHE } from '../../lib/api/auth.js';
import { denyKeyItems, KEY_PARTITIONS, tableActions } from './grants.js';

export interface PublisherApiProps {
  table: ITable;
  environment: Record<string, string>;
}

/** The write path: the HTTP API, its key authorizer, and the Api function that stores posts. */
export class PublisherApi extends Construct {
  readonly api: FeedpubFunction;
  readonly authorize: FeedpubFunction;
  readonly httpApi: HttpApi;

  constructor(scope: Construct, id: string, { table, environment }: PublisherApiProps) {
    super(scope, id);
    this.api = new FeedpubFunction(this, 'Api', { entry: 'api', description: 'feedpub publisher API', environment });
    // A write is one TransactWriteItems, authorized action by action; a hold's marks are one BatchWriteItem.
    this.api.fn.addToRolePolicy(tableActions(table, 'GetItem', 'PutItem', 'DeleteItem', 'UpdateItem', 'Query', 'BatchGetItem', 'BatchWriteItem'));
    // The caller comes checked from the authorizer: the API reads no key, and a stolen API role writes none.
    this.api.fn.addToRolePolicy(denyKeyItems(table));

    this.authorize = new FeedpubFunction(this, 'Authorize', { entry: 'authorize', description: 'feedpub publisher key authorizer', environment, memorySize: 256, timeout: Duration.seconds(5) });
    this.authorize.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        // Only the hashed-key items, nothing else in the table.
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [KEY_PARTITIONS] } },
      }),
    );
    this.authorize.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [table.tableArn],
        // A key's last use (at most hourly), and nothing else: not its name, not its scope, no other item. The key
        // attributes must be listed for DynamoDB to address the item.
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [KEY_PARTITIONS] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK', 'lastUsedAt'] },
        },
      }),
    );

    this.httpApi = new HttpApi(this, 'HttpApi', { description: 'feedpub publisher API', createDefaultStage: false });
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs) },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', this.api.fn);
    const authorizer = new HttpLambdaAuthorizer('PublisherKey', this.authorize.fn, {
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      // With the authorizer's own cache, a revoked key is refused within 60 s (README, "Keys and scopes").
      resultsCacheTtl: Duration.seconds(KEY_CACHE.gatewayTtlSeconds),
    });
    const route = (path: string, ...methods: HttpMethod[]) => this.httpApi.addRoutes({ path, methods, integration, authorizer });
    route('/posts', HttpMethod.GET, HttpMethod.POST);
    route('/posts/{id}', HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE);
    route('/posts/batch', HttpMethod.POST);
    route('/regeneration/holds', HttpMethod.POST);
    route('/regeneration/holds/{id}', HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE);
    route('/site', HttpMethod.GET, HttpMethod.PUT);
    const [health] = this.httpApi.addRoutes({ path: '/health', methods: [HttpMethod.GET], integration });
    Validations.of(health!).acknowledge({ id: 'AwsSolutions-APIG4', reason: 'The health check is public by design and reads nothing.' });
  }
}
