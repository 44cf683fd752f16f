import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { generateKey } from '../../lib/keys/key-format.js';
import { loadConfig, type FeedpubConfig } from '../../lib/config.js';
import { startLocalFeedpub, type LocalFeedpub, type LocalFeedpubOptions } from '../../lib/local/local-feedpub.js';
import { LOCAL_AWS_ENV } from '../../lib/local/servers.js';

/** Points the SDK (and so the unchanged handlers) at the servers the global setup started. */
export function useLocalEndpoints(): void {
  Object.assign(process.env, LOCAL_AWS_ENV, {
    // The file's own DynamoDB Local (file-dynamo.ts), else the run's.
    AWS_ENDPOINT_URL_DYNAMODB: process.env.FEEDPUB_TEST_FILE_DYNAMO ?? inject('dynamoEndpoint'),
    AWS_ENDPOINT_URL_S3: inject('s3Endpoint'),
  });
}

export interface TestFeedpub extends LocalFeedpub {
  key: string;
  config: FeedpubConfig;
  /** A request to the API with the publisher key. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

/** A whole local feedpub (API, regenerator, HTTP front) on a fresh table and bucket. */
export async function startTestFeedpub(
  env: Record<string, string> = {},
  options: Pick<LocalFeedpubOptions, 'wrapClients' | 'lanes' | 'regeneration' | 'tickMs' | 'hubRetry'> = {},
): Promise<TestFeedpub> {
  useLocalEndpoints();
  const suffix = randomBytes(4).toString('hex');
  const config = loadConfig({
    FEEDPUB_TABLE: `feedpub-${suffix}`,
    FEEDPUB_BUCKET: `feeds-${suffix}`,
    FEEDPUB_SITE_URL: 'https://news.example.com',
    FEEDPUB_SITE_TITLE: 'Test News',
    // The directory every second, unless a test is about its interval.
    FEEDPUB_DIRECTORY_INTERVAL: '1',
    ...env,
  });
  const key = generateKey();
  const feedpub = await startLocalFeedpub({ config, port: 0, apiKey: key, ...options });
  // Strings and bytes are sent as they are; anything else as JSON.
  const api = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const raw = typeof body === 'string' || body instanceof Uint8Array;
    return fetch(`${feedpub.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : raw ? (body as string | Uint8Array) : JSON.stringify(body),
    });
  };
  return { ...feedpub, key, config, api };
}
