import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.js';

// Bundling is skipped here (test/integration/bundles.test.ts builds and runs the real bundles).
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function synth(context: Record<string, unknown> = {}) {
  const built = buildApp(new App({ context: { ...NO_BUNDLING, ...context } }));
  return { ...built, data: Template.fromStack(built.stateful), svc: Template.fromStack(built.service) };
}

type Statement = { Effect: 'Allow' | 'Deny'; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of the policy attached to the role of the function whose logical id starts with `prefix`. */
function allStatementsOf(template: Template, prefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const entry = Object.entries(policies).find(([id]) => id.startsWith(`${prefix}FunctionServiceRoleDefaultPolicy`));
  if (!entry) throw new Error(`no policy for ${prefix}`);
  return (entry[1] as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement;
}

/** What the role may do (its Allow statements). */
const statementsOf = (template: Template, prefix: string) => allStatementsOf(template, prefix).filter((s) => s.Effect === 'Allow');

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();

let t: ReturnType<typeof synth>;
beforeAll(() => {
  t = synth();
}, 60_000);

describe('stateful stack', () => {
  it('keeps posts in an on-demand table with point-in-time recovery, deletion protection, and a stream', () => {
    t.data.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'feeds', Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['count', 'newest'] } })],
        KeySchema: [
          { AttributeName: 'PK', KeyType: 'HASH' },
          { AttributeName: 'SK', KeyType: 'RANGE' },
        ],
      },
    });
  });

  it('keeps feeds in a private, versioned, encrypted bucket whose old versions expire', () => {
    t.data.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } })]) },
    });
  });

  it('refuses plain HTTP to the bucket and lets only the distribution read it (Origin Access Control)', () => {
    const policies = Object.values(t.data.findResources('AWS::S3::BucketPolicy')).map((p) => JSON.stringify(p));
    const feedsPolicy = policies.find((p) => p.includes('cloudfront.amazonaws.com'))!;
    expect(feedsPolicy).toContain('"aws:SecureTransport":"false"');
    expect(feedsPolicy).toContain('"s3:GetObject"');
    expect(feedsPolicy).toContain('AWS:SourceArn');
    t.data.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
  });

  it('serves feeds over HTTPS only, compressed, with a short cache that forwards no cookies', () => {
    t.data.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'https-only', Compress: true, AllowedMethods: ['GET', 'HEAD'] }),
        Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue() })],
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    t.data.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        DefaultTTL: 60,
        MaxTTL: 300,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'none' },
          EnableAcceptEncodingGzip: true,
        }),
      }),
    });
    t.data.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({ SecurityHeadersConfig: Match.objectLike({ StrictTransportSecurity: Match.anyValue() }) }),
    });
  });

  it('answers the root with the home page, which the feeds lane writes beside the feeds', () => {
    t.data.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: Match.objectLike({ DefaultRootObject: 'index.html' }) });
    const puts = statementsOf(t.svc, 'RegenerationRegenerate').filter((s) => JSON.stringify(s.Action).includes('s3:PutObject'));
    expect(JSON.stringify(puts.map((s) => s.Resource))).toMatch(/\/index\.html"/);
  });

  it('takes a custom domain and certificate from context, with TLS 1.2 at least', () => {
    const custom = synth({ domainName: 'feeds.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
    custom.data.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['feeds.example.com'],
        ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021' }),
      }),
    });
    expect(() => synth({ domainName: 'feeds.example.com' })).toThrow(/go together/);
  });
});

