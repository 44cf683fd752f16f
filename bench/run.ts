import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchPost, fillInBatches, type BenchContext } from './lib/context.js';
import { corpusSamples, generatePosts } from './lib/generate.js';
import { delta, meters, quiet } from './lib/meters.js';
import { publishAndWatch } from './lib/publish.js';
import { printingFor, printTable, startBenchStack, STORE_NAMES, type BenchStore } from './lib/stack.js';
import { baseline } from './sections/baseline.js';
import { bursts } from './sections/bursts.js';
import { flatness } from './sections/flatness.js';
import { hubDeliveries } from './sections/hub.js';
import { imports, type ImportProfiler } from './sections/import.js';
import { quietLatency } from './sections/latency.js';
import { publishers } from './sections/publishers.js';
import { profiled, serverCpu, type ProfileSummary } from './lib/profile.js';
import { warmUpStore } from './lib/warm-up.js';

/**
 * The benchmark of feedpub against the local stack (DynamoDB Local, s3rver, the same handlers as in Lambda), every
 * figure side by side in one run on one machine. Readers poll documents over HTTP from a thread of their own
 * until they hold the expected state: what is measured is what a reader sees.
 *
 * Usage: npm run bench [-- --quick] [-- --only latency,bursts,publishers,hub,imports,flatness,baseline,bundles]
 *                      [-- --stores dynamodb-local,memory] [-- --profile] [-- --cold] [-- --without-hub]
 * --profile: each stack section, and the first import to published, under a CPU profile
 * (bench/results/<section>-<store>.cpuprofile), its CPU by process and its hottest modules and functions printed
 * and kept in the results. --cold: without the single-post warm-up of the stack sections (bench/lib/warm-up.ts).
 * --without-hub: renders announce nothing to the hub (its fan-outs' share of a section; not with the hub section).
 * Prints tables; writes bench/results.json (and bench/results/*.json, bench/results/latency-vs-stored.svg).
 */
const quick = process.argv.includes('--quick');
const onlyArg = process.argv.find((a) => a.startsWith('--only'));
const only = onlyArg ? new Set((onlyArg.includes('=') ? onlyArg.split('=')[1]! : process.argv[process.argv.indexOf(onlyArg) + 1]!).split(',')) : undefined;
const runs = (section: string) => !only || only.has(section);
const profiling = process.argv.includes('--profile');
// Without the single-post warm-up (bench/lib/warm-up.ts): what the sections measure on a store that is still compiling.
const cold = process.argv.includes('--cold');
const withoutHub = process.argv.includes('--without-hub');
if (withoutHub && (!only || only.has('hub'))) throw new Error('--without-hub: the hub section needs the hub; name the sections with --only');
const storesArg = process.argv.find((a) => a.startsWith('--stores'));
const stores = (storesArg ? (storesArg.includes('=') ? storesArg.split('=')[1]! : process.argv[process.argv.indexOf(storesArg) + 1]!) : 'dynamodb-local,memory').split(',') as BenchStore[];
for (const store of stores) if (!(store in STORE_NAMES)) throw new Error(`--stores: ${store} is not dynamodb-local or memory`);
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));
const samples = corpusSamples(corpus);
const results: Record<string, unknown> = {
  benchmark: 'feedpub',
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length },
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });

