import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../lib/keys/key-format.js';
import { loadConfig, type FeedpubConfig } from '../../lib/config.js';
import { startLocalFeedpub, type LocalFeedpub, type LocalFeedpubOptions } from '../../lib/local/local-feedpub.js';
import { LOCAL_AWS_ENV, startDynamoLocal, startS3Local, type SlowS3Request } from '../../lib/local/servers.js';
import { startMemoryDynamo } from './memory-dynamo/index.js';

/**
 * The DynamoDB a stack runs against: DynamoDB Local (as `npm start` runs it), or memory-dynamo, an in-memory
 * stand-in at a small fraction of its CPU per request: the same workload on both shows how much of a result is
 * DynamoDB Local's.
 */
export type BenchStore = 'dynamodb-local' | 'memory';

export interface BenchStack {
  feedpub: LocalFeedpub;
  config: FeedpubConfig;
  key: string;
  store: BenchStore;
  /** The server processes beside feedpub's (their CPU is read from /proc by --profile). */
  pids: Record<string, number>;
  /** The requests the local S3 server logged as slow (over FEEDPUB_LOCAL_SLOW_MS, 1 s by default), the latest 1,000. */
  slowS3Requests(): SlowS3Request[];
  stop(): Promise<void>;
}

/** A throw-away local stack (DynamoDB Local in memory, s3rver in a temp directory), as `npm start` runs it. */
export async function startBenchStack(
  env: Record<string, string> = {},
  wrapClients?: LocalFeedpubOptions['wrapClients'],
  { store = 'dynamodb-local', announce = true }: { store?: BenchStore; announce?: boolean } = {},
): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'feedpub-bench-'));
  const dynamo = store === 'memory' ? await startMemoryDynamo() : await startDynamoLocal({ sustained: true });
  const s3 = await startS3Local({ directory: join(dir, 's3') });
  Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_S3: s3.endpoint });
  const config = loadConfig({ FEEDPUB_TABLE: 'bench', FEEDPUB_BUCKET: 'bench-feeds', FEEDPUB_SITE_URL: 'https://bench.example.com', ...env });
  const key = generateKey();
  // Without announcements (`--without-hub`): renders tell the hub nothing, so its fan-outs' share is measured.
  const feedpub = await startLocalFeedpub({ config, port: 0, apiKey: key, wrapClients, ...(announce ? {} : { regeneration: { onWritten: async () => {} } }) });
  return {
    feedpub,
    config,
    key,
    store,
    pids: { [STORE_NAMES[store]]: dynamo.pid, s3rver: s3.pid },
    slowS3Requests: s3.slowRequests,
    stop: async () => {
      await feedpub.stop();
      await Promise.all([dynamo.stop(), s3.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
    mean: round(sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1)),
  };
}

/** Names the store of the tables printed from now on (the benchmark runs its stack sections once per store). */
let storeLabel = '';
export const STORE_NAMES: Record<BenchStore, string> = { 'dynamodb-local': 'DynamoDB Local', memory: 'memory-dynamo' };
export function printingFor(store: BenchStore): void {
  storeLabel = ` [${STORE_NAMES[store]}]`;
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  title = `${title}${storeLabel}`;
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(columns)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(row[c])))}\n`);
}


/**
 * What the local front and the local S3 server logged as slow (over FEEDPUB_LOCAL_SLOW_MS, from arrival to the last
 * byte sent) among the latest 1,000 each keeps, those that arrived at or after `since` (epoch ms; default: all), the
 * ten slowest of each printed with where that server's time went.
 */
export function slowServing(stack: BenchStack, since = 0) {
  const slowest = <T extends { ms: number; at: string }>(logged: T[]) => {
    const kept = logged.filter((entry) => Date.parse(entry.at) >= since);
    return { count: kept.length, slowest: [...kept].sort((x, y) => y.ms - x.ms).slice(0, 10) };
  };
  const slowReads = slowest(stack.feedpub.slowReads());
  const slowS3Requests = slowest(stack.slowS3Requests());
  if (slowReads.count > 0) {
    printTable('The slowest reads of the local front over 1 s (ms): waiting for a connected socket to the S3 server (of it, connecting a new one), for its answer, and sending the body on', slowReads.slowest.map(({ finished, status, ...read }) => ({ ...read, status: status ?? 'none', sent: finished ? 'whole' : 'reader gone' })));
  }
  if (slowS3Requests.count > 0) {
    printTable("The slowest requests of the local S3 server over 1 s (ms from arrival to the last byte sent; the store's phases in ms)", slowS3Requests.slowest.map(({ phases, finished, status, ...request }) => ({
      ...request,
      status: status ?? 'none',
      sent: finished ? 'whole' : 'client gone',
      phases: Object.entries(phases).map(([phase, n]) => `${phase} ${n}`).join(', '),
    })));
  }
  return { slowReads, slowS3Requests };
}
