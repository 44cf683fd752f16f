import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../cdk/app.js';
import { printTable, summarize } from './lib/stack.js';
import { HUB_QUEUE_ENV } from '../lib/hub/build-hub.js';

/**
 * Synth time of the whole app (with esbuild bundling), each deployed bundle's size, and its cold import time:
 * a fresh Node process importing the bundle (module init, SDK clients built), the part of a cold start that is ours.
 * Usage: npm run bench:bundles [-- runs]
 */
const runs = Number(process.argv[2] ?? 15);
const outdir = mkdtempSync(join(tmpdir(), 'feedpub-bundles-'));
const started = performance.now();
const { app, service } = buildApp(new App({ outdir }));
app.synth();
const synthMs = performance.now() - started;

const env = {
  ...process.env,
  FEEDPUB_TABLE: 'bench-table',
  FEEDPUB_BUCKET: 'bench-bucket',
  FEEDPUB_SITE_URL: 'https://bench.example.com',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'x',
  AWS_SECRET_ACCESS_KEY: 'x',
  // The hub function refuses to start without its queues (nothing is sent: only the import is timed).
  [HUB_QUEUE_ENV.control]: 'https://sqs.us-east-1.amazonaws.com/123456789012/control.fifo',
  [HUB_QUEUE_ENV.delivery]: 'https://sqs.us-east-1.amazonaws.com/123456789012/delivery.fifo',
};
const rows = [];
for (const [logicalId, resource] of Object.entries(Template.fromStack(service).findResources('AWS::Lambda::Function'))) {
  const name = logicalId.replace(/Function[0-9A-F]{8}$/, '');
  const dir = join(outdir, `asset.${String((resource as any).Properties.Code.S3Key).replace(/\.zip$/, '')}`);
  const file = join(dir, 'index.mjs');
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', `const t=performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now()-t)`], { env, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`${name}: ${out.stderr}`);
    samples.push(Number(out.stdout.trim().split('\n').at(-1)));
  }
  rows.push({ function: name, bytes: statSync(file).size, kib: Math.round(statSync(file).size / 1024), ...Object.fromEntries(Object.entries(summarize(samples)).map(([k, v]) => [k === 'n' ? 'imports' : `import ${k} ms`, v])) });
}
rmSync(outdir, { recursive: true, force: true });

printTable(`Lambda bundles (esbuild via NodejsFunction; cold import in a fresh node process, ${runs} runs)`, rows);
printTable('Synth', [{ measure: 'buildApp + synth, both stacks, every function bundled', ms: Math.round(synthMs) }]);
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  join(import.meta.dirname, 'results', 'bundles.json'),
  `${JSON.stringify({ benchmark: 'bundles', command: `npm run bench:bundles -- ${runs}`, date: new Date().toISOString(), node: process.version, synthMs: Math.round(synthMs), bundles: rows }, null, 2)}\n`,
);
