import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/app.js';
import { HUB_QUEUE_ENV } from '../../lib/hub/build-hub.js';
import { DynamoSubscriptionStore } from '../../lib/hub/dynamo-subscriptions.js';
import { subscriptionId } from '../../lib/hub/keys.js';
import { generateKey, hashKey } from '../../lib/keys/key-format.js';
import { ensureBucket, ensureTable } from '../../lib/local/provision.js';
import { toLambdaRecord } from '../../lib/local/event-source.js';
import { createDocumentClient, createS3Client } from '../../lib/store/clients.js';
import { DynamoKeyAdmin } from '../../lib/store/dynamo-key-admin.js';
import { readFeed } from '../support/feeds.js';
import { useLocalEndpoints } from '../support/feedpub.js';

type Handler = (event: unknown, context?: unknown) => Promise<any>;

const outdir = mkdtempSync(join(tmpdir(), 'feedpub-cdk-'));
const suffix = randomBytes(4).toString('hex');
const tableName = `bundles-${suffix}`;
const bucketName = `bundles-${suffix}`;
const key = generateKey();
const scopedKey = generateKey();
const bundles: Record<string, { dir: string; handler: Handler }> = {};
let streamArn: string;

beforeAll(async () => {
  // The assets exactly as `cdk deploy` uploads them: NodejsFunction bundling by esbuild at synth.
  const { app, service } = buildApp(new App({ outdir }));
  app.synth();
  const functions = Template.fromStack(service).findResources('AWS::Lambda::Function');

  useLocalEndpoints();
  Object.assign(process.env, {
    FEEDPUB_TABLE: tableName,
    FEEDPUB_BUCKET: bucketName,
    FEEDPUB_SITE_URL: 'https://bundles.example.com',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const dynamo = new DynamoDBClient({});
  streamArn = await ensureTable(dynamo, tableName);
  await ensureBucket(createS3Client(), bucketName);
  const admin = new DynamoKeyAdmin(createDocumentClient(dynamo), tableName);
  await admin.create(hashKey(key), 'bundles', { categories: [], tags: [] });
  await admin.create(hashKey(scopedKey), 'desk', { categories: ['bundles'], tags: [] });

  for (const [logicalId, resource] of Object.entries(functions)) {
    const name = ['PublisherApi', 'PublisherAuthorize', 'RegenerationRegenerate', 'RegenerationRenderPages', 'RegenerationRedrive', 'Hub']
      .find((n) => logicalId.startsWith(`${n}Function`))!
      .replace(/^Publisher|^Regeneration/, '');
    const s3Key = (resource as any).Properties.Code.S3Key as string;
    const dir = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);
    // The hub function needs its queues (it refuses to start without them); the others run here without a hub,
    // as there is no SQS locally. Callbacks on loopback are allowed for this test's subscriber only.
    const hubEnv = { [HUB_QUEUE_ENV.control]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/control.fifo', [HUB_QUEUE_ENV.delivery]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/delivery.fifo', FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: 'true' };
    if (name === 'Hub') Object.assign(process.env, hubEnv);
    const module = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler: Handler };
    for (const variable of Object.keys(hubEnv)) delete process.env[variable];
    bundles[name] = { dir, handler: module.handler };
  }
  expect(Object.keys(bundles).sort()).toEqual(['Api', 'Authorize', 'Hub', 'Redrive', 'Regenerate', 'RenderPages']);
}, 120_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

// An HTTP API payload 2.0 event, as API Gateway sends it (written out here, not built by feedpub's code).
function httpEvent(method: string, path: string, headers: Record<string, string>, body?: string) {
  return {
    version: '2.0',
    routeKey: `${method} ${path.startsWith('/posts/') ? '/posts/{id}' : path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'user-agent': 'curl/8.0', ...headers },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8.0' },
      requestId: `req-${randomBytes(4).toString('hex')}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '28/Nov/2026:20:00:00 +0000',
      timeEpoch: 1795896000000,
    },
    ...(body === undefined ? {} : { body, isBase64Encoded: false }),
  };
}

