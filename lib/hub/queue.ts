import type { BodyRef, HubJob } from './jobs.js';

/**
 * Where hub work goes: verifications, notifications and deliveries (lib/hub/jobs.ts). Sending is durable when it
 * resolves. Jobs of one FIFO group (`groupOf`) are handled one at a time in the order sent, and a job whose id
 * was sent moments ago is taken once. Implemented by LocalHubQueue (a journal on disk) and SqsHubQueue.
 */
export interface HubQueue {
  send(jobs: HubJob[]): Promise<void>;
}

export interface JobMeta {
  /** 1 for the first attempt. */
  attempt: number;
  /** When the job was first sent (epoch ms). */
  sentAt: number;
}

/**
 * Handles one job. Resolving acknowledges it; throwing retries it after a backoff (lib/hub/backoff.ts) until it is
 * dead-lettered. At-least-once: a job may be handled again after a crash, so handlers are idempotent.
 */
export type JobHandler = (job: HubJob, meta: JobMeta) => Promise<void>;

/** The consuming side of a queue that runs in this process (the local one; in AWS, Lambda consumes SQS). */
export interface HubWorker {
  start(handler: JobHandler): void;
  /** Takes no new job, and resolves once the jobs in flight are settled. */
  stop(): Promise<void>;
}

/** Resolves a body a job carries by reference (in AWS: an S3 object version); the caller provides it. */
export interface BodySource {
  get(ref: BodyRef): Promise<Uint8Array>;
}