describe('service stack', () => {
  it('runs five functions on nodejs22.x, arm64, configured from context', () => {
    const functions = Object.values(t.svc.findResources('AWS::Lambda::Function')) as { Properties: any }[];
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.Environment.Variables).toMatchObject({ FEEDPUB_FEED_ITEMS: '50', FEEDPUB_TIMEZONE: 'UTC', FEEDPUB_SITE_TITLE: 'feedpub' });
      expect(JSON.stringify(fn.Properties.Environment.Variables)).not.toMatch(/fp_|SECRET|PASSWORD/i);
    }
    const site = synth({ siteTitle: '金融消息', timeZone: 'Asia/Shanghai', feedItems: 100 });
    site.svc.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FEEDPUB_SITE_TITLE: '金融消息', FEEDPUB_TIMEZONE: 'Asia/Shanghai', FEEDPUB_FEED_ITEMS: '100' }) },
    });
  });

  it('has two lanes on the stream, feeds and post pages, each its own consumer, with retries and a dead-letter queue', () => {
    const mappings = Object.values(t.svc.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: any }[];
    expect(mappings).toHaveLength(2);
    const target = (m: { Properties: any }) => m.Properties.FunctionName.Ref as string;
    const feeds = mappings.find((m) => target(m).startsWith('RegenerationRegenerate'))!;
    const pages = mappings.find((m) => target(m).startsWith('RegenerationRenderPages'))!;
    for (const m of [feeds, pages]) {
      expect(m.Properties).toMatchObject({
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 100,
        ParallelizationFactor: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 10,
        DestinationConfig: { OnFailure: { Destination: expect.anything() } },
      });
    }
    expect(feeds.Properties.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT'], dynamodb: { Keys: { SK: { S: [{ prefix: 'N#' }] } } } },
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { PK: { S: ['HOLD'] } } } },
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { PK: { S: ['META'] }, SK: { S: ['SITE'] } } } },
    ]);
    expect(pages.Properties.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([{ dynamodb: { Keys: { SK: { S: ['POST'] } } } }]);
    t.svc.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  });

  it('routes the publisher API through a key authorizer, with throttling and access logs; /health is open', () => {
    const routes = Object.values(t.svc.findResources('AWS::ApiGatewayV2::Route')).map((r: any) => [r.Properties.RouteKey, r.Properties.AuthorizationType]);
    expect(Object.fromEntries(routes)).toEqual({
      'GET /posts': 'CUSTOM',
      'POST /posts': 'CUSTOM',
      'GET /posts/{id}': 'CUSTOM',
      'PUT /posts/{id}': 'CUSTOM',
      'DELETE /posts/{id}': 'CUSTOM',
      'POST /posts/batch': 'CUSTOM',
      'POST /regeneration/holds': 'CUSTOM',
      'GET /regeneration/holds/{id}': 'CUSTOM',
      'PUT /regeneration/holds/{id}': 'CUSTOM',
      'DELETE /regeneration/holds/{id}': 'CUSTOM',
      'GET /site': 'CUSTOM',
      'PUT /site': 'CUSTOM',
      'GET /health': 'NONE',
    });
    t.svc.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
    });
    t.svc.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('runs the tick (abandoned holds, the directory) once a minute by invoking the regenerate function', () => {
    const rules = Object.values(t.svc.findResources('AWS::Events::Rule')) as any[];
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.ScheduleExpression).toBe('rate(1 minute)');
    const target = rules[0].Properties.Targets[0].Arn['Fn::GetAtt'][0];
    expect(target).toMatch(/^RegenerationRegenerateFunction/);
    t.svc.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'events.amazonaws.com', FunctionName: { 'Fn::GetAtt': [target, 'Arn'] } });
  });

  it('gives each function only the actions it uses, on this table and bucket only', () => {
    expect(actionsOf(statementsOf(t.svc, 'PublisherApi'))).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
    );
    expect(actionsOf(statementsOf(t.svc, 'PublisherAuthorize'))).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const regenerate = statementsOf(t.svc, 'RegenerationRegenerate');
    expect(actionsOf(regenerate)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 's3:PutObject', 's3:GetObject', 'sqs:SendMessage']));
    // The feeds lane writes feeds only, and never deletes an object.
    const objects = regenerate.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(JSON.stringify(objects.map((s) => s.Resource))).toMatch(/\/feeds\/\*"/);
    expect(JSON.stringify(objects.map((s) => s.Resource))).not.toMatch(/posts/);
    expect(actionsOf(regenerate)).not.toContain('s3:DeleteObject');
    // The pages lane touches post pages only, and of the table the site's settings only.
    const pages = statementsOf(t.svc, 'RegenerationRenderPages');
    const pageObjects = pages.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(actionsOf(pageObjects)).toEqual(['s3:DeleteObject', 's3:PutObject']);
    expect(JSON.stringify(pageObjects.map((s) => s.Resource))).toMatch(/\/posts\/\*"/);
    expect(JSON.stringify(pageObjects.map((s) => s.Resource))).not.toMatch(/feeds/);
    const query = regenerate.filter((s) => s.Action === 'dynamodb:Query' || (Array.isArray(s.Action) && s.Action.includes('dynamodb:Query')));
    expect(JSON.stringify(query)).toContain('/index/feeds');
    for (const prefix of ['PublisherApi', 'PublisherAuthorize', 'RegenerationRegenerate', 'RegenerationRenderPages']) {
      for (const action of actionsOf(statementsOf(t.svc, prefix))) expect(action).not.toMatch(/\*|Scan|DeleteTable|DeleteBucket/);
    }
    for (const prefix of ['PublisherApi', 'PublisherAuthorize']) expect(actionsOf(statementsOf(t.svc, prefix)).join()).not.toMatch(/s3:/);
    // Only the operator's re-drive may scan (the inbox sweep) and touch the dead-letter queue.
    const redrive = actionsOf(statementsOf(t.svc, 'RegenerationRedrive'));
    expect(redrive).toEqual(expect.arrayContaining(['dynamodb:Scan', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 's3:PutObject']));
    for (const action of redrive) expect(action).not.toMatch(/\*|DeleteTable|DeleteBucket|sqs:Purge/);
  });

  it('lets only the authorizer touch key items: it reads them and notes their last use, and nothing else', () => {
    const keyItems = { 'dynamodb:LeadingKeys': ['KEY#*'] };
    const authorize = statementsOf(t.svc, 'PublisherAuthorize');
    expect(authorize.find((s) => s.Action === 'dynamodb:GetItem')!.Condition).toEqual({ 'ForAllValues:StringLike': keyItems });
    expect(authorize.find((s) => s.Action === 'dynamodb:UpdateItem')!.Condition).toEqual({
      'ForAllValues:StringLike': keyItems,
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK', 'lastUsedAt'] },
    });
    // The roles with item actions on the whole table are denied every item action on key partitions.
    for (const prefix of ['PublisherApi', 'RegenerationRegenerate', 'RegenerationRedrive']) {
      const granted = actionsOf(statementsOf(t.svc, prefix)).filter((a) => /^dynamodb:(\w+Item|Query)$/.test(a));
      const denied = allStatementsOf(t.svc, prefix).filter((s) => s.Effect === 'Deny');
      expect(denied, prefix).toHaveLength(1);
      expect(denied[0]!.Condition, prefix).toEqual({ 'ForAnyValue:StringLike': keyItems });
      expect(actionsOf(denied), prefix).toEqual(expect.arrayContaining([...granted, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
    }
    // The pages lane reads the site's settings item (META), nothing else of the table, and writes no item.
    const pagesTable = statementsOf(t.svc, 'RegenerationRenderPages').filter((s) => JSON.stringify(s.Action).includes('dynamodb:') && !JSON.stringify(s.Action).includes('Stream'));
    expect(pagesTable.map((s) => [s.Action, s.Condition])).toEqual([['dynamodb:GetItem', { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['META'] } }]]);
  });

  it('caches the authorizer\'s answers for 30 s, so that a revoked key is refused within 60 s', () => {
    t.svc.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerResultTtlInSeconds: 30 });
  });

  it('raises alarms to one encrypted topic: regeneration errors, dead letters, lag, API 5xx, throttles', () => {
    t.svc.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const alarms = Object.entries(t.svc.findResources('AWS::CloudWatch::Alarm'));
    const names = alarms.map(([id]) => id.replace(/^Alarms/, '').replace(/[0-9A-F]{8}$/, ''));
    expect(names).toEqual(
      expect.arrayContaining(['RegenerationErrorsAlarm', 'DeadLettersAlarm', 'RegenerationLagAlarm', 'PagesLagAlarm', 'PagesCrashAlarm', 'Api5xxAlarm', 'ApiThrottlesAlarm', 'RegenerationThrottlesAlarm']),
    );
    for (const [, alarm] of alarms) expect((alarm as any).Properties.AlarmActions).toHaveLength(1);
  });

  it('outputs the API URL, the feeds URL, the table and the bucket', () => {
    expect(Object.keys(t.svc.findOutputs('*'))).toEqual(expect.arrayContaining(['ApiUrl', 'FeedsUrl', 'TableName', 'BucketName', 'DeadLetterQueueUrl']));
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports nothing that is not acknowledged with a reason', () => {
    for (const stack of [t.stateful, t.service]) {
      const report = new AwsSolutionsChecks(t.app).validateScope(stack);
      expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`)).toEqual([]);
    }
  });
});
