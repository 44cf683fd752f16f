/**
 * `feedpub start` (what `npm start` runs) as a user runs it, ended as it can be ended: Ctrl-C, SIGTERM, SIGKILL,
 * mid-burst. Whatever ends it, no DynamoDB Local or s3rver outlives it by more than a few seconds, and the next
 * start on the same data directory and port works and finds what was stored.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateKey } from '../../lib/keys/key-format.js';
import { sleep } from '../../lib/concurrency.js';
import { freePort } from '../../lib/local/servers.js';

const CLI = join(import.meta.dirname, '../../bin/feedpub.js');
const dirs: string[] = [];
const running = new Set<ChildProcess>();

afterEach(() => {
  // A failed test must not leave its stack running either.
  for (const child of running) child.kill('SIGKILL');
  running.clear();
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** `feedpub start` in a process group of its own, as a terminal runs it; resolves when it says it is running. */
async function start(dataDir: string, port: number, key: string): Promise<Started> {
  const child = spawn(process.execPath, [CLI, 'start'], {
    env: { ...process.env, FEEDPUB_DATA_DIR: dataDir, PORT: String(port), FEEDPUB_API_KEY: key, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const ready = /feedpub is running at (\S+)/.exec(output);
      if (ready) {
        clearInterval(timer);
        resolve(ready[1]!);
      }
    }, 20);
    child.once('exit', (code, signal) => {
      clearInterval(timer);
      reject(new Error(`feedpub start ended (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
  return { child, url, output: () => output };
}

/** Processes whose command line names the data directory: DynamoDB Local (-dbPath), its watchdog, s3rver. */
function serversOn(dataDir: string): string[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => `${pid} ${commandOf(Number(pid))}`)
    .filter((line) => line.includes(dataDir));
}

async function noServersWithin(dataDir: string, ms: number): Promise<string[]> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(100)) if (serversOn(dataDir).length === 0) return [];
  return serversOn(dataDir);
}

/**
 * Keeps the stack busy: batches of posts, four requests in flight, until stopped. Resolves `accepted` once the
 * first batches are stored, so the stack is mid-burst (writing, and its lanes rendering) when the test ends it.
 */
function burst(url: string, key: string) {
  const accepted: string[] = [];
  let stopped = false;
  let n = 0;
  const sender = async () => {
    while (!stopped) {
      const posts = Array.from({ length: 20 }, () => {
        const id = `burst-${n++}`;
        return { id, title: `Post ${id}`, content: `<p>${id}</p>`, categories: [`c${n % 7}`], tags: [`t${n % 5}`] };
      });
      try {
        const response = await fetch(`${url}/posts/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ posts }),
        });
        if (response.status === 200) accepted.push(...posts.map((p) => p.id));
        else await response.body?.cancel();
      } catch {
        // The stack went away mid-request: what the test is about.
        return;
      }
    }
  };
  const senders = Promise.all(Array.from({ length: 4 }, sender));
  return {
    accepted,
    started: (async () => {
      while (accepted.length < 60) await sleep(10);
    })(),
    stop: async () => {
      stopped = true;
      await senders;
    },
  };
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

const ENDINGS = [
  // Ctrl-C in a terminal: SIGINT to the foreground process group.
  { name: 'Ctrl-C', end: (child: ChildProcess) => process.kill(-child.pid!, 'SIGINT') },
  { name: 'SIGTERM', end: (child: ChildProcess) => child.kill('SIGTERM') },
  // Nothing of feedpub runs: its servers must notice on their own.
  { name: 'SIGKILL', end: (child: ChildProcess) => child.kill('SIGKILL') },
];

describe('feedpub start, ended mid-burst', () => {
  it.each(ENDINGS)('$name: no server outlives it, and a second start on the same data directory and port works', async ({ name, end }) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'feedpub-lifecycle-'));
    dirs.push(dataDir);
    const [port, key] = [await freePort(), generateKey()];

    const first = await start(dataDir, port, key);
    expect(serversOn(dataDir).length).toBeGreaterThanOrEqual(2);
    const load = burst(first.url, key);
    await load.started;
    end(first.child);
    const ended = await exited(first.child);
    await load.stop();
    expect(await noServersWithin(dataDir, 5_000)).toEqual([]);
    if (name !== 'SIGKILL') expect(ended).toEqual({ code: 0, signal: null });

    const second = await start(dataDir, port, key);
    expect(second.url).toBe(first.url);
    const health = await fetch(`${second.url}/health`);
    expect(health.status).toBe(200);
    // A post the first run accepted is there.
    const stored = await fetch(`${second.url}/posts/${load.accepted[0]}`, { headers: { authorization: `Bearer ${key}` } });
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { id: string }).id).toBe(load.accepted[0]);

    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toEqual({ code: 0, signal: null });
    expect(await noServersWithin(dataDir, 5_000)).toEqual([]);
  }, 120_000);

  it('refuses a second start on a data directory in use, and starts no server for it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'feedpub-lifecycle-'));
    dirs.push(dataDir);
    const key = generateKey();
    const first = await start(dataDir, await freePort(), key);
    const servers = serversOn(dataDir);

    const second = start(dataDir, await freePort(), key);
    await expect(second).rejects.toThrow(/feedpub is already running on .* \(pid \d+, http:\/\/127\.0\.0\.1:\d+\); stop it first/);
    expect(serversOn(dataDir)).toEqual(servers);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);

    first.child.kill('SIGTERM');
    await exited(first.child);
    expect(await noServersWithin(dataDir, 5_000)).toEqual([]);
  }, 120_000);
});

describe("the test suite's own servers (test/support/global-setup.ts)", () => {
  it('end when the process that started them is killed', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../support/run-global-setup.ts')], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    while (!output.includes('s3Endpoint') && child.exitCode === null) await sleep(20);
    const provided = JSON.parse(output) as { dynamoEndpoint: string; s3Endpoint: string };
    const servers = descendantsOf(child.pid!);
    // DynamoDB Local (its watchdog and the JVM), the pool's first for an integration file, and s3rver, each answering.
    expect(servers.filter((s) => s.command.startsWith('java ')).length).toBe(2);
    expect((await fetch(provided.dynamoEndpoint, { method: 'POST' })).status).toBe(400);
    expect((await fetch(provided.s3Endpoint)).status).toBe(200);

    child.kill('SIGKILL');
    await exited(child);
    const until = Date.now() + 5_000;
    while (servers.some((s) => isRunning(s.pid)) && Date.now() < until) await sleep(100);
    expect(servers.filter((s) => isRunning(s.pid))).toEqual([]);
  }, 60_000);
});

/** Every process below `root`, with its command line. */
function descendantsOf(root: number): { pid: number; command: string }[] {
  const parents = new Map<number, number>();
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parents.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Ended while we looked.
    }
  }
  const found: number[] = [];
  for (let frontier = [root]; frontier.length > 0; ) {
    frontier = [...parents].filter(([, parent]) => frontier.includes(parent)).map(([pid]) => pid);
    found.push(...frontier);
  }
  return found.map((pid) => ({ pid, command: commandOf(pid) }));
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** A zombie (ended, not yet reaped) has an empty command line. */
const isRunning = (pid: number) => commandOf(pid) !== '';
