import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CachePolicy, OriginRequestPolicy } from 'aws-cdk-lib/aws-cloudfront';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.js';
import { loadConfig } from '../../lib/config.js';
import { CONTENT_SECURITY_POLICY, documentHeaders, SECURITY_HEADERS } from '../../lib/feeds/document-headers.js';
import { DEFAULT_RETRY, retrySchedule } from '../../lib/hub/backoff.js';
import { HUB_QUEUE_ENV } from '../../lib/hub/build-hub.js';
import { ARCHIVE_CACHE_CONTROL, FEED_CACHE_CONTROL } from '../../lib/store/s3-feed-store.js';

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
const withAction = (statements: Statement[], action: string) => statements.filter((s) => actionsOf([s]).includes(action));

/** The one resource of `type` whose logical id starts with `prefix`. */
function resourceOf(template: Template, type: string, prefix: string): { Properties: any } {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0]![1] as { Properties: any };
}

/**
 * The TTL CloudFront gives an object (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/Expiration.html):
 * the origin's s-maxage, else its max-age, else the policy's default, kept within the policy's minimum and maximum.
 */
function edgeTtl(policy: { MinTTL: number; DefaultTTL: number; MaxTTL: number }, cacheControl: string | undefined) {
  const directive = (name: string) => {
    const value = new RegExp(`(?:^|,)\\s*${name}=(\\d+)`).exec(cacheControl ?? '')?.[1];
    return value === undefined ? undefined : Number(value);
  };
  return Math.min(policy.MaxTTL, Math.max(policy.MinTTL, directive('s-maxage') ?? directive('max-age') ?? policy.DefaultTTL));
}

/** A viewer-response event as CloudFront Functions receive it (lower-case header names, the URI as requested). */
function viewerResponse(uri: string, status = 200) {
  return {
    version: '1.0',
    context: { distributionDomainName: 'd111111abcdef8.cloudfront.net', distributionId: 'EDFDVBD6EXAMPLE', eventType: 'viewer-response', requestId: 'req-1' },
    viewer: { ip: '198.51.100.11' },
    request: { method: 'GET', uri, querystring: {}, headers: { host: { value: 'd111111abcdef8.cloudfront.net' } }, cookies: {} },
    response: {
      statusCode: status,
      statusDescription: status === 200 ? 'OK' : 'Not Modified',
      headers: { etag: { value: '"5d41402abc4b2a76b9719d911017c592"' }, 'cache-control': { value: FEED_CACHE_CONTROL }, 'last-modified': { value: 'Tue, 01 Dec 2026 10:00:00 GMT' } },
      cookies: {},
    },
  };
}

/** Runs the synthesized CloudFront function's code as the edge would, on one event. */
function runEdgeFunction(template: Template, event: ReturnType<typeof viewerResponse>) {
  const code = resourceOf(template, 'AWS::CloudFront::Function', 'DiscoveryHeaders').Properties.FunctionCode as string;
  return runInNewContext(`${code}\nhandler(event);`, { event: structuredClone(event) }) as ReturnType<typeof viewerResponse>['response'] & { headers: Record<string, { value: string }> };
}

/** The site settings the functions of a service stack read (lib/config.ts), the distribution's domain filled in. */
function siteOf(template: Template, distributionDomain: string) {
  const env = resourceOf(template, 'AWS::Lambda::Function', 'PublisherApiFunction').Properties.Environment.Variables as Record<string, unknown>;
  // A literal, or 'https://' joined with the distribution's domain (an import from the stateful stack).
  const text = (value: unknown) =>
    typeof value === 'string' ? value : (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : distributionDomain)).join('');
  return loadConfig({ FEEDPUB_TABLE: 'table', FEEDPUB_BUCKET: 'bucket', FEEDPUB_SITE_URL: text(env.FEEDPUB_SITE_URL), FEEDPUB_FEEDS_URL: text(env.FEEDPUB_FEEDS_URL) }).site;
}

