import { sleep } from '../concurrency.js';
import { describeSite, readJekyllSite, type JekyllSite } from '../posts/jekyll-site.js';
import { ImportApi, ImportRefused, type SendOutcome } from './api-client.js';
import { readPostFile, settleSameIds, siteSettingsOf, type ReadContext, type ReadFile } from './site-posts.js';

export interface ImportOptions {
  /** Base URL of the API (local or deployed). */
  api: string;
  key: string;
  /** Batch requests in flight. */
  concurrency?: number;
  /** Posts per batch request (at most 100). */
  batchSize?: number;
  /** Read every file as a real import does; send nothing. */
  dryRun?: boolean;
  /**
   * Zone of dates written without an offset, where the site's _config.yml names none (--timezone). Default: the
   * site's zone on the API (GET /site) in a real import, UTC in a dry run.
   */
  timeZone?: string;
  /** URL that relative front-matter links resolve against, where the site names none. Default as `timeZone`. */
  siteUrl?: string;
  /** Leave the site's stored settings as they are, rather than storing those of _config.yml (--keep-settings). */
  keepSettings?: boolean;
  /** The moment of the import (default: now): posts dated after it are scheduled. */
  now?: Date;
  onFile?: (done: number, total: number) => void;
  /** Wait until the hold's release has rendered every feed the import touched (default true). */
  wait?: boolean;
  /** While waiting: feeds left to render, and how many the release started with. */
  onPublishing?: (left: number, total: number) => void;
}

export type Outcome = 'created' | 'updated' | 'unchanged' | 'valid';

/** What became of the site's settings: stored (changed), already stored, kept (--keep-settings), none to store. */
export type SettingsOutcome = 'stored' | 'unchanged' | 'kept' | 'none' | 'dry-run';

export interface ImportReport {
  files: number;
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Dry run: files that would be imported. */
  valid: string[];
  /** Posts marked `published: false` (Jekyll does not publish them): not sent. */
  drafts: string[];
  /** Posts dated after the import: sent, and published by the API at their dates (also counted above). */
  scheduled: string[];
  failed: { file: string; reason: string }[];
  /** Files whose names give the same id: the last of each is imported, the others failed. */
  sameId: { id: string; files: string[] }[];
  /** Files where posts are that are not Markdown or HTML: Jekyll copies them; feedpub does not read them. */
  skipped: string[];
  site: {
    /** Which settings were taken from _config.yml (describeSite). */
    description: string;
    settings: SettingsOutcome;
    /** The zone dates without an offset were read in, and where it came from. */
    timeZone: { zone: string; from: string };
  };
  /** Until the last file was answered. */
  elapsedMs: number;
  /** Until every feed the import touched was published (absent without waiting, or on a dry run). */
  publishedMs?: number;
}

const HOLD_SECONDS = 120;

/**
 * Runs `work` under a regeneration hold: the import's writes wait in the hold's lane and each touched feed is
 * rendered once, when the hold is released at the end. Returns once the release has published every feed,
 * unless told not to wait.
 */
async function withHold<T>(api: ImportApi, options: ImportOptions, work: (holdId: string) => Promise<T>): Promise<{ value: T; publishedAt?: number }> {
  const hold = await api.hold('POST', '', { seconds: HOLD_SECONDS });
  const renew = setInterval(() => void api.hold('PUT', `/${hold.id}`, { seconds: HOLD_SECONDS }).catch(() => undefined), (HOLD_SECONDS * 1000) / 4);
  let value: T;
  try {
    value = await work(hold.id);
  } finally {
    clearInterval(renew);
    await api.hold('DELETE', `/${hold.id}`);
  }
  if (options.wait === false) return { value };
  let total: number | undefined;
  for (;;) {
    const state = await api.hold('GET', `/${hold.id}`);
    total ??= state.feedsLeft;
    options.onPublishing?.(state.feedsLeft, Math.max(total, state.feedsLeft));
    if (state.phase === 'published') return { value, publishedAt: performance.now() };
    await sleep(200);
  }
}

