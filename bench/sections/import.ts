import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusSamples, generatePosts, writeJekyllFiles, type CorpusSample } from '../lib/generate.js';
import { delta, meters } from '../lib/meters.js';
import { documentRow, lastDocuments, now, publishAndWatch, type LastDocument } from '../lib/publish.js';
import { benchPost } from '../lib/context.js';
import { printTable, slowServing, startBenchStack, summarize, type BenchStack, type BenchStore } from '../lib/stack.js';
import type { ProfileSummary } from '../lib/profile.js';
import { diskWaitSampler, type DiskWait } from '../lib/disk-wait.js';
import { importInProcess } from '../lib/import-process.js';
import { stallWatch } from '../lib/stall-watch.js';

/**
 * Imports, on a stack of their own, each through `importPosts` (what `npx feedpub import` runs) in a process of its
 * own, as a publisher runs it: (1) 2,000 Jekyll posts, timed to published: the importer returns once its hold's
 * release has rendered every feed; the pages lane is then waited for until every post page is written. (2) 20,000 full-content posts (1-8 KB each) while another
 * publisher posts every half second, each post timed to visible; then posts right after the import. (3) Publish to
 * visible with 22,000 posts stored, small posts against 1-8 KB ones.
 */
/** Runs a part of the section under a CPU profile (`--profile`): its result, and where its time went. */
export type ImportProfiler = <T>(name: string, pids: Record<string, number>, run: () => Promise<T>) => Promise<{ result: T; profile: ProfileSummary }>;

