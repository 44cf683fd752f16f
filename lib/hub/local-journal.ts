import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { logger } from '../log.js';
import type { HubJob } from './jobs.js';

/** A job in the local queue, as the journal keeps it. */
export interface QueuedJob {
  id: string;
  /** FIFO group: jobs of a group run one at a time, in `seq` order. */
  group: string;
  job: HubJob;
  seq: number;
  sentAt: number;
  failures: number;
  /** Not run before this (epoch ms): the backoff after a failure. */
  visibleAt: number;
  lastError?: string;
  /** Set once dead-lettered. */
  deadAt?: number;
}

export type JournalOp =
  | { op: 'add'; entry: QueuedJob }
  | { op: 'ack'; id: string }
  | { op: 'retry'; id: string; failures: number; visibleAt: number; error: string }
  | { op: 'dead'; id: string; failures: number; at: number; error: string }
  | { op: 'redrive'; id: string; seq: number; at: number };

export interface JournalState {
  live: Map<string, QueuedJob>;
  dead: Map<string, QueuedJob>;
}

/** Applies one journal line to the state (replay and the running queue agree by using this one function). */
export function applyOp(state: JournalState, op: JournalOp): void {
  if (op.op === 'add') (op.entry.deadAt === undefined ? state.live : state.dead).set(op.entry.id, { ...op.entry });
  else if (op.op === 'ack') state.live.delete(op.id);
  else if (op.op === 'retry') {
    const entry = state.live.get(op.id);
    if (entry) Object.assign(entry, { failures: op.failures, visibleAt: op.visibleAt, lastError: op.error });
  } else if (op.op === 'dead') {
    const entry = state.live.get(op.id);
    state.live.delete(op.id);
    if (entry) state.dead.set(op.id, { ...entry, failures: op.failures, deadAt: op.at, lastError: op.error });
  } else {
    const entry = state.dead.get(op.id);
    state.dead.delete(op.id);
    if (entry) state.live.set(op.id, { ...entry, failures: 0, seq: op.seq, sentAt: op.at, visibleAt: op.at, deadAt: undefined });
  }
}

const FILE = 'journal.jsonl';

/**
 * The local queue's durable record: one JSON line per change, appended synchronously before the change is
 * acknowledged (a send resolves once its line is written), replayed at start, and compacted into one line per job
 * once it holds many more lines than jobs. A line cut short by a crash is the last one, and is ignored.
 */
export class JobJournal {
  private fd: number;
  private lines = 0;

  private constructor(private readonly directory: string) {
    this.fd = openSync(join(directory, FILE), 'a');
  }

  /** Opens the journal in `directory` (created if need be) and replays it. */
  static open(directory: string): { journal: JobJournal; state: JournalState } {
    mkdirSync(directory, { recursive: true });
    const state: JournalState = { live: new Map(), dead: new Map() };
    let text = '';
    try {
      text = readFileSync(join(directory, FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const lines = text.split('\n').filter((line) => line !== '');
    lines.forEach((line, i) => {
      try {
        applyOp(state, JSON.parse(line) as JournalOp);
      } catch (error) {
        if (i < lines.length - 1) logger.warn('hub queue journal: unreadable line skipped', { directory, line: i + 1, error: error as Error });
      }
    });
    const journal = new JobJournal(directory);
    journal.lines = lines.length;
    return { journal, state };
  }

  /** Lines written since the last compaction. */
  get length(): number {
    return this.lines;
  }

  append(op: JournalOp): void {
    writeSync(this.fd, `${JSON.stringify(op)}\n`);
    this.lines++;
  }

  /** Rewrites the journal as one line per job, aside and renamed over it, so a crash leaves one or the other whole. */
  compact(state: JournalState): void {
    const next = join(this.directory, `${FILE}.next`);
    const fd = openSync(next, 'w');
    const entries = [...state.live.values(), ...state.dead.values()].sort((a, b) => a.seq - b.seq);
    for (const entry of entries) writeSync(fd, `${JSON.stringify({ op: 'add', entry } satisfies JournalOp)}\n`);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(next, join(this.directory, FILE));
    closeSync(this.fd);
    this.fd = openSync(join(this.directory, FILE), 'a');
    this.lines = entries.length;
  }

  close(): void {
    closeSync(this.fd);
  }
}