async function stackSections(store: BenchStore, results: Record<string, unknown>): Promise<void> {
  if (!['latency', 'bursts', 'publishers', 'hub', 'flatness', 'baseline'].some(runs)) return;
  const m = meters();
  const stack = await startBenchStack({ FEEDPUB_FEED_ITEMS: '50' }, m.wrap, { store, announce: !withoutHub });
  const profiles: Record<string, ProfileSummary> = {};
  if (profiling) results.profiles = profiles;
  const storePid = stack.pids[STORE_NAMES[store]]!;
  // The store's CPU in each section, and its JIT compilers' share of it: whether the section measured a warm server.
  const storeCpu: Record<string, { cpuMs: number; compilerMs: number }> = {};
  results.storeCpu = storeCpu;
  const section = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const spent = serverCpu(storePid);
    try {
      if (!profiling) return await run();
      const { result, profile } = await profiled(`${name} [${STORE_NAMES[store]}]`, stack.pids, run, join(import.meta.dirname, 'results', `${name}-${store}.cpuprofile`));
      profiles[name] = profile;
      return result;
    } finally {
      storeCpu[name] = spent();
    }
  };
  const ctx: BenchContext = { stack, m, quick, generated: generatePosts(2_000, { samples, categories: 2_000, seed: 7 }) };
  try {
    // A site in service: full feeds (a batch import), then single-post writes until DynamoDB Local's JIT has
    // compiled the paths they take (bench/lib/warm-up.ts).
    const warmUp = quick ? 300 : 1_000;
    await fillInBatches(stack, ctx.generated, warmUp);
    const warm = await warmUpStore(ctx, storePid, cold ? { minRounds: 0, maxRounds: 0 } : {});
    await quiet(m);
    results.warmUp = { posts: warmUp, cold, ...warm };
    const last = warm.rounds.at(-1);
    if (last) printTable(`Warm-up: ${warmUp} posts in batches, then single-post writes from 16 publishers until the store's JIT compilers took under 5 % of its CPU in two rounds in a row`, [
      { rounds: warm.rounds.length, writes: warm.writes, settled: String(warm.settled), 'first round: store CPU ms (compilers)': `${warm.rounds[0]!.storeCpuMs} (${warm.rounds[0]!.compilerMs})`, 'last round': `${last.storeCpuMs} (${last.compilerMs})` },
    ]);

    if (runs('latency')) {
      results.quietLatency = await section('latency', () => quietLatency(ctx));
      const before = m.snapshot();
      await publishAndWatch(stack.feedpub.url, stack.key, stack.config.site.feedsUrl, benchPost(0, ctx.generated[1]!, 'cost'));
      await quiet(m);
      const cost = delta(m.snapshot(), before);
      results.costOfOnePost = { rcu: cost.rcu, wcu: cost.wcu, s3Puts: cost.puts, s3Bytes: cost.bytes, renders: [...cost.renders.values()].reduce((a, b) => a + b, 0), itemWrites: cost.itemWrites };
      // Which documents those renders were of (feed ids; the directory's; a feed's archive page), and how many times.
      results.costOfOnePostRenders = Object.fromEntries(cost.renders);
      printTable('Cost of one post alone (DynamoDB capacity units as DynamoDB Local reports them; S3 through the real client)', [results.costOfOnePost as Record<string, number>]);
      printTable('The renders of that post, by document', [...cost.renders].map(([document, renders]) => ({ document, renders })));
    }
    if (runs('bursts')) results.bursts = await section('bursts', () => bursts(ctx));
    if (runs('publishers')) results.publishers = await section('publishers', () => publishers(ctx));
    if (runs('hub')) results.hub = await section('hub', () => hubDeliveries(ctx));
    let oneFeedMs: number | undefined;
    if (runs('flatness')) {
      await quiet(m);
      const flat = await flatness(stack, samples, quick);
      results.regenerationVsStored = flat;
      oneFeedMs = flat.rows[0]!.regenP50;
    }
    if (runs('baseline') && oneFeedMs !== undefined) results.baseline = await baseline(stack, oneFeedMs);
    printTable(`CPU of ${STORE_NAMES[store]} in each section, and of it its JIT compilers'`, Object.entries(storeCpu).map(([name, { cpuMs, compilerMs }]) => ({ section: name, 'store CPU ms': cpuMs, 'compilers ms': compilerMs, share: `${Math.round((100 * compilerMs) / (cpuMs || 1))} %` })));
  } finally {
    await stack.stop();
  }
}



// Every stack section runs once per store: DynamoDB Local (as `npm start` runs it: the targets are about it), then
// memory-dynamo, a stand-in at a tenth of its CPU per request, so that what DynamoDB Local costs shows side by side.
for (const store of stores) {
  printingFor(store);
  const byStore: Record<string, unknown> = {};
  results[store] = byStore;
  await stackSections(store, byStore);
  // With --profile, the import to published (the first import) runs under a profile too.
  const profile: ImportProfiler | undefined = profiling ? (name, pids, run) => profiled(`${name} [${STORE_NAMES[store]}]`, pids, run, join(import.meta.dirname, 'results', `${name}-${store}.cpuprofile`)) : undefined;
  if (runs('imports')) byStore.imports = await imports({ quick, corpus, store, profile, announce: !withoutHub });
}

if (runs('bundles')) {
  spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'bundles.ts'), quick ? '5' : '10'], { stdio: 'inherit' });
  const bundles = join(import.meta.dirname, 'results', 'bundles.json');
  if (existsSync(bundles)) results.bundles = JSON.parse(readFileSync(bundles, 'utf8')).bundles;
}

const file = only ? join(import.meta.dirname, 'results', `${[...only].join('-')}${withoutHub ? '-without-hub' : ''}.json`) : join(import.meta.dirname, 'results.json');
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwrote ${file.replace(`${resolve(import.meta.dirname, '..')}/`, '')}\n`);
process.exit(0);