type Post = Extract<ReadFile, { kind: 'post' }>;

/** How long reading files may hold the event loop before it gives other work a turn (sends, answers, a progress bar). */
const READ_SLICE_MS = 10;

/**
 * The posts of `read` in batches of at most `size` and about 4 MB of request, in order, read as they are asked
 * for: the first batch is sent while the next ones are read, so a large site starts sending at once and is never
 * held whole in memory; and reading never holds the event loop for more than about READ_SLICE_MS. What is not a
 * post (a draft, a file refused) goes to `other` as it is read.
 */
export async function* postBatches(read: Iterable<ReadFile>, size: number, other: (r: Exclude<ReadFile, Post>) => void): AsyncGenerator<Post[]> {
  let current: Post[] = [];
  let bytes = 0;
  let slice = performance.now();
  for (const r of read) {
    if (performance.now() - slice > READ_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
    if (r.kind !== 'post') {
      other(r);
      continue;
    }
    const postBytes = Buffer.byteLength(r.json);
    // (The reading's time is not reset by a yield: a sender waiting already takes the next batch at once.)
    if (current.length > 0 && bytes + postBytes > 4 * 1024 * 1024) {
      yield current;
      [current, bytes] = [[], 0];
    }
    current.push(r);
    bytes += postBytes;
    if (current.length >= size) {
      yield current;
      [current, bytes] = [[], 0];
    }
  }
  if (current.length > 0) yield current;
}

/**
 * Every file of the site read, in order, lazily. Files whose names give the same id (the site's `sameId`, from its
 * listing) are read first (there are few): which of them are posts decides which one is imported (settleSameIds),
 * and that must be known before the first of them is sent.
 */
export function readFiles({ files, sameId }: Pick<JekyllSite, 'files' | 'sameId'>, context: ReadContext): { read: Iterable<ReadFile>; sameId: { id: string; files: string[] }[] } {
  const shared = new Set(sameId.flatMap((group) => group.files));
  const settled = settleSameIds(files.filter((file) => shared.has(file.relativePath)).map((file) => readPostFile(file, context)));
  const early = new Map(settled.read.map((r) => [r.file, r]));
  return {
    read: (function* () {
      for (const file of files) yield early.get(file) ?? readPostFile(file, context);
    })(),
    sameId: settled.sameId,
  };
}

/**
 * The site's settings for this import: those of _config.yml stored as the site's (PUT /site) before any post is
 * written, unless told to keep the stored ones; and the zone and URL the API's site has, for what the site leaves out.
 */
async function settle(api: ImportApi, site: ReturnType<typeof readJekyllSite>, options: ImportOptions): Promise<{ outcome: SettingsOutcome; timeZone: string; url: string }> {
  if (options.dryRun) return { outcome: site.configFile ? 'dry-run' : 'none', timeZone: options.timeZone ?? 'UTC', url: options.siteUrl ?? 'http://127.0.0.1:3000' };
  const store = Boolean(site.configFile) && !options.keepSettings;
  let answer;
  try {
    answer = await api.settings(store ? siteSettingsOf(site) : undefined);
  } catch (error) {
    if (!(error instanceof ImportRefused)) throw error;
    throw new Error(`the API refused the site's settings from ${site.configFile}: ${error.message} (--keep-settings imports without storing them)`, { cause: error });
  }
  const outcome: SettingsOutcome = !site.configFile ? 'none' : !store ? 'kept' : answer.changed ? 'stored' : 'unchanged';
  return { outcome, timeZone: options.timeZone ?? answer.effective.timeZone, url: options.siteUrl ?? answer.effective.url };
}

/**
 * Imports a Jekyll site (its folder, a `_posts` folder in one, or post files) through the API, as Jekyll reads it:
 * the settings of its _config.yml (stored as the site's settings first), every post parsed here with them and sent
 * as JSON with its date written out. `published: false` posts are left out, future-dated ones are scheduled by the
 * API. Regeneration is held while the posts are written, so every feed the import touches is rendered once at the
 * end; a repeated import changes nothing. A dry run reads every file the same way and sends nothing.
 */
export async function importPosts(paths: string | string[], options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  for (const [name, value, max] of [['concurrency', options.concurrency ?? 4, 64], ['batchSize', options.batchSize ?? 50, 100]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, not ${value}`);
  }
  const site = readJekyllSite(paths);
  const api = new ImportApi(options.api, options.key);
  const settled = await settle(api, site, options);
  const now = options.now ?? new Date();
  const zoneFrom = site.settings.timeZone ? `timezone in ${site.configFile?.split(/[\\/]/).pop()}` : options.timeZone ? 'given' : options.dryRun ? 'default' : "the site's settings on the API";
  const context = { settings: site.settings, timeZone: settled.timeZone, siteUrl: settled.url, now };
  const { read, sameId } = readFiles(site, context);

  const report: ImportReport = {
    files: site.files.length,
    created: [],
    updated: [],
    unchanged: [],
    valid: [],
    drafts: [],
    scheduled: [],
    failed: [],
    sameId,
    skipped: site.skipped.map((s) => s.path),
    site: { description: describeSite(site), settings: settled.outcome, timeZone: { zone: site.settings.timeZone ?? settled.timeZone, from: zoneFrom } },
    elapsedMs: 0,
  };
  let done = 0;
  const record = (file: string, outcome: Outcome | 'draft' | Error) => {
    if (outcome instanceof Error) report.failed.push({ file, reason: outcome instanceof ImportRefused ? outcome.message : `error: ${outcome.message}` });
    else if (outcome === 'draft') report.drafts.push(file);
    else report[outcome].push(file);
    options.onFile?.(++done, report.files);
  };
  const other = (r: Exclude<ReadFile, Post>) => record(r.file.path, r.kind === 'draft' ? 'draft' : new ImportRefused(r.reason));

  const sendOne = (holdId: string) => async (group: Post[]) => {
    let outcomes: SendOutcome[];
    try {
      outcomes = await api.sendBatch(holdId, group.map((p) => p.json));
    } catch (error) {
      for (const post of group) record(post.file.path, error as Error);
      return;
    }
    group.forEach((post, i) => {
      const outcome = outcomes[i] ?? new Error('no result for this file');
      if (!(outcome instanceof Error) && post.scheduled) report.scheduled.push(post.file.path);
      record(post.file.path, outcome);
    });
  };
  if (options.dryRun) {
    for await (const group of postBatches(read, options.batchSize ?? 50, other)) {
      for (const post of group) {
        if (post.scheduled) report.scheduled.push(post.file.path);
        record(post.file.path, 'valid');
      }
    }
    report.elapsedMs = performance.now() - started;
  } else {
    let answered = 0;
    const { publishedAt } = await withHold(api, options, async (holdId) => {
      // `concurrency` senders, each taking the next batch as soon as its last one is answered. A file that cannot
      // be read ends the reading: every sender then finishes the batch it has, and the error is thrown after them.
      const source = postBatches(read, options.batchSize ?? 50, other);
      const send = sendOne(holdId);
      const senders = await Promise.allSettled(Array.from({ length: options.concurrency ?? 4 }, async () => {
        for await (const group of source) await send(group);
      }));
      const failed = senders.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      answered = performance.now();
    });
    report.elapsedMs = answered - started;
    if (publishedAt !== undefined) report.publishedMs = publishedAt - started;
  }
  report.failed.sort((a, b) => a.file.localeCompare(b.file));
  for (const list of [report.created, report.updated, report.unchanged, report.valid, report.drafts, report.scheduled]) list.sort();
  return report;
}
