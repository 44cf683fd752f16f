import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  FunctionEventType,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginRequestPolicy,
  OriginProtocolPolicy,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { TTL_ATTRIBUTE } from '../lib/hub/keys.js';
import { CONTENT_SECURITY_POLICY, REFERRER_POLICY, SECURITY_HEADERS } from '../lib/feeds/document-headers.js';
import { DIRECTORY_INDEX } from '../lib/store/table.js';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { discoveryHeadersFunction } from './constructs/discovery-headers.js';
import type { FeedpubSettings } from './settings.js';

export interface StatefulStackProps extends StackProps {
  settings: FeedpubSettings;
}

/**
 * What must outlive any redeployment, in a stack of its own so that the service stack can be replaced freely:
 * the table (posts, feed indexes, feed revisions, hashed keys), the bucket of rendered feeds, and the CloudFront
 * distribution whose URL readers subscribe to.
 */
export class StatefulStack extends Stack {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** The HTTP API: its URL is a contract with publishers, and the distribution routes /hub to it. */
  readonly httpApi: HttpApi;
  /** Public base URL of `feeds/...`. */
  readonly feedsUrl: string;
  readonly bucketArnExport: string;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { settings } = props;

    this.table = new Table(this, 'Table', {
      partitionKey: { name: 'PK', type: AttributeType.STRING },
      sortKey: { name: 'SK', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The regeneration triggers: inbox items, hold releases and posts' new images (docs/DESIGN.md).
      stream: StreamViewType.NEW_IMAGE,
      // The hub's items (subscriptions, verification claims) expire by themselves (lib/hub/keys.ts).
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The directory of feeds (lib/store/table.ts): sparse, only RENDER items of feeds with posts carry its key.
    this.table.addGlobalSecondaryIndex({
      indexName: DIRECTORY_INDEX.name,
      partitionKey: { name: DIRECTORY_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: DIRECTORY_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...DIRECTORY_INDEX.attributes],
    });

    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront's standard logs are delivered with an ACL.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging it into itself would loop.',
    });

    this.bucket = new Bucket(this, 'Feeds', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Feeds are rewritten on every change: keep a week of old versions for recovery, no more.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(7), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'feeds-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
  

    // The origin decides (lib/store/s3-feed-store.ts): current documents say s-maxage=0, so the edge keeps each one
    // but asks S3 by ETag on every request (a new post is at the edge as soon as it is written, an unchanged one
    // costs a 304 from S3); archive pages say max-age=86400 and are kept the day. Readers' conditional GETs are
    // answered 304 at the edge. No cookie, header or query string is part of the key.
    const cachePolicy = new CachePolicy(this, 'FeedCache', {
      comment: 'feedpub feeds: TTL from the origin, revalidated when it says 0; nothing forwarded',
      defaultTtl: Duration.seconds(0),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.days(1),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    // The same security headers as the local front (lib/feeds/document-headers.ts), on pages and feeds alike.
    const responseHeaders = new ResponseHeadersPolicy(this, 'FeedHeaders', {
      comment: 'feedpub feeds: security headers, CORS for web readers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        referrerPolicy: { referrerPolicy: REFERRER_POLICY as HeadersReferrerPolicy, override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [{ header: 'Cross-Origin-Opener-Policy', value: SECURITY_HEADERS['cross-origin-opener-policy']!, override: true }],
      },
      corsBehavior: {
        accessControlAllowOrigins: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowHeaders: ['*'],
        accessControlAllowCredentials: false,
        originOverride: true,
      },
    });
    this.httpApi = new HttpApi(this, 'HttpApi', { description: 'feedpub publisher API and WebSub hub', createDefaultStage: false });
    // POST /hub reaches the API (its routes and stage are in the service stack) next to the feeds it serves.
    const hub = {
      origin: new HttpOrigin(Fn.select(2, Fn.split('/', this.httpApi.apiEndpoint)), { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      // The body and Content-Type, and every other viewer header; not Host, which must name the API's own domain.
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: responseHeaders,
    };
    const certificate = settings.certificateArn ? Certificate.fromCertificateArn(this, 'Certificate', settings.certificateArn) : undefined;
    this.distribution = new Distribution(this, 'Cdn', {
      comment: 'feedpub feeds',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        compress: true,
        cachePolicy,
        responseHeadersPolicy: responseHeaders,
        functionAssociations: [{ eventType: FunctionEventType.VIEWER_RESPONSE, function: discoveryHeadersFunction(this, 'DiscoveryHeaders', settings.domainName && `https://${settings.domainName}`) }],
      },
      additionalBehaviors: { '/hub': hub },
      // The home page: the site feed's page, rendered with the site feed (lib/pages/feed-page.ts).
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      // Includes Asia's edges (Hong Kong, Singapore, Tokyo), where the reference site's readers are.
      priceClass: PriceClass.PRICE_CLASS_200,
      ...(certificate && settings.domainName
        ? { domainNames: [settings.domainName], certificate, minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021 }
        : {}),
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: 'cloudfront/',
    });
    this.bucketArnExport = `${this.stackName}-FeedsBucketArn`;
    new CfnOutput(this, 'FeedsBucketArn', { value: this.bucket.bucketArn, exportName: this.bucketArnExport });
    this.feedsUrl = `https://${settings.domainName ?? this.distribution.distributionDomainName}`;

    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR1',
      reason: 'Feeds are public by nature and read worldwide; there is no country to exclude.',
    });
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR2',
      reason: 'Cached static objects from a private bucket, and POST /hub, which reaches the throttled API stage and queues one verification per request. WAF is left to operators who need it.',
    });
    if (!certificate) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason: 'Without a custom domain CloudFront serves its default certificate, whose minimum protocol cannot be set; context domainName and certificateArn switch to TLSv1.2_2021.',
      });
    }
  }
}
