import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../lib/api/auth.js';
import { loadConfig, type FeedpubConfig } from '../../lib/config.js';
import { startLocalFeedpub, type LocalFeedpub, type LocalFeedpubOptions } from '../../lib/local/local-feedpub.js';
import { LOCAL_AWS_ENV, startDynamoLocal, startS3Local } from '../../lib/local/servers.js';

export interface BenchStack {
  feedpub: LocalFeedpub;
  config: FeedpubConfig;
  key: string;
  stop(): Promise<void>;
}

/** A throw-away local stack (DynamoDB Local in memory, s3rver in a temp directory), as `npm start` runs it. */
export async function startBenchStack(env: Record<string, string> = {}, wrapClients?: LocalFeedpubOptions['wrapClients']): Promise<BenchStack> {
  const dir = mkdtempSync(join(tmpdir(), 'feedpub-bench-'));
  const dynamo = await startDynamoLocal();
  const s3 = await startS3Local({ directory: join(dir, 's3') });
  Object.assign(process.env, LOCAL_AWS_ENV, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_ENDPOINT_URL_S3: s3.endpoint });
  const config = loadConfig({ FEEDPUB_TABLE: 'bench', FEEDPUB_BUCKET: 'bench-feeds', FEEDPUB_SITE_URL: 'https://bench.example.com', ...env });
  const key = generateKey();
  const feedpub = await startLocalFeedpub({ config, port: 0, apiKey: key, wrapClients });
  return {
    feedpub,
    config,
    key,
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

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${title}\n${line(columns)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(row[c])))}\n`);
}

type Sendable = { send(command: { input: unknown; constructor: { name: string } }): Promise<unknown> };

/** Counts, through the real clients, the S3 objects written and the renders recorded (what an import costs). */
export function countingClients() {
  const putsByKey = new Map<string, number>();
  let renders = 0;
  let lastWrite = performance.now();
  const observe = <T extends object>(client: T, onSend: (command: { input: any; constructor: { name: string } }) => void): T =>
    new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'send') return Reflect.get(target, prop, receiver);
        return (command: { input: any; constructor: { name: string } }) => {
          onSend(command);
          return (target as unknown as Sendable).send(command);
        };
      },
    });
  return {
    wrap: ({ doc, s3 }: Parameters<NonNullable<LocalFeedpubOptions['wrapClients']>>[0]) => ({
      doc: observe(doc, (c) => {
        if (c.constructor.name === 'UpdateCommand' && c.input.Key?.SK === 'RENDER' && String(c.input.UpdateExpression).includes('renderedRev')) renders++;
      }),
      s3: observe(s3, (c) => {
        if (c.constructor.name === 'PutObjectCommand') {
          putsByKey.set(c.input.Key, (putsByKey.get(c.input.Key) ?? 0) + 1);
          lastWrite = performance.now();
        }
      }),
    }),
    snapshot: () => ({ renders, puts: [...putsByKey.values()].reduce((a, b) => a + b, 0), putsByKey: new Map(putsByKey) }),
    lastWrite: () => lastWrite,
  };
}

/**
 * Waits for the renders an import's release starts, until no S3 write happened for `quietMs`; returns the time
 * from the start of the run to the last write.
 */
export async function settle(counters: ReturnType<typeof countingClients>, elapsedMs: number, quietMs = 1500, firstWriteMs = 15_000): Promise<number> {
  const ended = performance.now();
  const started = ended - elapsedMs;
  for (;;) {
    const now = performance.now();
    const wrote = counters.lastWrite() > ended;
    if ((wrote && now - counters.lastWrite() >= quietMs) || (!wrote && now - ended >= firstWriteMs)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return Math.max(elapsedMs, counters.lastWrite() - started);
}
