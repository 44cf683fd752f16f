import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_AWS_ENV, startS3Local, type LocalServer } from '../../lib/local/servers.js';
import { until } from '../support/until.js';

/** startS3Local with FEEDPUB_LOCAL_SLOW_MS set as given for the server process only. */
async function startWithSlowMs(directory: string, slowMs: string) {
  const before = process.env.FEEDPUB_LOCAL_SLOW_MS;
  process.env.FEEDPUB_LOCAL_SLOW_MS = slowMs;
  try {
    return await startS3Local({ directory });
  } finally {
    if (before === undefined) delete process.env.FEEDPUB_LOCAL_SLOW_MS;
    else process.env.FEEDPUB_LOCAL_SLOW_MS = before;
  }
}

describe('the local S3 server: its log of slow requests', () => {
  const dir = mkdtempSync(join(tmpdir(), 'feedpub-s3-slow-'));
  const servers: LocalServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs, over the threshold, each request with where the store spent its time', async () => {
    const server = await startWithSlowMs(join(dir, 's3'), '0'); // every request is over 0 ms
    servers.push(server);
    const s3 = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: LOCAL_AWS_ENV.AWS_REGION, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await s3.send(new CreateBucketCommand({ Bucket: 'logged' }));
    await s3.send(new PutObjectCommand({ Bucket: 'logged', Key: 'feeds/site/feed.json', Body: '{"items":[]}', ContentType: 'application/feed+json' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'logged', Key: 'feeds/site/feed.json' }));
    expect(await got.Body!.transformToString()).toBe('{"items":[]}');
    const logged = await until(async () => server.slowRequests(), (requests) => requests.filter((r) => r.path === '/logged/feeds/site/feed.json').length >= 2);
    const [put, get] = logged.filter((r) => r.path === '/logged/feeds/site/feed.json');
    expect(put).toMatchObject({ method: 'PUT', status: 200, finished: true });
    expect(Object.keys(put!.phases).sort()).toEqual(['bodyMs', 'filesMs', 'mkdirMs', 'queuedMs', 'renamesMs', 'statMs']);
    expect(Number.isNaN(Date.parse(put!.at))).toBe(false);
    // The read after the write is served from what the write cached: no phase in the store at all.
    expect(get).toMatchObject({ method: 'GET', status: 200, finished: true, phases: {} });
  });

  it('refuses a threshold that is not a number, naming the variable', async () => {
    await expect(startWithSlowMs(join(dir, 'bad'), 'soon')).rejects.toThrow(/FEEDPUB_LOCAL_SLOW_MS: /);
  });
});
