import { logger } from '../log.js';
import { isExhausted, retryDelayMs, type RetryPolicy } from './backoff.js';
import type { HubJob } from './jobs.js';
import { applyOp, JobJournal, type JournalOp, type JournalState, type QueuedJob } from './local-journal.js';
import type { HubWorker, JobHandler } from './queue.js';

export interface LocalLaneOptions {
  /** Where the lane journals its jobs; the same directory after a restart resumes them. */
  directory: string;
  /** Jobs handled at once. */
  concurrency: number;
  retry: RetryPolicy;
  /** A job id sent again within this window is taken once, as SQS FIFO deduplicates for five minutes. */
  dedupeMs?: number;
}

/**
 * One lane of the local queue, with SQS's semantics where the hub relies on them: jobs of a FIFO group one at a
 * time in order (a group's head blocks the rest while it waits for its retry), other groups beside it up to the
 * concurrency, retries with backoff, then a dead-letter list; and every change journaled before it is taken for
 * done, so a restart resumes where the lane stopped (a job in flight at a crash runs again: at-least-once).
 */
export class LocalLane implements HubWorker {
  private readonly state: JournalState;
  private readonly groups = new Map<string, QueuedJob[]>();
  private readonly recent = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly idle: (() => void)[] = [];
  private handler?: JobHandler;
  private stopped = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private seq = 0;

  private constructor(
    private readonly journal: JobJournal,
    state: JournalState,
    private readonly options: LocalLaneOptions,
  ) {
    this.state = state;
    const live = [...state.live.values()].sort((a, b) => a.seq - b.seq);
    for (const entry of live) this.queueOf(entry.group).push(entry);
    this.seq = Math.max(0, ...[...live, ...state.dead.values()].map((e) => e.seq + 1));
  }

  static open(options: LocalLaneOptions): LocalLane {
    const { journal, state } = JobJournal.open(options.directory);
    return new LocalLane(journal, state, options);
  }

  /** Journals the jobs (durable on return) and schedules them. */
  send(jobs: { id: string; group: string; job: HubJob }[]): void {
    if (this.closed) throw new Error(`The hub queue in ${this.options.directory} is stopped`);
    const now = Date.now();
    const window = this.options.dedupeMs ?? 300_000;
    for (const [id, at] of this.recent) if (at < now - window) this.recent.delete(id);
    for (const { id, group, job } of jobs) {
      if (this.state.live.has(id) || this.recent.has(id)) continue;
      const entry: QueuedJob = { id, group, job, seq: this.seq++, sentAt: now, failures: 0, visibleAt: now };
      this.write({ op: 'add', entry });
      this.queueOf(group).push(this.state.live.get(id)!);
    }
    this.pump();
  }

  start(handler: JobHandler): void {
    this.handler = handler;
    this.pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.inFlight.size > 0) await Promise.all(this.inFlight.values());
    if (!this.closed) this.journal.close();
    this.closed = true;
  }

  /** Jobs waiting or in flight. */
  get size(): number {
    return this.state.live.size;
  }

  /** Resolves once no job is waiting or in flight. */
  drained(): Promise<void> {
    return this.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  deadLetters(): QueuedJob[] {
    return [...this.state.dead.values()].sort((a, b) => a.seq - b.seq);
  }

  /** Sends every dead-lettered job again (to the end of its group), as a fresh job. */
  redrive(): number {
    const now = Date.now();
    const dead = this.deadLetters();
    for (const { id } of dead) {
      this.write({ op: 'redrive', id, seq: this.seq++, at: now });
      const entry = this.state.live.get(id)!;
      this.queueOf(entry.group).push(entry);
    }
    this.pump();
    return dead.length;
  }

  private queueOf(group: string): QueuedJob[] {
    let queue = this.groups.get(group);
    if (!queue) this.groups.set(group, (queue = []));
    return queue;
  }

  private write(op: JournalOp): void {
    this.journal.append(op);
    applyOp(this.state, op);
    const jobs = this.state.live.size + this.state.dead.size;
    if (this.journal.length > Math.max(1000, 4 * jobs)) this.journal.compact(this.state);
  }

  /** Starts what may run now: each group's head, if visible, up to the concurrency; wakes up for the next retry. */
  private pump(): void {
    if (!this.handler || this.stopped) return;
    const now = Date.now();
    let wake = Infinity;
    for (const [, queue] of this.groups) {
      if (this.inFlight.size >= this.options.concurrency) break;
      const head = queue[0]!;
      if (this.inFlight.has(head.id)) continue;
      if (head.visibleAt > now) wake = Math.min(wake, head.visibleAt);
      else this.run(head, this.handler);
    }
    clearTimeout(this.timer);
    if (wake < Infinity) this.timer = setTimeout(() => this.pump(), wake - now).unref();
  }

  private run(entry: QueuedJob, handler: JobHandler): void {
    // In flight before the handler starts: a handler that sends jobs at once pumps again, and must not find its own
    // job waiting.
    const running = Promise.resolve()
      .then(() => handler(entry.job, { attempt: entry.failures + 1, sentAt: entry.sentAt }))
      .then(
        () => undefined,
        (error: unknown) => ({ error }),
      )
      .then((failure) => {
        this.inFlight.delete(entry.id);
        this.settle(entry, failure);
        this.pump();
      })
      .catch((error: unknown) => logger.error('hub queue could not record a job', { jobId: entry.id, error: error as Error }));
    this.inFlight.set(entry.id, running);
  }

  private settle(entry: QueuedJob, failure: { error: unknown } | undefined): void {
    const now = Date.now();
    if (!failure) {
      this.write({ op: 'ack', id: entry.id });
      this.recent.set(entry.id, now);
    } else {
      const failures = entry.failures + 1;
      const error = String((failure.error as Error)?.message ?? failure.error);
      if (!isExhausted(failures, entry.sentAt, now, this.options.retry)) {
        this.write({ op: 'retry', id: entry.id, failures, visibleAt: now + retryDelayMs(failures, this.options.retry), error });
        return;
      }
      this.write({ op: 'dead', id: entry.id, failures, at: now, error });
      logger.error('hub job dead-lettered', { jobId: entry.id, kind: entry.job.kind, failures, error });
    }
    const queue = this.groups.get(entry.group)!;
    queue.shift();
    if (queue.length === 0) this.groups.delete(entry.group);
    if (this.size === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
