import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/concurrency.js';
import type { DeliverJob, HubJob, NotifyJob } from '../../lib/hub/jobs.js';
import { LocalLane } from '../../lib/hub/local-lane.js';
import { LocalHubQueue } from '../../lib/hub/local-queue.js';
import type { JobHandler } from '../../lib/hub/queue.js';

const FAST = { firstDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 };
let directory: string;
const opened: { stop(): Promise<void> }[] = [];

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'feedpub-hubq-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((q) => q.stop()));
  rmSync(directory, { recursive: true, force: true });
});

const lane = (concurrency = 4, retry = FAST) => {
  const opened_ = LocalLane.open({ directory, concurrency, retry });
  opened.push(opened_);
  return opened_;
};
const deliver = (id: string, subscriptionId = 'sub'): DeliverJob => ({
  kind: 'deliver', id, subscriptionId, topicKey: 'feeds/rss.xml', callback: 'https://r.example/cb', contentType: 'text/plain', body: { inline: '' }, announcedAt: 0,
});
const entry = (id: string, group: string) => ({ id, group, job: deliver(id, group) });
/** A handler that records each job's start and end, taking `ms` for each. */
const recorder = (log: string[], ms = 5): JobHandler => async (job) => {
  log.push(`start ${job.id}`);
  await sleep(ms);
  log.push(`end ${job.id}`);
};

