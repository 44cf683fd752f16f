import { join } from 'node:path';
import type { FeedpubConfig } from '../config.js';
import { dataDirectory, localApiKey } from './data-dir.js';
import type { LocalFeedpub } from './local-feedpub.js';
import { claimDataDir, runningFile, runningOn, type RunningRecord } from './running-record.js';
import { LOCAL_AWS_ENV, startDynamoLocal, startS3Local, type LocalServer } from './servers.js';
import { StartTimings } from './start-timings.js';

export interface LocalStack {
  feedpub: LocalFeedpub;
  config: FeedpubConfig;
  apiKey: { key: string; source: string };
  dataDir: string;
  /** Settles when the feeds that fell behind while the stack was stopped are brought up to date. */
  caughtUp: Promise<void>;
  /**
   * Stops the API and the lanes, then the servers. Lanes still busy after `graceMs` are left: what they had not
   * finished is behind their checkpoints and is done after the next start, as after a crash.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** The local port, checked, and the configuration with local defaults; any FEEDPUB_* variable in the environment wins. */
export async function localConfig(env = process.env): Promise<{ config: FeedpubConfig; port: number }> {
  const { loadConfig, localSettings } = await import('../config.js');
  const { port } = localSettings(env);
  const config = loadConfig({
    FEEDPUB_TABLE: 'feedpub',
    FEEDPUB_BUCKET: 'feedpub-feeds',
    FEEDPUB_SITE_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
  return { config, port };
}

/**
 * `npm start`: DynamoDB Local and s3rver with their data in the data directory, the same handlers as in
 * Lambda, and one HTTP endpoint. Feeds that fell behind while it was stopped are brought up to date.
 *
 * Most of the wait is the JVM's start, so the two servers start first, at once, and feedpub's own modules and
 * configuration load meanwhile (a bad configuration stops them again).
 * Whatever ends this process, the servers end with it (see servers.ts).
 */
export async function startLocalStack(env = process.env, timings = new StartTimings()): Promise<LocalStack> {
  const dataDir = dataDirectory(env);
  const claim = await timings.time('claim the data directory', () => claimDataDir(dataDir));
  const servers: LocalServer[] = [];
  const started = (server: LocalServer) => {
    servers.push(server);
    claim.update({ servers: servers.map((s) => s.pid) });
    return server;
  };
  const stopServers = () => Promise.all(servers.map((s) => s.stop()));
  try {
    const [dynamo, s3, [{ startLocalFeedpub }, { logger }, { config, port }]] = await settleAll([
      timings.time('DynamoDB Local', () => startDynamoLocal({ dbPath: join(dataDir, 'dynamodb') }).then(started)),
      timings.time('s3rver', () => startS3Local({ directory: join(dataDir, 's3') }).then(started)),
      timings.time('feedpub modules and configuration', () => Promise.all([import('./local-feedpub.js'), import('../log.js'), localConfig(env)])),
    ]);
    // The SDK reads these itself: the handlers run unchanged, only the endpoints differ from AWS.
    Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_S3: s3.endpoint });

    const apiKey = localApiKey(dataDir, env);
    const feedpub = await timings.time('table, bucket, key, lanes, HTTP', () =>
      startLocalFeedpub({ config, port, apiKey: apiKey.key, checkpointFile: join(dataDir, 'stream-checkpoint.json'), hubDirectory: join(dataDir, 'hub') }),
    );
    // Lets `feedpub import`, `redrive` and `keys create` find this running stack.
    claim.update({ dynamodb: dynamo.endpoint, s3: s3.endpoint, url: feedpub.url });
    const caughtUp = timings
      .time('catch-up of feeds behind (after ready)', () => feedpub.regeneration.redrive())
      .then((report) => void (report.regenerated.length > 0 && logger.info('caught up feeds after start', { feeds: report.regenerated.length })))
      .catch((error: unknown) => logger.error('catch-up after start failed', { error: error as Error }));
    return {
      feedpub,
      config,
      apiKey,
      dataDir,
      caughtUp,
      stop: async ({ graceMs = 5_000 } = {}) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([feedpub.stop(), late]);
        clearTimeout(timer);
        await stopServers();
        claim.release();
      },
    };
  } catch (error) {
    await stopServers();
    claim.release();
    throw error;
  }
}

/** Promise.all that waits for every promise before it rejects: no server is left starting unseen. */
async function settleAll<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

/** What `npm start` wrote about the stack it runs. */
export function runningStack(env = process.env): Required<Pick<RunningRecord, 'dynamodb' | 's3' | 'url'>> {
  const dir = dataDirectory(env);
  const running = runningOn(dir);
  if (!running?.url || !running.dynamodb || !running.s3) {
    throw new Error(`feedpub is not running locally on ${dir} (no live ${runningFile(dir)}); start it with npm start`);
  }
  return { dynamodb: running.dynamodb, s3: running.s3, url: running.url };
}

/** Points this process's SDK clients at the stack `npm start` is running, and returns its configuration. */
export async function attachToRunningStack(env = process.env): Promise<FeedpubConfig> {
  const endpoints = runningStack(env);
  Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb, AWS_ENDPOINT_URL_S3: endpoints.s3 });
  return (await localConfig(env)).config;
}
