import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism } from 'node:os';
import { relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { printTable } from './stack.js';

/**
 * Where the time of a section goes: CPU seconds of feedpub's process (its main thread: the API, both lanes, the
 * hub; the readers' thread counted apart), of DynamoDB (Local or the stand-in) and of the S3 server, over the
 * section's wall time, the main thread's event-loop utilization, and a CPU profile of the main thread summed by
 * module and by function (self time). `npm run bench -- --profile ...` writes bench/results/<section>.cpuprofile
 * (open it in Chrome DevTools or speedscope) and prints the summary.
 */
export interface ProfileSummary {
  wallMs: number;
  /** CPU ms over the section, per process. */
  cpuMs: Record<string, number>;
  /** CPU ms over the section per kind of thread of each server process (for the JVM: its JIT compilers apart). */
  threadCpuMs: Record<string, Record<string, number>>;
  /** Share of the main thread's time it was running JavaScript or native code rather than waiting. */
  eventLoopUtilization: number;
  byModule: { module: string; selfMs: number; share: number }[];
  byFunction: { fn: string; selfMs: number; share: number }[];
}

const ROOT = resolve(import.meta.dirname, '../..');

/** utime + stime of a process in ms (Linux), 0 when it cannot be read. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** utime + stime in ms of each thread of a process, by thread id, with its kind: its name without a trailing number. */
function threadTimes(pid: number): Map<string, { kind: string; ms: number }> {
  const threads = new Map<string, { kind: string; ms: number }>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      // `C2 CompilerThre` (names are cut at 15 characters), `qtp123-45`, `GC Thread#1`: alike under one kind.
      const kind = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\d#\-]+$/, '').trim() || '(unnamed)';
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(task, { kind, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/**
 * The CPU a process spends from now until the returned function is called: its total (from the process, so the
 * threads that ended meanwhile count too), and by kind of thread, thread by thread. What threads that ended in
 * between spent cannot be told apart by kind: it is shown as `(threads that ended)`.
 */
export function threadCpu(pid: number): () => { totalMs: number; byKindMs: Map<string, number> } {
  const total = processCpuMs(pid);
  const before = threadTimes(pid);
  return () => {
    const totalMs = processCpuMs(pid) - total;
    const byKindMs = new Map<string, number>();
    for (const [task, { kind, ms }] of threadTimes(pid)) {
      const spent = ms - (before.get(task)?.ms ?? 0);
      byKindMs.set(kind, (byKindMs.get(kind) ?? 0) + spent);
    }
    const ended = totalMs - [...byKindMs.values()].reduce((a, b) => a + b, 0);
    if (ended > 0) byKindMs.set('(threads that ended)', ended);
    return { totalMs, byKindMs };
  };
}

/** The JVM's JIT compiler threads (HotSpot names them `C1 CompilerThread0`, `C2 CompilerThread1`...). */
export const isCompilerThread = (kind: string) => /CompilerThre/.test(kind);

/**
 * CPU of a server process over a stretch of work, and how much of it its JIT compilers took (those alive at the
 * end): a JVM still compiling is not yet the server it will be once warm.
 */
export function serverCpu(pid: number): () => { cpuMs: number; compilerMs: number } {
  const spent = threadCpu(pid);
  return () => {
    const { totalMs, byKindMs } = spent();
    const compilerMs = [...byKindMs].filter(([kind]) => isCompilerThread(kind)).reduce((a, [, ms]) => a + ms, 0);
    return { cpuMs: Math.round(totalMs), compilerMs: Math.round(compilerMs) };
  };
}

/**
 * The CPU every process of the stack spends over a stretch of wall time (feedpub's own process, the readers' thread
 * in it included, and the servers beside it), and that CPU over the machine's cores: the wall time it fills on all
 * of them. It is not a strict lower bound of the time: part of the CPU grows with the time taken (polls).
 */
export function cpuDemand(pids: Record<string, number>): () => { byProcessMs: Record<string, number>; totalMs: number; cores: number } {
  const own = process.cpuUsage();
  const others = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, processCpuMs(pid)]));
  return () => {
    const mine = process.cpuUsage(own);
    const byProcessMs: Record<string, number> = { feedpub: Math.round((mine.user + mine.system) / 1000) };
    for (const [k, pid] of Object.entries(pids)) byProcessMs[k] = Math.round(processCpuMs(pid) - others[k]!);
    const totalMs = Object.values(byProcessMs).reduce((a, b) => a + b, 0);
    return { byProcessMs, totalMs, cores: availableParallelism() };
  };
}

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** The module a sampled function belongs to: a package of node_modules, a file of ours, node's internals, or none. */
function moduleOf(url: string): string {
  if (!url) return '(native, idle or GC)';
  if (url.startsWith('node:')) return url;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return path.startsWith(ROOT) ? relative(ROOT, path) : path;
}

export async function profiled<T>(name: string, pids: Record<string, number>, fn: () => Promise<T>, file: string): Promise<{ result: T; profile: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  const elu = performance.eventLoopUtilization();
  const demand = cpuDemand(pids);
  const threadsSpent = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, threadCpu(pid)]));
  const started = performance.now();
  // A section that throws ends the benchmark: the profiler goes with the process.
  const result = await fn();
  const wallMs = performance.now() - started;
  const utilization = performance.eventLoopUtilization(elu).utilization;
  const { byProcessMs } = demand();
  const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: CpuProfileNode[]; samples: number[]; timeDeltas: number[] } };
  session.disconnect();
  writeFileSync(file, JSON.stringify(profile));
  const { feedpub, ...servers } = byProcessMs;
  const cpuMs: Record<string, number> = { 'feedpub (all threads)': feedpub!, ...servers };
  const threadCpuByKind: Record<string, Record<string, number>> = {};
  for (const k of Object.keys(pids)) {
    const spent = [...threadsSpent[k]!().byKindMs].map(([kind, ms]) => [kind, Math.round(ms)] as const);
    threadCpuByKind[k] = Object.fromEntries(spent.filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]));
  }

  // Self time per node: the sampling intervals that ended in it.
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const ms = self.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += ms;
    const mod = functionName === '(garbage collector)' ? '(garbage collector)' : moduleOf(url);
    byModule.set(mod, (byModule.get(mod) ?? 0) + ms);
    const fnKey = `${functionName || '(anonymous)'} ${mod}:${lineNumber + 1}`;
    byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + ms);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, ms]) => ({ k, selfMs: Math.round(ms), share: Math.round((ms / (total || 1)) * 1000) / 10 }));
  const summary: ProfileSummary = {
    wallMs: Math.round(wallMs),
    cpuMs,
    threadCpuMs: threadCpuByKind,
    eventLoopUtilization: Math.round(utilization * 100) / 100,
    byModule: top(byModule, 15).map(({ k, ...r }) => ({ module: k, ...r })),
    byFunction: top(byFunction, 20).map(({ k, ...r }) => ({ fn: k, ...r })),
  };
  printTable(`profile of ${name}: CPU ms by process over ${summary.wallMs} ms of wall time; main thread busy ${Math.round(utilization * 100)}%`, [summary.cpuMs]);
  const threadRows = Object.entries(threadCpuByKind).flatMap(([process, kinds]) => Object.entries(kinds).slice(0, 6).map(([thread, ms]) => ({ process, thread, cpuMs: ms })));
  printTable(`profile of ${name}: CPU ms of the servers' threads (by name; the JVM's compilers are its JIT)`, threadRows);
  printTable(`profile of ${name}: main thread self time by module (of ${Math.round(total)} ms sampled busy)`, summary.byModule);
  printTable(`profile of ${name}: main thread self time by function`, summary.byFunction);
  return { result, profile: summary };
}