let t: ReturnType<typeof synth>;
beforeAll(() => {
  t = synth();
}, 60_000);

describe('stateful stack', () => {
  it('keeps posts in an on-demand table with point-in-time recovery, deletion protection, a stream, and TTL', () => {
    t.data.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        // The hub's subscriptions and verification claims carry it (lib/hub/keys.ts).
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
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

  it('serves feeds over HTTPS only, compressed, with a cache that forwards no cookies', () => {
    t.data.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'https-only', Compress: true, AllowedMethods: ['GET', 'HEAD'] }),
        Origins: Match.arrayWith([Match.objectLike({ OriginAccessControlId: Match.anyValue() })]),
        Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      }),
    });
    t.data.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
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

  it('keeps current documents at the edge only until the next request (revalidated with S3), archive pages a day', () => {
    const policy = resourceOf(t.data, 'AWS::CloudFront::CachePolicy', 'FeedCache').Properties.CachePolicyConfig;
    // A new post is at the edge as soon as it is in S3: every request for a current document asks S3 (by ETag).
    expect(edgeTtl(policy, FEED_CACHE_CONTROL)).toBe(0);
    expect(edgeTtl(policy, ARCHIVE_CACHE_CONTROL)).toBe(86_400);
    expect(edgeTtl(policy, undefined)).toBe(0);
    // Caching stays on (a maximum above 0): the edge keeps the object and its ETag, compresses it, answers 304s.
    expect(policy.MaxTTL).toBeGreaterThan(0);
    // Nothing of the request is in the key: conditional headers are the edge's to answer, not S3's.
    expect(policy.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig).toEqual({ HeaderBehavior: 'none' });
    for (const headers of Object.values(t.data.findResources('AWS::CloudFront::ResponseHeadersPolicy'))) {
      expect(JSON.stringify(headers).toLowerCase()).not.toMatch(/removeheaders.*(etag|last-modified)/);
    }
  });

  it('routes /hub on the distribution to the HTTP API, uncached, every method, the viewer headers but Host', () => {
    const config = resourceOf(t.data, 'AWS::CloudFront::Distribution', 'Cdn').Properties.DistributionConfig;
    expect(config.CacheBehaviors).toHaveLength(1);
    const [hub] = config.CacheBehaviors;
    expect(hub).toMatchObject({
      PathPattern: '/hub',
      ViewerProtocolPolicy: 'https-only',
      AllowedMethods: expect.arrayContaining(['POST', 'GET', 'HEAD']),
      CachePolicyId: CachePolicy.CACHING_DISABLED.cachePolicyId,
      OriginRequestPolicyId: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
    });
    const origin = config.Origins.find((o: { Id: string }) => o.Id === hub.TargetOriginId);
    expect(origin.CustomOriginConfig).toMatchObject({ OriginProtocolPolicy: 'https-only' });
    // The host of the API's own endpoint (https://<api id>.execute-api.<region>.amazonaws.com).
    const [httpApiId] = Object.keys(t.data.findResources('AWS::ApiGatewayV2::Api'));
    expect(origin.DomainName).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [httpApiId, 'ApiEndpoint'] }] }] });
  });

  it('keeps the HTTP API in this stack, and what is attached to it in the service stack, which depends on this one only', () => {
    t.data.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    t.svc.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    for (const type of ['AWS::ApiGatewayV2::Route', 'AWS::ApiGatewayV2::Integration', 'AWS::ApiGatewayV2::Authorizer', 'AWS::ApiGatewayV2::Stage']) {
      t.data.resourceCountIs(type, 0);
      expect(Object.keys(t.svc.findResources(type)).length, type).toBeGreaterThan(0);
    }
    expect(t.service.dependencies).toEqual([t.stateful]);
    expect(t.stateful.dependencies).toEqual([]);
  });

  it('gives current feed documents, and only them, the Link headers documentHeaders() gives locally (the edge function run in node:vm)', () => {
    const feeds = [
      '/feeds/rss.xml',
      '/feeds/atom.xml',
      '/feeds/feed.json',
      '/feeds/categories/markets/rss.xml',
      '/feeds/tags/%E4%B8%9C%E8%B4%A2%E6%BB%9A%E5%8A%A8%E6%96%B0%E9%97%BB/feed.json',
      '/feeds/tags/%e4%b8%9c%e8%b4%a2/atom.xml',
      '/feeds/tags/东财/atom.xml',
      '/feeds/categories/techweb_1a2b3c4d/rss.xml',
      // A category named like a file is still a feed.
      '/feeds/categories/rss.xml/atom.xml',
    ];
    // Archive pages are not topics and name no hub; nor do pages, the directory, or keys that only look alike.
    const others = [
      '/feeds/categories/techweb_1a2b3c4d/archive/3/rss.xml',
      '/feeds/archive/12/feed.json',
      '/',
      '/index.html',
      '/feeds/index.html',
      '/feeds/opml.xml',
      '/posts/abc.html',
      '/feeds/rss.xml.gz',
      '/feeds/rss.xml/',
      '/feeds/other/x/rss.xml',
      '/feeds/tags/constructor',
      '/feedsx/rss.xml',
      '/x/feeds/rss.xml',
      '/hub',
    ];
    const site = siteOf(t.svc, 'd111111abcdef8.cloudfront.net');
    expect(site.hubUrl).toBe('https://d111111abcdef8.cloudfront.net/hub');
    for (const uri of [...feeds, ...others]) {
      const key = decodeURIComponent(uri.slice(1));
      const expected = documentHeaders(key, site).link;
      expect(expected === undefined, uri).toBe(others.includes(uri));
      const response = runEdgeFunction(t.data, viewerResponse(uri));
      expect(response.headers.link?.value, uri).toBe(expected);
      // S3's headers pass through untouched (conditional GET keeps working).
      expect(response.headers.etag).toEqual(viewerResponse(uri).response.headers.etag);
      expect(response.headers['last-modified']).toEqual(viewerResponse(uri).response.headers['last-modified']);
    }
    expect(runEdgeFunction(t.data, viewerResponse('/feeds/tags/东财/atom.xml')).headers.link!.value).toBe(
      '<https://d111111abcdef8.cloudfront.net/hub>; rel="hub", <https://d111111abcdef8.cloudfront.net/feeds/tags/%E4%B8%9C%E8%B4%A2/atom.xml>; rel="self"',
    );
    // A 304 carries them too, with its ETag; a path that is not valid percent-encoding gets nothing (S3 refuses it).
    const notModified = runEdgeFunction(t.data, viewerResponse('/feeds/rss.xml', 304));
    expect(notModified.statusCode).toBe(304);
    expect(notModified.headers.link?.value).toBe(documentHeaders('feeds/rss.xml', site).link);
    expect(runEdgeFunction(t.data, viewerResponse('/feeds/tags/%E4%B8/rss.xml')).headers.link).toBeUndefined();
    t.data.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({ FunctionAssociations: [{ EventType: 'viewer-response', FunctionARN: Match.anyValue() }] }),
      }),
    });
    t.data.hasResourceProperties('AWS::CloudFront::Function', { FunctionConfig: Match.objectLike({ Runtime: 'cloudfront-js-2.0' }) });
  });

  it('names the custom domain in the Link headers when there is one, whatever host the reader used', () => {
    const custom = synth({ domainName: 'feeds.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' });
    const site = siteOf(custom.svc, 'unused.cloudfront.net');
    expect(site.feedsUrl).toBe('https://feeds.example.com');
    for (const uri of ['/feeds/rss.xml', '/feeds/categories/markets/atom.xml']) {
      const response = runEdgeFunction(custom.data, viewerResponse(uri));
      expect(response.headers.link?.value).toBe(documentHeaders(uri.slice(1), site).link);
      expect(response.headers.link?.value).toContain('<https://feeds.example.com/hub>; rel="hub"');
    }
  });

  it('answers the root with the home page, which the feeds lane writes beside the feeds', () => {
    t.data.hasResourceProperties('AWS::CloudFront::Distribution', { DistributionConfig: Match.objectLike({ DefaultRootObject: 'index.html' }) });
    const puts = statementsOf(t.svc, 'RegenerationRegenerate').filter((s) => JSON.stringify(s.Action).includes('s3:PutObject'));
    expect(JSON.stringify(puts.map((s) => s.Resource))).toMatch(/\/index\.html"/);
  });

  it('serves pages and feeds with the same security headers as the local front: no script, never framed, no sniffing', () => {
    const [policy] = Object.values(t.data.findResources('AWS::CloudFront::ResponseHeadersPolicy')) as { Properties: { ResponseHeadersPolicyConfig: any } }[];
    const { SecurityHeadersConfig: security, CustomHeadersConfig: custom } = policy!.Properties.ResponseHeadersPolicyConfig;
    expect(security.ContentSecurityPolicy).toEqual({ ContentSecurityPolicy: CONTENT_SECURITY_POLICY, Override: true });
    expect(CONTENT_SECURITY_POLICY.split('; ')).toEqual(expect.arrayContaining(["default-src 'none'", "script-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]));
    expect(security.ContentTypeOptions).toEqual({ Override: true });
    expect(security.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(security.ReferrerPolicy.ReferrerPolicy).toBe(SECURITY_HEADERS['referrer-policy']);
    expect(custom.Items).toEqual([{ Header: 'Cross-Origin-Opener-Policy', Value: SECURITY_HEADERS['cross-origin-opener-policy'], Override: true }]);
    // The default behavior (every path but /hub: pages, the directory, feeds) uses it.
    t.data.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ DefaultCacheBehavior: Match.objectLike({ ResponseHeadersPolicyId: Match.anyValue() }) }),
    });
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
  it('runs six functions on nodejs22.x, arm64, configured from context', () => {
    const functions = Object.values(t.svc.findResources('AWS::Lambda::Function')) as { Properties: any }[];
    expect(functions).toHaveLength(6);
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
    const mappings = (Object.values(t.svc.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: any }[]).filter((m) => m.Properties.StartingPosition);
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
      // Open writes' inbox items and settings changes only: neither a held (imported) write nor a hold's release
      // ever queues before a live one.
      { eventName: ['INSERT'], dynamodb: { Keys: { SK: { S: [{ prefix: 'N#0#' }] } } } },
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { PK: { S: ['META'] }, SK: { S: ['SITE'] } } } },
    ]);
    expect(pages.Properties.FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([
      { dynamodb: { Keys: { SK: { S: ['POST'] } } } },
      { eventName: ['INSERT'], dynamodb: { Keys: { SK: { S: [{ prefix: 'N#h.' }] } } } },
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { PK: { S: ['HOLD'] } } } },
    ]);
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
      // WebSub subscribers are anonymous.
      'POST /hub': 'NONE',
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
    expect([...new Set(actionsOf(statementsOf(t.svc, 'PublisherApi')))]).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'sqs:SendMessage'],
    );
    expect(actionsOf(statementsOf(t.svc, 'PublisherAuthorize'))).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    const regenerate = statementsOf(t.svc, 'RegenerationRegenerate');
    expect(actionsOf(regenerate)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 's3:PutObject', 's3:GetObject', 'sqs:SendMessage']));
    // The feeds lane writes feeds only, and never deletes an object.
    const objects = regenerate.filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(JSON.stringify(objects.map((s) => s.Resource))).toMatch(/\/feeds\/\*"/);
    expect(JSON.stringify(objects.map((s) => s.Resource))).not.toMatch(/posts/);
    expect(actionsOf(regenerate)).not.toContain('s3:DeleteObject');
    // The pages lane deletes post pages only; it writes feeds (held writes) as the feeds lane does, never deleting one.
    const pages = statementsOf(t.svc, 'RegenerationRenderPages');
    const deletes = pages.filter((s) => JSON.stringify(s.Action).includes('s3:DeleteObject'));
    expect(JSON.stringify(deletes.map((s) => s.Resource))).toMatch(/\/posts\/\*"/);
    expect(JSON.stringify(deletes.map((s) => s.Resource))).not.toMatch(/feeds/);
    expect(actionsOf(pages)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 's3:PutObject', 'sqs:SendMessage']));
    // It marks held writes' feeds (BatchWriteItem) and runs hold releases; the feeds lane does neither.
    expect(actionsOf(pages)).toContain('dynamodb:BatchWriteItem');
    expect(actionsOf(regenerate)).not.toContain('dynamodb:BatchWriteItem');
    const query = regenerate.filter((s) => s.Action === 'dynamodb:Query' || (Array.isArray(s.Action) && s.Action.includes('dynamodb:Query')));
    expect(JSON.stringify(query)).toContain('/index/feeds');
    for (const prefix of ['PublisherApi', 'PublisherAuthorize', 'RegenerationRegenerate', 'RegenerationRenderPages', 'Hub']) {
      for (const action of actionsOf(statementsOf(t.svc, prefix))) expect(action).not.toMatch(/\*|Scan|DeleteTable|DeleteBucket/);
    }
    for (const prefix of ['PublisherApi', 'PublisherAuthorize']) expect(actionsOf(statementsOf(t.svc, prefix)).join()).not.toMatch(/s3:/);
    // Only the operator's re-drive may scan (the inbox sweep) and touch the dead-letter queue.
    const redrive = actionsOf(statementsOf(t.svc, 'RegenerationRedrive'));
    expect(redrive).toEqual(expect.arrayContaining(['dynamodb:Scan', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 's3:PutObject']));
    for (const action of redrive) expect(action).not.toMatch(/\*|DeleteTable|DeleteBucket|sqs:Purge/);
    // Its Scan reads the keys of items and nothing else (a key item's scope, name or dates stay out of reach).
    const scans = statementsOf(t.svc, 'RegenerationRedrive').filter((s) => JSON.stringify(s.Action).includes('dynamodb:Scan'));
    expect(scans).toHaveLength(1);
    expect(scans[0]!.Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['PK', 'SK'] }, StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' } });
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
    for (const prefix of ['PublisherApi', 'RegenerationRegenerate', 'RegenerationRenderPages', 'RegenerationRedrive']) {
      const granted = actionsOf(statementsOf(t.svc, prefix)).filter((a) => /^dynamodb:(\w+Item|Query)$/.test(a));
      const denied = allStatementsOf(t.svc, prefix).filter((s) => s.Effect === 'Deny');
      expect(denied, prefix).toHaveLength(1);
      expect(denied[0]!.Condition, prefix).toEqual({ 'ForAnyValue:StringLike': keyItems });
      expect(actionsOf(denied), prefix).toEqual(expect.arrayContaining([...granted, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
    }
  });

  it('caches the authorizer\'s answers for 30 s, so that a revoked key is refused within 60 s', () => {
    t.svc.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerResultTtlInSeconds: 30 });
  });

  it('encrypts the alarm topic with a rotated customer-managed key that CloudWatch may use for this account\'s alarms', () => {
    const topic = Object.values(t.svc.findResources('AWS::SNS::Topic'))[0] as { Properties: { KmsMasterKeyId: { 'Fn::GetAtt': [string, string] } } };
    const [keyId] = topic.Properties.KmsMasterKeyId['Fn::GetAtt'];
    const key = t.svc.findResources('AWS::KMS::Key')[keyId] as { Properties: { EnableKeyRotation: boolean; KeyPolicy: { Statement: any[] } } };
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const cloudwatch = key.Properties.KeyPolicy.Statement.filter((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'));
    expect(cloudwatch).toHaveLength(1);
    expect(cloudwatch[0]).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Resource: '*' });
    expect([cloudwatch[0].Action].flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(Object.keys(cloudwatch[0].Condition.StringEquals)).toEqual(['aws:SourceAccount']);
    expect(JSON.stringify(cloudwatch[0].Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:*');
    // Nobody else is given the key: the other statement is the account's own administration of it.
    const others = key.Properties.KeyPolicy.Statement.filter((s) => s !== cloudwatch[0]);
    expect(others.map((s) => JSON.stringify(s.Principal))).toEqual([expect.stringContaining(':root')]);
  });

  it('raises alarms to one encrypted topic: regeneration errors, dead letters, lag, API 5xx, throttles, the hub', () => {
    t.svc.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const alarms = Object.entries(t.svc.findResources('AWS::CloudWatch::Alarm'));
    const names = alarms.map(([id]) => id.replace(/^Alarms/, '').replace(/[0-9A-F]{8}$/, ''));
    expect(names).toEqual(
      expect.arrayContaining(['RegenerationErrorsAlarm', 'DeadLettersAlarm', 'RegenerationLagAlarm', 'PagesLagAlarm', 'PagesCrashAlarm', 'Api5xxAlarm', 'ApiThrottlesAlarm', 'RegenerationThrottlesAlarm']),
    );
    const hubAlarms = Object.fromEntries(alarms.filter(([id]) => id.startsWith('AlarmsHub')).map(([id, alarm]) => [id.replace(/^Alarms/, '').replace(/[0-9A-F]{8}$/, ''), (alarm as any).Properties]));
    expect(Object.keys(hubAlarms).sort()).toEqual(['HubControlDeadLettersAlarm', 'HubCrashAlarm', 'HubDeliveryAgeAlarm', 'HubDeliveryDeadLettersAlarm']);
    const queueOf = (alarm: any) => alarm.Dimensions[0].Value['Fn::GetAtt'][0] as string;
    expect(hubAlarms.HubControlDeadLettersAlarm).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    expect(queueOf(hubAlarms.HubControlDeadLettersAlarm)).toMatch(/^HubControlDeadLetters/);
    expect(hubAlarms.HubDeliveryDeadLettersAlarm).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    expect(queueOf(hubAlarms.HubDeliveryDeadLettersAlarm)).toMatch(/^HubDeliveryDeadLetters/);
    // Older than the whole retry schedule: more than one subscriber's backoff explains.
    expect(hubAlarms.HubDeliveryAgeAlarm).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: retrySchedule(DEFAULT_RETRY).reduce((a, b) => a + b) / 1000 });
    expect(queueOf(hubAlarms.HubDeliveryAgeAlarm)).toMatch(/^HubDelivery[0-9A-F]{8}$/);
    expect(hubAlarms.HubCrashAlarm).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1 });
    for (const [, alarm] of alarms) expect((alarm as any).Properties.AlarmActions).toHaveLength(1);
  });

  it('outputs the API URL, the feeds URL, the table and the bucket', () => {
    expect(Object.keys(t.svc.findOutputs('*'))).toEqual(expect.arrayContaining(['ApiUrl', 'FeedsUrl', 'HubUrl', 'TableName', 'BucketName', 'DeadLetterQueueUrl', 'HubDeadLetterQueueUrls']));
  });
});

