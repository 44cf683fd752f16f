import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type FeedpubConfig } from '../config.js';
import { logger } from '../log.js';
import { dataDirectory, localApiKey } from './data-dir.js';
import { startLocalFeedpub, type LocalFeedpub } from './local-feedpub.js';
import { LOCAL_AWS_ENV, startDynamoLocal, startS3Local, type LocalServer } from './servers.js';

export interface LocalStack {
  feedpub: LocalFeedpub;
  config: FeedpubConfig;
  apiKey: { key: string; source: string };
  dataDir: string;
  stop(): Promise<void>;
}

/** Local defaults; any FEEDPUB_* variable in the environment wins. */
export function localConfig(port: number, env = process.env): FeedpubConfig {
  return loadConfig({
    FEEDPUB_TABLE: 'feedpub',
    FEEDPUB_BUCKET: 'feedpub-feeds',
    FEEDPUB_SITE_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
}

/**
 * `npm start`: DynamoDB Local and s3rver with their data in the data directory, the same handlers as in
 * Lambda, and one HTTP endpoint. Feeds that fell behind while it was stopped are brought up to date.
 */
export async function startLocalStack(env = process.env): Promise<LocalStack> {
  const port = Number(env.PORT ?? 3000);
  const dataDir = dataDirectory(env);
  const config = localConfig(port, env);
  const servers: LocalServer[] = [];
  try {
    const dynamo = await startDynamoLocal({ dbPath: join(dataDir, 'dynamodb') });
    servers.push(dynamo);
    const s3 = await startS3Local({ directory: join(dataDir, 's3') });
    servers.push(s3);
    // The SDK reads these itself: the handlers run unchanged, only the endpoints differ from AWS.
    Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_S3: s3.endpoint });

    const apiKey = localApiKey(dataDir, env);
    const feedpub = await startLocalFeedpub({ config, port, apiKey: apiKey.key, checkpointFile: join(dataDir, 'stream-checkpoint.json'), hubDirectory: join(dataDir, 'hub') });
    // Lets `feedpub redrive` and `feedpub keys create` find this running stack.
    writeFileSync(endpointsFile(dataDir), JSON.stringify({ dynamodb: dynamo.endpoint, s3: s3.endpoint, url: feedpub.url, pid: process.pid }));
    void feedpub.regeneration
      .redrive()
      .then((report) => report.regenerated.length > 0 && logger.info('caught up feeds after start', { feeds: report.regenerated.length }))
      .catch((error: unknown) => logger.error('catch-up after start failed', { error: error as Error }));
    return {
      feedpub,
      config,
      apiKey,
      dataDir,
      stop: async () => {
        rmSync(endpointsFile(dataDir), { force: true });
        await feedpub.stop();
        await Promise.all(servers.map((s) => s.stop()));
      },
    };
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
}

const endpointsFile = (dataDir: string) => join(dataDir, 'endpoints.json');

interface RunningStack {
  dynamodb: string;
  s3: string;
  url: string;
}

/** What `npm start` wrote about the stack it runs. */
export function runningStack(env = process.env): RunningStack {
  const file = endpointsFile(dataDirectory(env));
  if (!existsSync(file)) throw new Error(`feedpub is not running locally (no ${file}); start it with npm start`);
  return JSON.parse(readFileSync(file, 'utf8')) as RunningStack;
}

/** Points this process's SDK clients at the stack `npm start` is running, and returns its configuration. */
export function attachToRunningStack(env = process.env): FeedpubConfig {
  const endpoints = runningStack(env);
  Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb, AWS_ENDPOINT_URL_S3: endpoints.s3 });
  return localConfig(Number(env.PORT ?? 3000), env);
}
