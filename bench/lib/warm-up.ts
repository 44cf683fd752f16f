import { benchPost, inParallel, type BenchContext } from './context.js';
import { send } from './publish.js';
import { serverCpu } from './profile.js';

export interface WarmUpRound {
  writes: number;
  /** CPU of the store's process over the round, and of it, its JIT compilers'. */
  storeCpuMs: number;
  compilerMs: number;
}

const PUBLISHERS = 16;
const ROUND_POSTS = 128;
/** Warm: the store's compilers took under this share of its CPU in a round. */
const SETTLED_SHARE = 0.05;

/**
 * Single-post writes from 16 publishers, in rounds, until the store is warm: the writes the sections make (creates,
 * edits, deletes; a batch import takes other paths through the server), until DynamoDB Local's JIT compilers take
 * under 5 % of its CPU in two rounds in a row, at most `maxRounds`. A DynamoDB Local that has just started spends
 * much of its CPU compiling, and each write costs it more than it does once the compilers have settled; the rounds,
 * printed and kept in the results, show by how much. Without them the first sections measured that warm-up, not a
 * site in service. The posts stay (a site in service has full feeds). The stand-in has no such threads: it gets
 * `minRounds`.
 */
export async function warmUpStore({ stack, generated }: BenchContext, storePid: number, { minRounds = 2, maxRounds = 60 } = {}): Promise<{ writes: number; settled: boolean; rounds: WarmUpRound[] }> {
  const { url } = stack.feedpub;
  const rounds: WarmUpRound[] = [];
  let n = 0;
  for (let r = 0; r < maxRounds; r++) {
    const spent = serverCpu(storePid);
    const ids = Array.from({ length: ROUND_POSTS }, (_, k) => `warm-r${r}-${k}`);
    const write = async (method: string, path: string, body?: unknown) => {
      const response = await send(url, stack.key, method, path, body);
      await response.body?.cancel();
      if (response.status >= 300) throw new Error(`warm-up ${method} ${path} answered ${response.status}`);
    };
    // Creates, then an edit of every fourth and a delete of every eighth, as a burst's publishers send them.
    const next = (tag: string) => {
      const i = n++;
      return benchPost(i, generated[i % generated.length]!, tag);
    };
    await inParallel(ids, PUBLISHERS, async (id) => write('PUT', `/posts/${id}`, next('warm')));
    const changed = ids.filter((_, k) => k % 4 === 0);
    await inParallel(changed, PUBLISHERS, async (id, k) =>
      k % 2 === 0 ? write('DELETE', `/posts/${id}`) : write('PUT', `/posts/${id}`, next('warm-edit')),
    );
    const { cpuMs, compilerMs } = spent();
    rounds.push({ writes: ids.length + changed.length, storeCpuMs: cpuMs, compilerMs });
    // Two rounds in a row: compiling comes in bursts, and one quiet round says little.
    const settled = rounds.slice(-2).filter((round) => round.compilerMs < SETTLED_SHARE * round.storeCpuMs).length === 2;
    if (r + 1 >= minRounds && settled) return { writes: rounds.reduce((a, b) => a + b.writes, 0), settled: true, rounds };
  }
  return { writes: rounds.reduce((a, b) => a + b.writes, 0), settled: false, rounds };
}