describe('LocalLane', () => {
  it('runs a group one job at a time in the order sent, other groups beside it', async () => {
    const queue = lane();
    const log: string[] = [];
    queue.send([entry('a1', 'A'), entry('a2', 'A'), entry('b1', 'B'), entry('a3', 'A'), entry('b2', 'B')]);
    queue.start(recorder(log));
    await queue.drained();
    const a = log.filter((line) => line.includes(' a'));
    expect(a).toEqual(['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
    // B did not wait for A.
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });

  it('retries a failed job with backoff, holding its group behind it', async () => {
    const queue = lane();
    const attempts: string[] = [];
    queue.send([entry('flaky', 'A'), entry('after', 'A')]);
    queue.start(async (job, meta) => {
      attempts.push(`${job.id}#${meta.attempt}`);
      if (job.id === 'flaky' && meta.attempt < 3) throw new Error('503');
    });
    await queue.drained();
    expect(attempts).toEqual(['flaky#1', 'flaky#2', 'flaky#3', 'after#1']);
    expect(queue.deadLetters()).toEqual([]);
  });

  it('dead-letters a job after its last attempt, and its group moves on', async () => {
    const queue = lane();
    const ran: string[] = [];
    queue.send([entry('doomed', 'A'), entry('next', 'A')]);
    queue.start(async (job, meta) => {
      ran.push(`${job.id}#${meta.attempt}`);
      if (job.id === 'doomed') throw new Error('connection refused');
    });
    await queue.drained();
    expect(ran).toEqual(['doomed#1', 'doomed#2', 'doomed#3', 'doomed#4', 'next#1']);
    expect(queue.deadLetters()).toMatchObject([{ id: 'doomed', failures: 4, lastError: 'connection refused' }]);
  });

  it('never runs more jobs at once than its concurrency', async () => {
    const queue = lane(3);
    let running = 0;
    let most = 0;
    queue.send(Array.from({ length: 20 }, (_, i) => entry(`j${i}`, `g${i}`)));
    queue.start(async () => {
      most = Math.max(most, ++running);
      await sleep(5);
      running--;
    });
    await queue.drained();
    expect(most).toBe(3);
  });

  it('takes a job id sent twice once', async () => {
    const queue = lane();
    const ran: string[] = [];
    queue.send([entry('once', 'A'), entry('once', 'A')]);
    queue.start(async (job) => void ran.push(job.id));
    await queue.drained();
    queue.send([entry('once', 'A')]);
    await queue.drained();
    expect(ran).toEqual(['once']);
  });

  it('resumes after a restart: pending jobs in order, dead letters kept, finished jobs not run again', async () => {
    const first = lane();
    first.send([entry('done', 'A'), entry('dead', 'B')]);
    first.start(async (job) => {
      if (job.id === 'dead') throw new Error('gone wrong');
    });
    await first.drained();
    await first.stop();
    const second = lane(); // not started: what it is sent waits in its journal
    second.send([entry('p1', 'A'), entry('p2', 'A'), entry('q1', 'C')]);
    await second.stop();

    const third = lane();
    const ran: string[] = [];
    third.start(async (job) => void ran.push(job.id));
    await third.drained();
    expect(ran.filter((id) => id.startsWith('p'))).toEqual(['p1', 'p2']);
    expect(ran.sort()).toEqual(['p1', 'p2', 'q1']);
    expect(third.deadLetters().map((d) => d.id)).toEqual(['dead']);
  });

  it('runs again a job that was in flight when the process died (at-least-once)', async () => {
    const crashed = LocalLane.open({ directory, concurrency: 1, retry: FAST });
    crashed.send([entry('in-flight', 'A'), entry('behind', 'A')]);
    crashed.start(() => new Promise(() => undefined)); // never settles: the process "dies" with it in flight

    const restarted = lane();
    const ran: string[] = [];
    restarted.start(async (job) => void ran.push(job.id));
    await restarted.drained();
    expect(ran).toEqual(['in-flight', 'behind']);
  });

  it('ignores a last journal line cut short by a crash', async () => {
    const first = lane();
    first.send([entry('kept', 'A')]);
    await first.stop();
    appendFileSync(join(directory, 'journal.jsonl'), '{"op":"add","entry":{"id":"torn","gro');
    const second = lane();
    const ran: string[] = [];
    second.start(async (job) => void ran.push(job.id));
    await second.drained();
    expect(ran).toEqual(['kept']);
  });

  it('compacts its journal to about one line per job, and replays the compacted journal', async () => {
    const slowRetry = { firstDelayMs: 60_000, maxDelayMs: 60_000, maxAttempts: 5 };
    const queue = lane(8, slowRetry);
    queue.send(Array.from({ length: 1500 }, (_, i) => entry(`j${i}`, `g${i % 10}`)));
    queue.start(async (job) => {
      if (job.id === 'left') throw new Error('later');
    });
    await queue.drained();
    queue.send([entry('left', 'A')]);
    await sleep(20);
    await queue.stop();
    const lines = readFileSync(join(directory, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(1000);
    const again = lane(8, slowRetry);
    expect(again.size).toBe(1);
    expect(again.deadLetters()).toEqual([]);
  });

  it('stop() waits for the jobs in flight, and takes no new ones', async () => {
    const queue = lane();
    const log: string[] = [];
    queue.send([entry('slow', 'A'), entry('next', 'A')]);
    queue.start(recorder(log, 100));
    await sleep(20);
    await queue.stop();
    expect(log).toEqual(['start slow', 'end slow']);
    const resumed = lane();
    expect(resumed.size).toBe(1);
  });

  it('sends dead letters again on redrive', async () => {
    const queue = lane();
    let broken = true;
    queue.send([entry('x', 'A')]);
    queue.start(async () => {
      if (broken) throw new Error('down');
    });
    await queue.drained();
    broken = false;
    expect(queue.redrive()).toBe(1);
    await queue.drained();
    expect(queue.deadLetters()).toEqual([]);
  });
});

describe('LocalHubQueue', () => {
  const notify = (id: string): NotifyJob => ({ kind: 'notify', id, feed: 'feeds/', topics: [{ topicKey: 'feeds/rss.xml', contentType: 'text/plain', body: { inline: '' } }], announcedAt: 0 });

  it('keeps deliveries out of the control lane: a stuck subscriber does not hold up notifications', async () => {
    const queue = LocalHubQueue.open({ directory, deliveryConcurrency: 1, retry: FAST });
    opened.push(queue);
    const handled: string[] = [];
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    queue.start(async (job: HubJob) => {
      if (job.kind === 'deliver') await stuck;
      handled.push(job.id);
    });
    await queue.send([deliver('d1', 's1'), deliver('d2', 's2'), notify('n1'), notify('n2')]);
    await sleep(50);
    expect(handled).toEqual(['n1', 'n2']);
    release();
    await queue.drained();
    expect(handled).toEqual(['n1', 'n2', 'd1', 'd2']);
  });
});
