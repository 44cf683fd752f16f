/**
 * What the local S3 server (s3rver in its own process, with feedpub's atomic wrapper: lib/local/s3rver-atomic.ts)
 * spends on a render's PUTs: waves of PUTs sent at once through the SDK, as a render sends them (12: three feeds,
 * three formats and an HTML page each), and one PUT alone, each wave rewriting the same keys with new bytes, as
 * feeds are rewritten. For each: the wave's time as the client sees it, and the server process's CPU per PUT (from
 * /proc, all its threads: the file-system threads and GC included).
 *
 *   npm run bench:s3 [-- waves per kind, default 300]      (writes bench/results/s3-puts.json)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_AWS_ENV, startS3Local } from '../lib/local/servers.js';
import { processCpuMs } from './lib/profile.js';
import { printTable, summarize } from './lib/stack.js';

const WAVES = Number(process.argv[2] ?? 300);
const WARM_UP = 50;
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const Bucket = 'bench-s3-puts';
const kinds = [
  { kind: 'one PUT alone, 75 KB', puts: 1, bytes: 75_000 },
  { kind: '12 PUTs at once, 75 KB each', puts: 12, bytes: 75_000 },
  { kind: '12 PUTs at once, 5 KB each', puts: 12, bytes: 5_000 },
];

const directory = mkdtempSync(join(tmpdir(), 'feedpub-bench-s3-'));
const server = await startS3Local({ directory });
const s3 = new S3Client({
  endpoint: server.endpoint,
  region: LOCAL_AWS_ENV.AWS_REGION,
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY },
});
const rows = [];
try {
  await s3.send(new CreateBucketCommand({ Bucket }));
  // Each wave writes the same keys (feeds/<feed>/<document>) with new bytes of the same size and headers.
  const wave = ({ puts, bytes }: (typeof kinds)[number], round: number) =>
    Promise.all(
      Array.from({ length: puts }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket, Key: `feeds/f${i % 3}-${bytes}/d${i}`, Body: Buffer.from(`${round} ${i} `.padEnd(bytes, 'x')), ContentType: 'application/xml; charset=utf-8', CacheControl: 'max-age=60' })),
      ),
    );
  for (let round = 0; round < WARM_UP; round++) for (const kind of kinds) await wave(kind, round);
  // The kinds take turns, wave by wave, so that each sees the machine as it is through the run.
  const samples = kinds.map(() => [] as number[]);
  const cpu = kinds.map(() => 0);
  for (let round = WARM_UP; round < WARM_UP + WAVES; round++) {
    for (const [k, kind] of kinds.entries()) {
      const cpuBefore = processCpuMs(server.pid);
      const started = performance.now();
      await wave(kind, round);
      samples[k]!.push(performance.now() - started);
      cpu[k]! += processCpuMs(server.pid) - cpuBefore;
    }
  }
  for (const [k, { kind, puts }] of kinds.entries()) {
    const s = summarize(samples[k]!);
    rows.push({ wave: kind, waves: s.n, 'wave p50 ms': s.p50, 'wave p95 ms': s.p95, 'wave p99 ms': s.p99, 'server CPU ms per PUT': Math.round((cpu[k]! / (WAVES * puts)) * 100) / 100 });
  }
} finally {
  s3.destroy();
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
}
printTable(`The local S3 server, ${WAVES} waves of each after ${WARM_UP} to warm up (load average before: ${loadBefore})`, rows);
writeFileSync(join(import.meta.dirname, 'results', 's3-puts.json'), `${JSON.stringify({ benchmark: 's3-puts', command: `npm run bench:s3${process.argv[2] ? ` -- ${process.argv[2]}` : ''}`, date: new Date().toISOString(), node: process.version, waves: WAVES, loadBefore, rows }, null, 2)}\n`);
