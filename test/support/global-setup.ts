import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startMemoryDynamo } from '../../bench/lib/memory-dynamo/index.js';
import { startDynamoLocal, startS3Local } from '../../lib/local/servers.js';
import { startDynamoPool } from './dynamo-pool.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    s3Endpoint: string;
    dynamoPool: string;
  }
}

/**
 * One DynamoDB Local (in memory) and one s3rver for the whole run; each test file uses its own table and bucket.
 * Integration files each take a DynamoDB Local of their own besides, from a pool that starts the next while vitest
 * moves from file to file (dynamo-pool.ts, file-dynamo.ts); the run's serves the others.
 * FEEDPUB_TEST_DYNAMO=memory runs the benchmarks' in-memory DynamoDB instead: feedpub's tests passing against it
 * are what shows it faithful enough to stand in for DynamoDB Local in a measurement.
 * Both end with this process however it ends (Ctrl-C, a crash, SIGKILL): see lib/local/servers.ts.
 */
export default async function setup(project: TestProject) {
  // As in the CLI (lib/cli/main.ts): the SDK's notice that its releases after January 2027 need Node 22, on Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const s3Dir = mkdtempSync(join(tmpdir(), 'feedpub-s3-'));
  const [dynamo, s3, pool] = await Promise.all([process.env.FEEDPUB_TEST_DYNAMO === 'memory' ? startMemoryDynamo() : startDynamoLocal({ shortLived: true }), startS3Local({ directory: s3Dir }), startDynamoPool({ prestart: process.env.FEEDPUB_TEST_DYNAMO !== 'memory' })]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('s3Endpoint', s3.endpoint);
  project.provide('dynamoPool', pool.url);
  return async () => {
    await Promise.all([dynamo.stop(), s3.stop(), pool.stop()]);
    rmSync(s3Dir, { recursive: true, force: true });
  };
}
