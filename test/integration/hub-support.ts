import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Hono } from 'hono';
import { sleep } from '../../lib/concurrency.js';
import { PublicError } from '../../lib/errors.js';
import { feedFormatOfKey, feedTopicOf } from '../../lib/hub/feed-topics.js';
import { acceptHubRequest } from '../../lib/hub/accept-request.js';
import { announce } from '../../lib/hub/announce.js';
import { addressPolicy, type Resolver } from '../../lib/hub/callback-address.js';
import { CallbackClient } from '../../lib/hub/callback-client.js';
import { DynamoSubscriptionStore } from '../../lib/hub/dynamo-subscriptions.js';
import { createHubJobHandler } from '../../lib/hub/hub-handler.js';
import { loadHubConfig, type HubConfig } from '../../lib/hub/hub-config.js';
import { LocalHubQueue } from '../../lib/hub/local-queue.js';
import type { HubQueue } from '../../lib/hub/queue.js';
import { FEED_FORMATS } from '../../lib/feeds/feed-ref.js';
import { ensureTable } from '../../lib/local/provision.js';
import { createDocumentClient } from '../../lib/store/clients.js';
import { useLocalEndpoints } from '../support/feedpub.js';

export const FEEDS_URL = 'https://news.example.com';
export const HUB_URL = 'https://api.news.example.com/hub';
export const topicUrl = (key: string) => `${FEEDS_URL}/${key.split('/').map(encodeURIComponent).join('/')}`;

/** A hub as the integrator wires it: the local queue, DynamoDB Local, a `POST /hub` route, a clock tests can move. */
export async function startTestHub(overrides: Partial<HubConfig> & { controlConcurrency?: number; startWorker?: boolean; resolve?: Resolver } = {}) {
  useLocalEndpoints();
  const { controlConcurrency, startWorker = true, resolve, ...configOverrides } = overrides;
  const tableName = `hub-${randomBytes(4).toString('hex')}`;
  await ensureTable(new DynamoDBClient({}), tableName);
  const doc = createDocumentClient();
  const clock = { skewMs: 0 };
  const now = () => Date.now() + clock.skewMs;
  const config: HubConfig = {
    ...loadHubConfig({ FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: 'true', FEEDPUB_HUB_LEASE_MIN: '1', FEEDPUB_HUB_TIMEOUT: '2' }, HUB_URL),
    retry: { firstDelayMs: 5, maxDelayMs: 40, maxAttempts: 12 },
    ...configOverrides,
  };
  const directory = mkdtempSync(join(tmpdir(), 'feedpub-hub-'));
  const subscriptions = new DynamoSubscriptionStore(doc, tableName, now);
  const openQueue = () => LocalHubQueue.open({ directory, deliveryConcurrency: config.deliveryConcurrency, retry: config.retry, ...(controlConcurrency ? { controlConcurrency } : {}) });
  let queue = openQueue();
  // The queue the handler sends to is whichever is open now (a test restarts it).
  const current: HubQueue = { send: (jobs) => queue.send(jobs) };
  const client = new CallbackClient({ policy: addressPolicy(config.allowPrivateCallbacks), timeoutMs: config.requestTimeoutMs, ...(resolve ? { resolve } : {}) });
  const handler = createHubJobHandler({ config, subscriptions, queue: current, client, now });
  const worker = () => queue.start(handler);
  if (startWorker) worker();

  const deps = { config, topicOf: feedTopicOf(FEEDS_URL), subscriptions, queue: current, now, ...(resolve ? { resolve } : {}) };
  const app = new Hono();
  app.post('/hub', async (c) => {
    await acceptHubRequest(await c.req.text(), c.req.header('content-type'), deps);
    return c.body(null, 202);
  });
  app.onError((error, c) => (error instanceof PublicError ? c.json({ error: { code: error.code, issues: error.issues } }, error.status) : c.json({ error: String(error) }, 500)));

  return {
    config,
    clock,
    get queue() {
      return queue;
    },
    handler,
    subscriptions,
    doc,
    tableName,
    startWorker: worker,
    /** POST /hub with these form fields. */
    request: (fields: Record<string, string>) =>
      app.request('/hub', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() }),
    /** What the regenerator's onWritten would announce: a new version of a feed document. */
    announce: (key: string, body: string | Uint8Array) =>
      announce(current, [{ key, contentType: FEED_FORMATS[feedFormatOfKey(key)!].contentType, body }], { inlineBodyMaxBytes: Infinity, now }),
    /** Stops the queue as a process stops (jobs in flight finish), and opens it again on its journal. */
    async restart() {
      await queue.stop();
      queue = openQueue();
      worker();
    },
    async stop() {
      await queue.stop();
      client.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What the subscriber answered. */
  status: number;
}

/** How a callback answers: verifications (default: echo the challenge) and deliveries (default: 200). */
export interface Behaviour {
  verify?: (query: URLSearchParams) => { status: number; body: string };
  deliver?: (request: Received) => number | 'hang' | Promise<number>;
}

/** A real subscriber: an HTTP server whose callbacks record every request the hub sends them. */
export class Subscriber {
  readonly received: Received[] = [];
  private readonly behaviours = new Map<string, Behaviour>();
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://subscriber');
        const request: Received = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks), status: 0 };
        const behaviour = this.behaviours.get(url.pathname) ?? {};
        if (req.method === 'GET') {
          const answer = behaviour.verify?.(url.searchParams) ?? { status: 200, body: url.searchParams.get('hub.challenge') ?? '' };
          request.status = answer.status;
          this.received.push(request);
          return void res.writeHead(answer.status).end(answer.body);
        }
        const status = behaviour.deliver?.(request) ?? 200;
        if (status === 'hang') return void this.received.push(request);
        void Promise.resolve(status).then((answer) => {
          request.status = answer;
          this.received.push(request);
          res.writeHead(answer).end();
        });
      });
    });
  }

  static async start(): Promise<Subscriber> {
    const subscriber = new Subscriber();
    await new Promise<void>((resolve) => subscriber.server.listen(0, '127.0.0.1', resolve));
    return subscriber;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  on(path: string, behaviour: Behaviour): void {
    this.behaviours.set(path, behaviour);
  }

  verifications(path: string): Received[] {
    return this.received.filter((r) => r.path === path && r.method === 'GET');
  }

  deliveries(path: string): Received[] {
    return this.received.filter((r) => r.path === path && r.method === 'POST');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls until `check` gives something truthy, or throws at the deadline. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5_000, what = 'the condition'): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}
