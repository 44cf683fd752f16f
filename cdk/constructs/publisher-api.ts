import { Duration, Validations } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpRoute, HttpRouteKey, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
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
  /** The HTTP API (stateful stack): its routes, stage and authorizer are attached to it here. */
  httpApi: HttpApi;
}

/** The write path: the HTTP API's routes and stage, its key authorizer, and the Api function that stores posts. */
export class PublisherApi extends Construct {
  readonly api: FeedpubFunction;
  readonly authorize: FeedpubFunction;
  readonly httpApi: HttpApi;

  constructor(scope: Construct, id: string, { table, environment, httpApi }: PublisherApiProps) {
    super(scope, id);
    this.httpApi = httpApi;
    // The API by reference: what is attached to it (stage, routes, integrations, the authorizer) is then created
    // in this stack, which depends on the API's, never the other way round.
    const api = HttpApi.fromHttpApiAttributes(this, 'HttpApi', { httpApiId: httpApi.apiId, apiEndpoint: httpApi.apiEndpoint });
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

    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    new HttpStage(this, 'DefaultStage', {
      httpApi: api,
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
    const addRoute = (path: string, method: HttpMethod, routeAuthorizer?: IHttpRouteAuthorizer) =>
      new HttpRoute(this, `${method}${path}`, { httpApi: api, routeKey: HttpRouteKey.with(path, method), integration, ...(routeAuthorizer ? { authorizer: routeAuthorizer } : {}) });
    const route = (path: string, ...methods: HttpMethod[]) => methods.map((method) => addRoute(path, method, authorizer));
    route('/posts', HttpMethod.GET, HttpMethod.POST);
    route('/posts/{id}', HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE);
    route('/posts/batch', HttpMethod.POST);
    route('/regeneration/holds', HttpMethod.POST);
    route('/regeneration/holds/{id}', HttpMethod.GET, HttpMethod.PUT, HttpMethod.DELETE);
    route('/site', HttpMethod.GET, HttpMethod.PUT);
    Validations.of(addRoute('/health', HttpMethod.GET)).acknowledge({ id: 'AwsSolutions-APIG4', reason: 'The health check is public by design and reads nothing.' });
    // WebSub subscription requests (lib/hub): subscribers are anonymous; the hub checks and bounds them itself.
    Validations.of(addRoute('/hub', HttpMethod.POST)).acknowledge({ id: 'AwsSolutions-APIG4', reason: 'WebSub subscribers are anonymous (W3C WebSub 5.1); each request is validated, limited and verified with its callback.' });
  }
}
