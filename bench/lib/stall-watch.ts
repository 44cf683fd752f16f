import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profiler } from 'node:inspector';

/** A stretch in which feedpub's event loop ran nothing (a 50 ms timer kept waiting), and what its thread did meanwhile. */
export interface Stall {
  /** Epoch ms of the last timer before it, and how long until the next one ran. */
  at: number;
  ms: number;
  /** The most frequent stacks of the thread's samples in that stretch (innermost frame first), with their share. */
  stacks: { share: number; stack: string }[];
  /** The whole CPU profile of the watch, kept out of git (opens in Chrome DevTools). */
  profileFile: string;
}

/**
 * Watches feedpub's main thread (the benchmark's own: the API, the lanes, the local front) for stalls longer than
 * `stallMs`, under a sampling CPU profile of low rate (one sample per 10 ms by default: V8's sampler thread takes
 * them even while the thread is stuck in one task). On stop, the longest stall, with the stacks the thread was in
 * during it: whether it was feedpub's code, a library's, the garbage collector or the benchmark's own.
 */
export async function stallWatch({ stallMs = 2_000, samplingIntervalUs = 10_000 } = {}) {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
  await session.post('Profiler.start');
  const startedAt = performance.now();
  let last = performance.now();
  let worst: { from: number; to: number } | undefined;
  const timer = setInterval(() => {
    const at = performance.now();
    if (at - last > stallMs && (!worst || at - last > worst.to - worst.from)) worst = { from: last, to: at };
    last = at;
  }, 50);
  timer.unref();
  return {
    async stop(): Promise<Stall | undefined> {
      clearInterval(timer);
      const { profile } = await session.post('Profiler.stop');
      await session.post('Profiler.disable');
      session.disconnect();
      if (!worst) return undefined;
      const profileFile = join(tmpdir(), `feedpub-stall-${Date.now()}.cpuprofile`);
      writeFileSync(profileFile, JSON.stringify(profile));
      return {
        at: Math.round(performance.timeOrigin + worst.from),
        ms: Math.round(worst.to - worst.from),
        stacks: stacksBetween(profile, (worst.from - startedAt) * 1000, (worst.to - startedAt) * 1000),
        profileFile,
      };
    },
  };
}

/** The five most frequent stacks (up to 8 frames) of the samples between two offsets (µs from the profile's start). */
function stacksBetween(profile: Profiler.Profile, fromUs: number, toUs: number): Stall['stacks'] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const counts = new Map<string, number>();
  let total = 0;
  let t = 0;
  profile.samples?.forEach((id, i) => {
    t += profile.timeDeltas?.[i] ?? 0;
    if (t < fromUs || t > toUs) return;
    const frames: string[] = [];
    for (let n: number | undefined = id; n !== undefined && frames.length < 8; n = parents.get(n)) {
      const { functionName, url, lineNumber } = nodes.get(n)!.callFrame;
      if (functionName === '(root)') break;
      frames.push(`${functionName || '(anonymous)'}${url ? ` ${url.replace(/^.*\/(node_modules|main)\//, '')}:${lineNumber + 1}` : ''}`);
    }
    const stack = frames.join(' < ');
    counts.set(stack, (counts.get(stack) ?? 0) + 1);
    total++;
  });
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([stack, n]) => ({ share: Math.round((n / total) * 100) / 100, stack }));
}