// What API Gateway sends the Authorize function for a route with the key authorizer.
function authorizerEvent(authorization: string) {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/$default/POST/posts',
    identitySource: [authorization],
    routeKey: 'POST /posts',
    rawPath: '/posts',
    rawQueryString: '',
    headers: { authorization },
    requestContext: httpEvent('POST', '/posts', {}).requestContext,
  };
}

/** API Gateway's part: asks the Authorize bundle about the key, and passes its context on to the API (payload 2.0). */
async function throughGateway(method: string, path: string, headers: Record<string, string>, body?: string) {
  const answer = await bundles.Authorize!.handler(authorizerEvent(headers.authorization ?? ''));
  if (!answer.isAuthorized) return { statusCode: 403, body: '{"message":"Forbidden"}' };
  const event = httpEvent(method, path, headers, body);
  return bundles.Api!.handler({ ...event, requestContext: { ...event.requestContext, authorizer: { lambda: answer.context } } }, { awsRequestId: 'lambda-req' });
}

describe('the bundles CDK deploys', () => {
  it('are each under 1 MB', () => {
    for (const [name, { dir }] of Object.entries(bundles)) {
      expect(statSync(join(dir, 'index.mjs')).size, name).toBeLessThan(1024 * 1024);
    }
  });

  it('authorize: admits a stored key with its scope as the context, and refuses others (simple responses)', async () => {
    const admitted = await bundles.Authorize!.handler(authorizerEvent(`Bearer ${key}`));
    expect(admitted).toEqual({ isAuthorized: true, context: { keyId: expect.stringMatching(/^[0-9a-f]{8}$/), keyName: 'bundles', scope: '{"categories":[],"tags":[]}' } });
    const scoped = await bundles.Authorize!.handler(authorizerEvent(`Bearer ${scopedKey}`));
    expect(JSON.parse(scoped.context.scope)).toEqual({ categories: ['bundles'], tags: [] });
    expect(await bundles.Authorize!.handler(authorizerEvent('Bearer fp_wrong'))).toEqual({ isAuthorized: false });
    // A look-alike (the checksum fails) is refused without a read.
    expect(await bundles.Authorize!.handler(authorizerEvent(`Bearer ${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`))).toEqual({ isAuthorized: false });
  });

  it('api: acts on the caller the authorizer passed on; refuses a request that came without one', async () => {
    const auth = (k: string) => ({ authorization: `Bearer ${k}`, 'content-type': 'application/json' });
    const outside = await throughGateway('PUT', '/posts/elsewhere', auth(scopedKey), JSON.stringify({ title: 't', content: '<p>x</p>', categories: ['other'] }));
    expect(outside.statusCode).toBe(403);
    expect(JSON.parse(outside.body).error).toMatchObject({ code: 'out_of_scope', issues: [{ field: 'categories', rule: 'key_scope' }] });
    expect(JSON.parse(outside.body).error.message).toContain("'other'");
    const bare = await bundles.Api!.handler(httpEvent('GET', '/posts', auth(key)), {});
    expect(bare.statusCode).toBe(401);
  });

  it('api + regenerate: a post written through the API bundle reaches the feeds through the regenerate bundle', async () => {
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const created = await throughGateway('PUT', '/posts/bundled-1', auth, JSON.stringify({ title: '打包测试', content: '<p>bundled</p>', categories: ['bundles'] }));
    expect(created.statusCode).toBe(201);
    expect(JSON.parse(created.body)).toMatchObject({ id: 'bundled-1', title: '打包测试' });
    const bad = await throughGateway('PUT', '/posts/bundled-2', auth, '{"title":');
    expect(bad.statusCode).toBe(400);

    // The stream records the write produced, as the two event source mappings would deliver them (their filters
    // written out here: inbox items to the feeds lane, post items to the pages lane).
    const streams = new DynamoDBStreamsClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB });
    const shard = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!.Shards![0]!;
    const iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    const records = ((await streams.send(new GetRecordsCommand({ ShardIterator: iterator }))).Records ?? []).map((r) => toLambdaRecord(r, streamArn));
    const inbox = records.filter((r) => r.eventName === 'INSERT' && r.dynamodb?.Keys?.SK?.S?.startsWith('N#'));
    expect(inbox.map((r) => r.dynamodb?.Keys?.PK?.S).sort()).toEqual(['FEED#c:bundles', 'FEED#site']);
    const posts = records.filter((r) => r.dynamodb?.Keys?.SK?.S === 'POST');
    expect(posts.map((r) => r.dynamodb?.Keys?.PK?.S)).toEqual(['POST#bundled-1']);

    expect(await bundles.Regenerate!.handler({ Records: inbox })).toEqual({ batchItemFailures: [] });
    expect(await bundles.RenderPages!.handler({ Records: posts })).toEqual({ batchItemFailures: [] });

    const s3 = createS3Client();
    for (const [file, format] of [['rss.xml', 'rss'], ['atom.xml', 'atom'], ['feed.json', 'json']] as const) {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: `feeds/categories/bundles/${file}` }));
      const feed = readFeed(format, await object.Body!.transformToString());
      expect(feed.items.map((i) => i.title)).toEqual(['打包测试']);
    }
    const page = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: 'posts/bundled-1.html' }));
    expect(await page.Body!.transformToString()).toContain('<h1>打包测试</h1>');
  });

  it('redrive: brings a feed whose trigger was lost up to date', async () => {
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const created = await throughGateway('PUT', '/posts/lost-trigger', auth, JSON.stringify({ title: '无人触发', content: '<p>x</p>', categories: ['orphans'] }));
    expect(created.statusCode).toBe(201);
    // No stream batch is delivered for this write: only the re-drive can bring the feed about.
    const report = await bundles.Redrive!.handler({});
    expect(report.regenerated).toEqual(expect.arrayContaining(['c:orphans']));
    expect(report.failed).toEqual([]);
    const object = await createS3Client().send(new GetObjectCommand({ Bucket: bucketName, Key: 'feeds/categories/orphans/atom.xml' }));
    expect(readFeed('atom', await object.Body!.transformToString()).items.map((i) => i.title)).toEqual(['无人触发']);
  });

  it('hub: delivers a version to a subscriber from an SQS delivery batch, signed, and reports no failure', async () => {
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const subscriber = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => subscriber.listen(0, '127.0.0.1', resolve));
    try {
      const callback = `http://127.0.0.1:${(subscriber.address() as AddressInfo).port}/cb`;
      const topicKey = 'feeds/rss.xml';
      const topic = 'https://bundles.example.com/feeds/rss.xml';
      const secret = 'bundled secret';
      const id = subscriptionId(topicKey, callback);
      await new DynamoSubscriptionStore(createDocumentClient(), tableName).save({
        id, topicKey, topic, callback, host: '127.0.0.1', secret, leaseSeconds: 3600, expiresAt: Date.now() + 3_600_000, verifiedAt: new Date().toISOString(),
      });
      const body = Buffer.from('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>打包</title></channel></rss>');
      const job = { kind: 'deliver', id: `n-1.${id}`, subscriptionId: id, topicKey, callback, contentType: 'application/rss+xml; charset=utf-8', body: { inline: body.toString('base64') }, announcedAt: Date.now() };
      // An SQS event as Lambda's FIFO event source delivers it (written out here, not built by feedpub's code).
      const event = {
        Records: [
          {
            messageId: 'm-1',
            receiptHandle: 'r-1',
            body: JSON.stringify(job),
            attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), MessageGroupId: id, MessageDeduplicationId: job.id, SequenceNumber: '1', SenderId: 'AIDA', ApproximateFirstReceiveTimestamp: String(Date.now()) },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:delivery.fifo',
            awsRegion: 'eu-west-1',
          },
        ],
      };
      expect(await bundles.Hub!.handler(event)).toEqual({ batchItemFailures: [] });
      expect(received).toHaveLength(1);
      const [delivery] = received;
      expect(delivery!.body.equals(body)).toBe(true);
      expect(delivery!.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
      expect(delivery!.headers.link).toBe(`<https://bundles.example.com/hub>; rel="hub", <${topic}>; rel="self"`);
      expect(delivery!.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
    } finally {
      await new Promise((resolve) => subscriber.close(resolve));
    }
  });
});
