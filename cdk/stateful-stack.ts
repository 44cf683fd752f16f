import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  PriceClass,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { AttributeType, BillingMode, ProjectionType, StreamViewType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { CONTENT_SECURITY_POLICY, REFERRER_POLICY, SECURITY_HEADERS } from '../lib/feeds/document-headers.js';
import { DIRECTORY_INDEX } from '../lib/store/table.js';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
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
  

    // Feeds change on every write: readers see a new post within a minute; after that, conditional GETs with
    // the ETag are answered 304 at the edge. No cookie, header or query string is part of the key.
    const cachePolicy = new CachePolicy(this, 'FeedCache', {
      comment: 'feedpub feeds: short TTL, nothing forwarded',
      defaultTtl: Duration.seconds(60),
      minTtl: Duration.seconds(0),
      maxTtl: Duration.minutes(5),
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
      },
      defaultRootObject: 'feeds/index.html',
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
      reason: 'GET/HEAD only, cached static objects from a private bucket: no request reaches compute. WAF is left to operators who need it.',
    });
    if (!certificate) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason: 'Without a custom domain CloudFront serves its default certificate, whose minimum protocol cannot be set; context domainName and certificateArn switch to TLSv1.2_2021.',
      });
    }
  }
}
