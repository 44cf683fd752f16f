import { readdirSync, readFileSync } from 'node:fs';
import { now } from './publish.js';

interface Sample {
  at: number;
  /** /proc/pressure/io totals (µs): time in which some, or all, non-idle tasks waited on I/O. */
  someUs: number;
  fullUs: number;
  /** Threads of the local S3 server in uninterruptible sleep (state D: waiting on the disk or the file system). */
  s3rverInDiskWait: number;
  /** The kernel's count of TCP retransmission timeouts so far (TcpExt TCPTimeouts; here every connection is on loopback). */
  tcpTimeouts: number;
  /** How late this sample's timer fired (ms): the event loop of feedpub's process (the benchmark's own) was busy that long. */
  lagMs: number;
}

export interface DiskWait {
  /** Ms in which every non-idle task of the machine waited on I/O, between the two instants. */
  ioFullMs: number;
  /** Ms in which at least one task waited on I/O. */
  ioSomeMs: number;
  /** Ms (in samples of 100 ms) in which a thread of the local S3 server was in disk wait. */
  s3rverDiskWaitMs: number;
  /**
   * TCP retransmission timeouts on the machine (every connection of the stack is on loopback, where nothing should
   * be lost): a segment waiting for one waits 200 ms or more, doubled at each next one.
   */
  tcpTimeouts: number;
  /** The longest the event loop of feedpub's process (API, lanes, front) kept a 100 ms timer waiting past its time. */
  loopLagMaxMs: number;
}

/** A counter of /proc/net/netstat (pairs of lines: names, then values, per protocol). */
function netstatCounter(name: string): number {
  let lines: string[];
  try {
    lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  } catch {
    return NaN; // not Linux, or no /proc/net: the disk's figures still stand
  }
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const index = lines[i]!.split(' ').indexOf(name);
    if (index > 0) return Number(lines[i + 1]!.split(' ')[index]);
  }
  return NaN;
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
  let due = now() + intervalMs;
  const take = (timed = false) => {
    try {
      const io = readFileSync('/proc/pressure/io', 'utf8');
      const at = now();
      const lagMs = timed ? Math.max(0, at - due) : 0;
      if (timed) due = at + intervalMs;
      samples.push({ at, someUs: pressure(io, 'some'), fullUs: pressure(io, 'full'), s3rverInDiskWait: threadsInDiskWait(s3rverPid), tcpTimeouts: netstatCounter('TCPTimeouts'), lagMs });
    } catch {
      available = false;
      clearInterval(timer);
    }
  };
  const timer = setInterval(() => take(true), intervalMs);
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
        tcpTimeouts: last.tcpTimeouts - first.tcpTimeouts,
        // A sample's lag is the wait that ended when it was taken: only those taken after `from` fall in the window.
        loopLagMaxMs: Math.round(Math.max(0, ...inside.filter((s) => s.at > from).map((s) => s.lagMs))),
      };
    },
    stop: () => clearInterval(timer),
  };
}