describe('the WebSub hub', () => {
  const queues = () => Object.fromEntries(Object.entries(t.svc.findResources('AWS::SQS::Queue')).filter(([id]) => id.startsWith('Hub')).map(([id, q]) => [id.replace(/[0-9A-F]{8}$/, ''), q as { Properties: any }]));
  const hubFunction = () => resourceOf(t.svc, 'AWS::Lambda::Function', 'HubFunction').Properties;

  it('has two FIFO queues, each with a FIFO dead-letter queue taking a job after the retry policy\'s last attempt', () => {
    const q = queues();
    expect(Object.keys(q).sort()).toEqual(['HubControl', 'HubControlDeadLetters', 'HubDelivery', 'HubDeliveryDeadLetters']);
    for (const queue of Object.values(q)) {
      // Job ids are the deduplication ids; the same job sent twice is one message.
      expect(queue.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false, SqsManagedSseEnabled: true });
    }
    for (const lane of ['HubControl', 'HubDelivery']) {
      const redrive = q[lane]!.Properties.RedrivePolicy;
      expect(redrive.maxReceiveCount).toBe(DEFAULT_RETRY.maxAttempts);
      expect(redrive.deadLetterTargetArn['Fn::GetAtt'][0]).toMatch(new RegExp(`^${lane}DeadLetters`));
    }
  });

  it('keeps a job visible to one invocation at a time and long enough to be retried over its whole schedule', () => {
    const timeout = hubFunction().Timeout as number;
    const span = retrySchedule(DEFAULT_RETRY).reduce((a, b) => a + b) / 1000;
    for (const lane of ['HubControl', 'HubDelivery']) {
      const { VisibilityTimeout, MessageRetentionPeriod } = queues()[lane]!.Properties;
      expect(VisibilityTimeout).toBeGreaterThanOrEqual(6 * timeout);
      // A job whose backoff could not be set returns no sooner than the longest backoff would have made it.
      expect(VisibilityTimeout).toBeGreaterThanOrEqual(DEFAULT_RETRY.maxDelayMs / 1000);
      // Even then its 12 receives span more than the schedule, and the retention more than that.
      expect(DEFAULT_RETRY.maxAttempts * VisibilityTimeout).toBeGreaterThan(span);
      expect(MessageRetentionPeriod).toBe(4 * 86_400);
    }
  });

  it('refuses plain HTTP to every hub queue', () => {
    const policies = Object.values(t.svc.findResources('AWS::SQS::QueuePolicy')).map((p) => JSON.stringify(p));
    for (const id of Object.keys(t.svc.findResources('AWS::SQS::Queue')).filter((q) => q.startsWith('Hub'))) {
      const policy = policies.find((p) => p.includes(`"Ref":"${id}"`));
      expect(policy, id).toContain('"aws:SecureTransport":"false"');
      expect(policy, id).toContain('"Effect":"Deny"');
    }
  });

  it('runs the hub function from both queues, with partial-batch failures and bounded concurrency', () => {
    const mappings = (Object.values(t.svc.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: any }[]).filter((m) => m.Properties.FunctionName.Ref.startsWith('HubFunction'));
    const byQueue = Object.fromEntries(mappings.map((m) => [m.Properties.EventSourceArn['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''), m.Properties]));
    expect(Object.keys(byQueue).sort()).toEqual(['HubControl', 'HubDelivery']);
    for (const mapping of Object.values(byQueue) as any[]) {
      expect(mapping).toMatchObject({ BatchSize: 10, FunctionResponseTypes: ['ReportBatchItemFailures'] });
      expect(mapping.ScalingConfig.MaximumConcurrency).toBeGreaterThanOrEqual(2);
    }
    expect(byQueue.HubControl.ScalingConfig.MaximumConcurrency).toBeLessThanOrEqual(byQueue.HubDelivery.ScalingConfig.MaximumConcurrency);
    expect(hubFunction().Timeout).toBeGreaterThanOrEqual(10 * 10);
  });

  it('gives the queue URLs to the functions that build the hub, and no others', () => {
    const functions = Object.entries(t.svc.findResources('AWS::Lambda::Function')).map(([id, fn]) => [id.replace(/Function[0-9A-F]{8}$/, ''), (fn as any).Properties.Environment.Variables]);
    const withQueues = functions.filter(([, env]) => HUB_QUEUE_ENV.control in env).map(([id]) => id).sort();
    // Every function that renders a feed announces it: both lanes and the operator's re-drive.
    expect(withQueues).toEqual(['Hub', 'PublisherApi', 'RegenerationRedrive', 'RegenerationRegenerate', 'RegenerationRenderPages']);
    for (const [, env] of functions.filter(([, env]) => HUB_QUEUE_ENV.control in env)) {
      expect(env[HUB_QUEUE_ENV.control].Ref).toMatch(/^HubControl[0-9A-F]{8}$/);
      expect(env[HUB_QUEUE_ENV.delivery].Ref).toMatch(/^HubDelivery[0-9A-F]{8}$/);
    }
  });

  it('lets the API and the feeds lane send to the control queue only, and read no hub item beyond what POST /hub counts', () => {
    for (const prefix of ['PublisherApi', 'RegenerationRegenerate']) {
      const sends = withAction(statementsOf(t.svc, prefix), 'sqs:SendMessage').filter((s) => JSON.stringify(s.Resource).includes('Hub'));
      expect(sends.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^HubControl[0-9A-F]{8}$/), 'Arn'] }]);
      const onHubQueues = statementsOf(t.svc, prefix).filter((s) => JSON.stringify(s.Resource).includes('"Hub'));
      expect(actionsOf(onHubQueues)).toEqual(['sqs:SendMessage']);
    }
    const hubReads = statementsOf(t.svc, 'PublisherApi').filter((s) => s.Condition);
    expect(hubReads.map((s) => [actionsOf([s]), s.Condition])).toEqual([
      [['dynamodb:GetItem', 'dynamodb:Query'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SUB#*'] } }],
      [['dynamodb:Query'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SUBHOST#*'] } }],
    ]);
  });

  it('deploys the hub function before every function that sends it jobs, so no job of a new shape reaches an old hub', () => {
    const functions = Object.entries(t.svc.findResources('AWS::Lambda::Function')) as [string, { DependsOn?: string[]; Properties: any }][];
    const [hubId] = functions.find(([id]) => id.startsWith('HubFunction'))!;
    const senders = functions.filter(([, fn]) => JSON.stringify(fn.Properties.Environment?.Variables ?? {}).includes('FEEDPUB_HUB_CONTROL_QUEUE_URL')).map(([id, fn]) => [id.replace(/Function[0-9A-F]{8}$/, ''), (fn.DependsOn ?? []).includes(hubId)]);
    expect(senders.sort()).toEqual([['Hub', false], ['PublisherApi', true], ['RegenerationRedrive', true], ['RegenerationRegenerate', true], ['RegenerationRenderPages', true]]);
  });

  it('gives the hub function its queues, its own items, and feed versions to read, nothing else', () => {
    const statements = statementsOf(t.svc, 'Hub');
    // Every table action is held to the hub's partitions (lib/hub/keys.ts).
    const table = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(table.map((s) => [actionsOf([s]), s.Condition])).toEqual([
      [['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SUB#*'] } }],
      [['dynamodb:DeleteItem', 'dynamodb:PutItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SUBHOST#*'] } }],
      [['dynamodb:PutItem'], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['HUBJOB#*'] } }],
    ]);
    const s3 = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('s3:')));
    expect(actionsOf(s3)).toEqual(['s3:GetObjectVersion']);
    expect(JSON.stringify(s3[0]!.Resource)).toMatch(/"\/feeds\/\*"/);
    const queueOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map((r: any) => r['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '')).sort();
    expect(withAction(statements, 'sqs:SendMessage').flatMap(queueOf).sort()).toEqual(['HubControl', 'HubDelivery']);
    expect(withAction(statements, 'sqs:ChangeMessageVisibility').flatMap(queueOf).sort()).toEqual(['HubControl', 'HubDelivery']);
    expect(withAction(statements, 'sqs:DeleteMessage').flatMap(queueOf).sort()).toEqual(['HubControl', 'HubDelivery']);
    for (const action of actionsOf(statements)) expect(action).not.toMatch(/\*|Scan|Purge|PutObject|DeleteObject/);
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
