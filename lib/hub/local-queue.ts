import { join } from 'node:path';
import type { RetryPolicy } from './backoff.js';
import { groupOf, laneOf, type HubJob, type HubLane } from './jobs.js';
import type { QueuedJob } from './local-journal.js';
import { LocalLane } from './local-lane.js';
import type { HubQueue, HubWorker, JobHandler } from './queue.js';

export interface LocalHubQueueOptions {
  /** The queue's data directory (one journal per lane below it), e.g. <data dir>/hub. */
  directory: string;
  /** Deliveries in flight at once; slow subscribers take these slots, never the control lane's. */
  deliveryConcurrency: number;
  /** Verifications and fan-outs in flight at once. */
  controlConcurrency?: number;
  retry: RetryPolicy;
  /** Retries of verifications and fan-outs, whose failures are feedpub's own (the store): by default as deliveries. */
  controlRetry?: RetryPolicy;
}

/**
 * The hub's queue in local mode, as SQS is in AWS: two lanes (lib/hub/jobs.ts `laneOf`), each journaled to its own
 * directory, FIFO by `groupOf`. Sending is durable when it resolves; `stop()` waits for the jobs in flight.
 */
export class LocalHubQueue implements HubQueue, HubWorker {
  private constructor(private readonly lanes: Record<HubLane, LocalLane>) {}

  static open(options: LocalHubQueueOptions): LocalHubQueue {
    return new LocalHubQueue({
      control: LocalLane.open({ directory: join(options.directory, 'control'), concurrency: options.controlConcurrency ?? 4, retry: options.controlRetry ?? options.retry }),
      delivery: LocalLane.open({ directory: join(options.directory, 'delivery'), concurrency: options.deliveryConcurrency, retry: options.retry }),
    });
  }

  async send(jobs: HubJob[]): Promise<void> {
    for (const lane of ['control', 'delivery'] as const) {
      const mine = jobs.filter((job) => laneOf(job) === lane);
      if (mine.length > 0) this.lanes[lane].send(mine.map((job) => ({ id: job.id, group: groupOf(job), job })));
    }
  }

  start(handler: JobHandler): void {
    this.lanes.control.start(handler);
    this.lanes.delivery.start(handler);
  }

  /** The control lane first: its fan-outs in flight still send their deliveries to the delivery lane. */
  async stop(): Promise<void> {
    await this.lanes.control.stop();
    await this.lanes.delivery.stop();
  }

  /** Resolves once both lanes are empty (retries waiting included). */
  async drained(): Promise<void> {
    while (this.lanes.control.size + this.lanes.delivery.size > 0) {
      await this.lanes.control.drained();
      await this.lanes.delivery.drained();
    }
  }

  deadLetters(): QueuedJob[] {
    return [...this.lanes.control.deadLetters(), ...this.lanes.delivery.deadLetters()];
  }

  redrive(): number {
    return this.lanes.control.redrive() + this.lanes.delivery.redrive();
  }
}
