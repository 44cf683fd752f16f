import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimDataDir, commandLine, runningFile, runningOn } from '../../lib/local/running-record.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'feedpub-claim-'));
  dirs.push(dir);
  return dir;
}

/** A process that stands in for a server: its command line names `arg`, as DynamoDB Local's names its -dbPath. */
async function fakeServer(arg: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', arg], { stdio: 'ignore' });
  children.push(child);
  while (!commandLine(child.pid!)?.includes(arg)) await new Promise((resolve) => setTimeout(resolve, 10));
  return child;
}

const ended = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(true) : child.once('exit', resolve)));

describe('the record of what runs on a data directory', () => {
  it('is written on a claim and removed on release', async () => {
    const dir = dataDir();
    const claim = await claimDataDir(dir);
    claim.update({ url: 'http://127.0.0.1:3000' });
    expect(runningOn(dir)).toMatchObject({ pid: process.pid, url: 'http://127.0.0.1:3000', servers: [] });
    claim.release();
    expect(runningOn(dir)).toBeUndefined();
  });

  it('refuses a second claim while the first holds', async () => {
    const dir = dataDir();
    const claim = await claimDataDir(dir);
    claim.update({ url: 'http://127.0.0.1:3000' });
    await expect(claimDataDir(dir)).rejects.toThrow(`feedpub is already running on ${dir} (pid ${process.pid}, http://127.0.0.1:3000); stop it first`);
    claim.release();
  });

  it('takes over the record of a feedpub that is gone, ending its servers still running on the directory', async () => {
    const dir = dataDir();
    const leftover = await fakeServer(join(dir, 'dynamodb'));
    const unrelated = await fakeServer(join(tmpdir(), 'somewhere-else'));
    // Its owner is gone (no process has this command line), its servers' pids were recorded.
    writeFileSync(runningFile(dir), JSON.stringify({ pid: process.pid, command: 'node bin/feedpub.js start (gone)', servers: [leftover.pid, unrelated.pid] }));
    expect(runningOn(dir)).toBeUndefined();

    const claim = await claimDataDir(dir);
    await ended(leftover);
    expect(leftover.signalCode).toBe('SIGTERM');
    // A recorded pid whose process does not run on this directory (reused since) is left alone.
    expect(unrelated.exitCode).toBeNull();
    expect(unrelated.signalCode).toBeNull();
    expect(JSON.parse(readFileSync(runningFile(dir), 'utf8'))).toMatchObject({ pid: process.pid, servers: [] });
    claim.release();
  });
});
