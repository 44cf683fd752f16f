import { readdirSync, readFileSync } from 'node:fs';
import { now } from './publish.js';

interface Sample {
  at: number;
  /** /proc/pressure/io totals (µs): time in which some, or all, non-idle tasks waited on I/O. */
  someUs: number;
  fullUs: number;
  /** Threads of the local S3 server in uninterruptible sleep (state D: waiting on the disk or the file system). */
  s3rverInDiskWait: number;
}

export interface DiskWait {
  /** Ms in which every non-idle task of the machine waited on I/O, between the two instants. */
  ioFullMs: number;
  /** Ms in which at least one task waited on I/O. */
  ioSomeMs: number;
  /** Ms (in samples of 100 ms) in which a thread of the local S3 server was in disk wait. */
  s3rverDiskWaitMs: number;
}

const pressure = (text: string, line: 'some' | 'full') => Number(/total=(\d+)/.exec(text.split('\n').find((l) => l.startsWith(line)) ?? '')?.[1] ?? NaN);

function threadsInDiskWait(pid: number): number {
  let waiting = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      if (stat[stat.lastIndexOf(')') + 2] === 'D') waiting++;
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return waiting;
}

/**
 * Whether the disk held a late post: the kernel's I/O pressure (Linux 4.20 and later) and the local S3 server's
 * threads in disk wait, sampled every 100 ms while the benchmark runs. A post that waited while every task of the
 * machine waited on I/O was held by the disk, not by feedpub. Where /proc/pressure is missing (macOS, some
 * containers) it reports nothing.
 */
export function diskWaitSampler(s3rverPid: number, intervalMs = 100) {
  const samples: Sample[] = [];
  let available = true;
  const take = () => {
    try {
      const io = readFileSync('/proc/pressure/io', 'utf8');
      samples.push({ at: now(), someUs: pressure(io, 'some'), fullUs: pressure(io, 'full'), s3rverInDiskWait: threadsInDiskWait(s3rverPid) });
    } catch {
      available = false;
      clearInterval(timer);
    }
  };
  const timer = setInterval(take, intervalMs);
  timer.unref();
  take();
  return {
    /** What the disk did between two instants (epoch ms), or undefined where it cannot be read. */
    between(from: number, to: number): DiskWait | undefined {
      if (!available) return undefined;
      take();
      const first = samples.findLast((s) => s.at <= from) ?? samples[0]!;
      const last = samples.find((s) => s.at >= to) ?? samples.at(-1)!;
      const inside = samples.filter((s) => s.at >= first.at && s.at <= last.at);
      return {
        ioFullMs: Math.round((last.fullUs - first.fullUs) / 1000),
        ioSomeMs: Math.round((last.someUs - first.someUs) / 1000),
        s3rverDiskWaitMs: inside.filter((s) => s.s3rverInDiskWait > 0).length * intervalMs,
      };
    },
    stop: () => clearInterval(timer),
  };
}