export async function imports({ quick, corpus, store, profile, announce = true }: { quick: boolean; corpus: string; store: BenchStore; profile?: ImportProfiler; announce?: boolean }) {
  const samples: CorpusSample[] = corpusSamples(corpus);
  const m = meters();
  const stack = await startBenchStack({ FEEDPUB_TIMEZONE: 'Asia/Shanghai' }, m.wrap, { store, announce });
  const dir = mkdtempSync(join(tmpdir(), 'feedpub-import-bench-'));
  const disk = diskWaitSampler(stack.pids.s3rver!);
  try {
    const options = { api: stack.feedpub.url, key: stack.key };
    const small = quick ? 500 : 2000;
    const files = writeJekyllFiles(generatePosts(small, { samples, categories: 200, seed: 3 }), dir);
    const before = m.snapshot();
    const toPublished = async () => {
      const imported = await importInProcess(files, options);
      await stack.feedpub.lanes.pages.idle();
      return imported;
    };
    const profiled = profile ? await profile('import', stack.pids, toPublished) : undefined;
    const { startedAt, report } = profiled ? profiled.result : await toPublished();
    const allWrittenMs = now() - startedAt;
    const cost = delta(m.snapshot(), before);
    const first = {
      posts: small,
      acceptedPerSecond: Math.round(small / (report.elapsedMs / 1000)),
      feedsPublishedMs: Math.round(report.publishedMs ?? NaN),
      everyFeedAndPageWrittenMs: Math.round(allWrittenMs),
      postsPerSecondToPublished: Math.round(small / (allWrittenMs / 1000)),
      maxRendersOfAFeed: Math.max(...[...cost.renders].filter(([id]) => /^(site|c:|t:)/.test(id)).map(([, n]) => n)),
      s3Puts: cost.puts,
    };
    printTable(`Import of ${small} posts, to published (every feed and page written)`, [{ ...first, target: '>= 200 posts/s to published' }]);

    const big = quick ? 3000 : 20_000;
    const bigFiles = writeJekyllFiles(generatePosts(big, { samples, categories: 2000, seed: 5, prefix: 'big', bodyBytes: [1024, 8192], start: new Date('2022-01-01T00:00:00Z') }), dir);
    const during: number[] = [];
    // A post its readers never saw within the watch's 30 s is counted, not timed (and does not end the run).
    const missed = { during: 0, after: 0 };
    // Posts seen later than the target: which document was last, and whether its render or its serving was late.
    const late: LatePost[] = [];
    const watched = async (kind: 'during' | 'after', post: Parameters<typeof publishAndWatch>[3]) => {
      try {
        const seen = await publishAndWatch(stack.feedpub.url, stack.key, stack.config.site.feedsUrl, post);
        if (seen.visibleMs > 1000) late.push(lateness(kind, seen, m, disk.between(seen.answeredAt, seen.answeredAt + seen.visibleMs)));
        return seen.visibleMs;
      } catch (error) {
        missed[kind]++;
        process.stderr.write(`a post published ${kind} the import was not visible within 30 s: ${(error as Error).message}\n`);
        return undefined;
      }
    };
    // Feedpub's event loop has stalled for seconds in some runs of this import (docs/PERFORMANCE.md, "The stalls
    // of the local stack"): watched, and what its thread did meanwhile kept.
    const stalls = await stallWatch();
    let importing = true;
    const sidePublisher = (async () => {
      for (let i = 0; importing; i++) {
        const ms = await watched('during', benchPost(i, generatePosts(1, { samples, categories: 50, seed: 100 + i })[0]!, 'd'));
        if (ms !== undefined) during.push(ms);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    let bigReport;
    try {
      ({ report: bigReport } = await importInProcess(bigFiles, options));
    } finally {
      importing = false;
      await sidePublisher;
      // (On a failed import, the profile is stopped too, not left sampling through the sections after it.)
      if (!bigReport) await stalls.stop();
    }
    const afterImport: number[] = [];
    for (let i = 0; i < 20; i++) {
      const ms = await watched('after', benchPost(i, generatePosts(1, { samples, categories: 50, seed: 200 + i })[0]!, 'e'));
      if (ms !== undefined) afterImport.push(ms);
    }
    const stall = await stalls.stop();
    const second = {
      posts: big,
      bodyBytes: '1024-8192',
      acceptedPerSecond: Math.round(big / (bigReport.elapsedMs / 1000)),
      postsPerSecondToPublished: Math.round(big / ((bigReport.publishedMs ?? NaN) / 1000)),
      postsDuringImport: during.length + missed.during,
      notVisibleWithin30sDuring: missed.during,
      notVisibleWithin30sAfter: missed.after,
      visibleDuringImport: summarize(during),
      visibleRightAfterImport: summarize(afterImport),
      latePosts: late.sort((a, b) => b.visibleMs - a.visibleMs).slice(0, 10),
      ...(stall ? { longestStall: stall } : {}),
    };
    printTable(`Import of ${big} posts of 1-8 KB while another publisher posts (ms, answer -> visible)`, [
      { measure: 'posts published during the import', ...second.visibleDuringImport, 'not seen in 30 s': missed.during, target: 'max <= 1000' },
      { measure: 'posts right after the import returned', ...second.visibleRightAfterImport, 'not seen in 30 s': missed.after, target: 'max <= 1000' },
    ]);
    if (second.latePosts.length > 0) {
      printTable('The latest of the posts seen later than 1 s (ms from the answer): the document seen last, its feed\'s live lease acquisitions until its last PUT (the first sent, how many found the lease held and by what, the last that took it answered), the PUT of it answered last before it was seen, the longest single GET of it; and while it waited, the ms in which every task of the machine waited on I/O (ioFullMs), some did (ioSomeMs), a thread of the local S3 server was in disk wait, and the longest feedpub\'s event loop kept a 100 ms timer waiting (loopLagMaxMs)', second.latePosts.map(({ documents, disk, ...post }) => ({ ...post, ...documentRow(documents[0]!), ...disk })));
    }
    if (stall) {
      printTable(`Feedpub's event loop stalled ${stall.ms} ms (the longest of the import's, over 2 s): the stacks its thread was in, in samples every 10 ms (${stall.profileFile})`, stall.stacks);
    }
    printTable('The import itself', [{ posts: big, 'accepted posts/s': second.acceptedPerSecond, 'posts/s to published': second.postsPerSecondToPublished }]);

    const sizes = await bySize(stack, samples, quick ? 30 : 100);
    // What the local front and the local S3 server logged as slow over the whole section (over 1 s, from arrival
    // to the last byte sent): a late post held by either shows here with where that server's time went.
    const { slowReads, slowS3Requests } = slowServing(stack);
    return { importSmall: { ...first, ...(profiled ? { profile: profiled.profile } : {}) }, importBig: second, latencyByPostSize: sizes, slowReads, slowS3Requests };
  } finally {
    disk.stop();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface LatePost {
  kind: 'during' | 'after';
  visibleMs: number;
  /** Its documents, the last seen first (three at most). */
  documents: LastDocument[];
  /** What the disk did while the post waited (Linux): a post held while every task waited on I/O was the disk's. */
  disk?: DiskWait;
}

function lateness(kind: LatePost['kind'], seen: Awaited<ReturnType<typeof publishAndWatch>>, m: ReturnType<typeof meters>, disk: DiskWait | undefined): LatePost {
  return { kind, visibleMs: Math.round(seen.visibleMs), documents: lastDocuments(seen.documents, seen.answeredAt, m), ...(disk ? { disk } : {}) };
}

/** Publish to visible with the big import stored: posts of a few hundred bytes against posts of 1-8 KB. */
async function bySize(stack: BenchStack, samples: CorpusSample[], count: number) {
  await stack.feedpub.lanes.pages.idle();
  const smallPosts = generatePosts(count, { samples, categories: 2000, seed: 21, prefix: 's' });
  const bigPosts = generatePosts(count, { samples, categories: 2000, seed: 22, prefix: 'l', bodyBytes: [1024, 8192] });
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < count; i++) {
    small.push((await publishAndWatch(stack.feedpub.url, stack.key, stack.config.site.feedsUrl, benchPost(i, smallPosts[i]!, 's'))).visibleMs);
    large.push((await publishAndWatch(stack.feedpub.url, stack.key, stack.config.site.feedsUrl, benchPost(i, bigPosts[i]!, 'l'))).visibleMs);
  }
  const result = { stored: 'after the imports', smallPosts: summarize(small), postsOf1to8KB: summarize(large) };
  printTable('Publish to visible with the imports stored (feeds of full-content posts), by post size (ms)', [
    { posts: 'a few hundred bytes', ...result.smallPosts, target: '' },
    { posts: '1-8 KB', ...result.postsOf1to8KB, target: 'p50 <= 300' },
  ]);
  return result;
}
