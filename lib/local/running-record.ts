import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What runs on a data directory: the feedpub process, its servers' processes and, once it is ready, its endpoints. */
export interface RunningRecord {
  pid: number;
  /** The owner's command line, as the system shows it: a pid reused by another program does not match it. */
  command: string;
  servers: number[];
  dynamodb?: string;
  s3?: string;
  url?: string;
}

export interface DataDirClaim {
  record: RunningRecord;
  /** Adds to the record (the servers' pids once started, the endpoints once ready). */
  update(fields: Partial<RunningRecord>): void;
  /** Removes the record if it is still this process's. */
  release(): void;
}

export const runningFile = (dir: string) => join(dir, 'running.json');

/** The command line of a running process, or undefined when there is none (Linux's /proc, else ps). */
export function commandLine(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    if (existsSync('/proc/self/cmdline')) return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** The record of the feedpub running on `dir`, if one is: its owner is alive and is the process that wrote it. */
export function runningOn(dir: string): RunningRecord | undefined {
  let record: RunningRecord;
  try {
    record = JSON.parse(readFileSync(runningFile(dir), 'utf8')) as RunningRecord;
  } catch {
    return undefined;
  }
  return commandLine(record.pid) === record.command ? record : undefined;
}

/**
 * Claims the data directory for this process: one feedpub at a time works on it (two DynamoDB Locals on one
 * database file contend for its lock). The record of a feedpub that did not stop (killed, crashed, a machine that
 * went down) is taken over, after ending whichever of its servers still run on this directory.
 */
export async function claimDataDir(dir: string): Promise<DataDirClaim> {
  const file = runningFile(dir);
  const running = runningOn(dir);
  if (running) {
    throw new Error(`feedpub is already running on ${dir} (pid ${running.pid}${running.url ? `, ${running.url}` : ''}); stop it first, or set FEEDPUB_DATA_DIR to another directory`);
  }
  if (existsSync(file)) {
    await endLeftovers(staleServers(file), (pid) => Boolean(commandLine(pid)?.includes(dir)));
    rmSync(file, { force: true });
  }
  const record: RunningRecord = { pid: process.pid, command: commandLine(process.pid) ?? '', servers: [] };
  const write = () => writeFileSync(file, JSON.stringify(record));
  try {
    writeFileSync(file, JSON.stringify(record), { flag: 'wx' });
  } catch (error) {
    // Another start claimed it between our look and our write.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return claimDataDir(dir);
    throw error;
  }
  return {
    record,
    update: (fields) => {
      Object.assign(record, fields);
      write();
    },
    release: () => {
      if (runningOn(dir)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}

function staleServers(file: string): number[] {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as Partial<RunningRecord>).servers ?? [];
  } catch {
    return [];
  }
}

/** Ends the processes that are still `ours`: SIGTERM, and SIGKILL for those still there after 3 s. */
async function endLeftovers(pids: number[], ours: (pid: number) => boolean): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    for (const pid of pids.filter(ours)) {
      try {
        process.kill(pid, name);
      } catch {
        // Gone meanwhile.
      }
    }
  };
  signal('SIGTERM');
  for (const until = Date.now() + 3_000; pids.some(ours) && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
  signal('SIGKILL');
}
