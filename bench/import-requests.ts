/**
 * What an import asks of DynamoDB and S3: one stack, 2,000 Jekyll posts over 200 categories imported as the
 * benchmark's imports section imports them (the importer in a process of its own), and every request of feedpub's
 * own clients counted by kind, apart for the acceptance (until the importer's last batch is answered) and the
 * release (from then until every feed is published and every post page written), with what was done in each second.
 *
 *   npm run bench:import-requests [-- --store memory] [-- --profile]   (writes bench/results/import-requests.json)
 *
 * --profile: the import to published under a CPU profile (bench/results/import-requests-<store>.cpuprofile), its CPU
 * by process and feedpub's hottest modules and functions printed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Clients, MiddlewareStack } from './lib/meters.js';
import { corpusSamples, generatePosts, writeJekyllFiles } from './lib/generate.js';
import { importInProcess } from './lib/import-process.js';
import { profiled } from './lib/profile.js';
import { now } from './lib/publish.js';
import { kindOf } from './lib/request-kind.js';
import { printTable, startBenchStack, STORE_NAMES, type BenchStore } from './lib/stack.js';

const store: BenchStore = process.argv.includes('--store') ? (process.argv[process.argv.indexOf('--store') + 1] as BenchStore) : 'dynamodb-local';
if (!(store in STORE_NAMES)) throw new Error(`--store: ${store} is not dynamodb-local or memory`);
const corpus = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../shared/corpus/finews/_posts'));
const POSTS = 2_000;

/** The sort key's kind of a batch's or a transaction's first item (lib/store/table.ts): which items it is about. */
function itemsOf(input: Record<string, any>): string {
  const first = input.TransactItems?.[0];
  const key = first ? (first.Update ?? first.Delete ?? first.ConditionCheck)?.Key ?? first.Put?.Item : Object.values((input.RequestItems ?? {}) as Record<string, any>)[0]?.Keys?.[0] ?? Object.values((input.RequestItems ?? {}) as Record<string, any>)[0]?.[0]?.PutRequest?.Item;
  return key ? `${String(key.PK).replace(/#.*/, '')}/${String(key.SK).replace(/[#:].*/, '')}` : '';
}

const sent: { kind: string; at: number }[] = [];
const wrap = (clients: Clients): Clients => {
  for (const [service, client] of [['dynamodb', clients.doc], ['s3', clients.s3]] as const) {
    (client as unknown as MiddlewareStack).middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, any> }) => {
        const command = String(context.commandName).replace(/Command$/, '');
        const batch = command.startsWith('Batch') || command.startsWith('Transact');
        // Transactions of 20 actions or more are one kind: a batch of posts, or a slice of a feed's inbox.
        const kind = kindOf(service, command, args.input).replace(/\((\d+) (actions|keys)\)/, (_, n: string, what: string) => (Number(n) >= 20 ? `(20+ ${what})` : `(${n} ${what})`));
        sent.push({ kind: batch ? `${kind} of ${itemsOf(args.input)}` : kind, at: now() });
        return next(args);
      },
      { step: 'initialize', name: 'benchImportRequests' },
    );
  }
  return clients;
};

const stack = await startBenchStack({ FEEDPUB_TIMEZONE: 'Asia/Shanghai' }, wrap, { store });
const dir = mkdtempSync(join(tmpdir(), 'feedpub-import-requests-'));
try {
  const files = writeJekyllFiles(generatePosts(POSTS, { samples: corpusSamples(corpus), categories: 200, seed: 3 }), dir);
  sent.length = 0;
  const importToPublished = async () => {
    const imported = await importInProcess(files, { api: stack.feedpub.url, key: stack.key });
    await stack.feedpub.lanes.pages.idle();
    return { ...imported, doneAt: now() };
  };
  const { startedAt, report, doneAt } = process.argv.includes('--profile')
    ? (await profiled(`an import of ${POSTS} posts [${STORE_NAMES[store]}]`, stack.pids, importToPublished, join(import.meta.dirname, 'results', `import-requests-${store}.cpuprofile`))).result
    : await importToPublished();
  const acceptedAt = startedAt + report.elapsedMs;

  const phases = { accepting: new Map<string, number>(), releasing: new Map<string, number>() };
  for (const { kind, at } of sent) {
    const phase = at < acceptedAt ? phases.accepting : phases.releasing;
    phase.set(kind, (phase.get(kind) ?? 0) + 1);
  }
  const kinds = [...new Set(sent.map((s) => s.kind))]
    .map((kind) => ({ kind, accepting: phases.accepting.get(kind) ?? 0, releasing: phases.releasing.get(kind) ?? 0 }))
    .sort((a, b) => b.accepting + b.releasing - (a.accepting + a.releasing));
  const total = (phase: Map<string, number>, s3: boolean) => [...phase].filter(([k]) => k.startsWith('S3 ') === s3).reduce((n, [, c]) => n + c, 0);
  const summary = {
    store,
    posts: POSTS,
    acceptedMs: Math.round(report.elapsedMs),
    releasedMs: Math.round(doneAt - acceptedAt),
    postsPerSecondToPublished: Math.round(POSTS / ((doneAt - startedAt) / 1000)),
    dynamoRequests: { accepting: total(phases.accepting, false), releasing: total(phases.releasing, false) },
    s3Requests: { accepting: total(phases.accepting, true), releasing: total(phases.releasing, true) },
  };
  printTable(`An import of ${POSTS} posts over 200 categories [${STORE_NAMES[store]}]`, [
    {
      ...summary,
      dynamoRequests: `${summary.dynamoRequests.accepting} + ${summary.dynamoRequests.releasing} (${((summary.dynamoRequests.accepting + summary.dynamoRequests.releasing) / POSTS).toFixed(1)} per post)`,
      s3Requests: `${summary.s3Requests.accepting} + ${summary.s3Requests.releasing} (${((summary.s3Requests.accepting + summary.s3Requests.releasing) / POSTS).toFixed(1)} per post)`,
    },
  ]);
  printTable('Its requests by kind: while the importer sent its batches, and after (the release, the post pages)', kinds.filter((k) => k.accepting + k.releasing >= 10));
  // Each second from the importer's start: what was asked of each store.
  const seconds = Math.ceil((doneAt - startedAt) / 1000);
  const perSecond = Array.from({ length: seconds }, (_, i) => {
    const inside = sent.filter((s) => s.at >= startedAt + i * 1000 && s.at < startedAt + (i + 1) * 1000);
    const count = (test: (kind: string) => boolean) => inside.filter((s) => test(s.kind)).length;
    return {
      second: i,
      dynamo: count((k) => !k.startsWith('S3 ')),
      transactions: count((k) => k.startsWith('TransactWriteItems')),
      feedDocuments: count((k) => k === 'S3 PutObject (feed document)'),
      postPages: count((k) => k === 'S3 PutObject (post page)'),
    };
  });
  printTable('Each second from the importer\'s start (requests sent)', perSecond);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  const out = join(import.meta.dirname, 'results', `import-requests${store === 'memory' ? '-memory' : ''}.json`);
  writeFileSync(out, `${JSON.stringify({ command: `npm run bench:import-requests${store === 'memory' ? ' -- --store memory' : ''}`, date: new Date().toISOString(), summary, kinds, perSecond }, null, 1)}\n`);
  console.log(`wrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await stack.stop();
}
