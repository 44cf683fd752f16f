import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mapSettled, sleep } from '../concurrency.js';
import { ValidationError } from '../errors.js';
import { parseJekyllPost } from '../posts/jekyll.js';

export interface ImportOptions {
  /** Base URL of the API (local or deployed). */
  api: string;
  key: string;
  /** Batch requests in flight. */
  concurrency?: number;
  /** Posts per batch request (at most 100). */
  batchSize?: number;
  /** Parse and validate locally; write nothing. */
  dryRun?: boolean;
  /** For --dry-run, the rules the server would apply. */
  timeZone?: string;
  siteUrl?: string;
  onFile?: (done: number, total: number) => void;
  /** Wait until the hold's release has rendered every feed the import touched (default true). */
  wait?: boolean;
  /** While waiting: feeds left to render, and how many the release started with. */
  onPublishing?: (left: number, total: number) => void;
}

export type Outcome = 'created' | 'updated' | 'unchanged' | 'valid';

export interface ImportReport {
  files: number;
  created: string[];
  updated: string[];
  unchanged: string[];
  /** Dry run: files that would be imported. */
  valid: string[];
  failed: { file: string; reason: string }[];
  /** Until the last file was answered. */
  elapsedMs: number;
  /** Until every feed the import touched was published (absent without waiting, or on a dry run). */
  publishedMs?: number;
}

const POST_FILES = /\.(md|markdown|html?)$/i;

/** The post files of the given folders (recursively, as Jekyll reads _posts) and files, sorted. */
export function collectFiles(paths: string[]): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) if (!entry.startsWith('.')) walk(join(path, entry));
    } else if (POST_FILES.test(path)) files.push(path);
  };
  for (const path of paths) walk(path);
  return files.sort();
}

const HOLD_SECONDS = 120;

class ImportRefused extends Error {}

interface BatchResult {
  status: number;
  outcome?: 'created' | 'updated' | 'unchanged' | 'superseded';
  error?: { message?: string; issues?: { field: string; message: string }[] };
}

/** The reason a post was refused, with fields named as in a single request (`title`, not `posts.3.title`). */
function refusal(error: BatchResult['error'], status: number): ImportRefused {
  const issues = error?.issues?.map((i) => `${i.field.replace(/^posts\.\d+\.?/, '') || 'body'}: ${i.message}`);
  return new ImportRefused(issues?.join('; ') ?? error?.message ?? `HTTP ${status}`);
}

/**
 * Sends files as one POST /posts/batch, each as a Jekyll file whose name gives the post's id (so a re-import
 * replaces instead of duplicating). The batch is idempotent, so a failed request is simply sent again.
 */
async function sendBatch(options: ImportOptions, holdId: string | undefined, files: { file: string; body: Buffer }[]): Promise<(Outcome | ImportRefused)[]> {
  const payload = JSON.stringify({ posts: files.map(({ file, body }) => ({ file: basename(file), jekyll: body.toString('utf8') })) });
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(`${options.api}/posts/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json', ...(holdId ? { 'feedpub-hold': holdId } : {}) },
        body: payload,
      });
    } catch (error) {
      if (attempt >= 4) throw error;
    }
    if (response && response.status < 500 && response.status !== 429) {
      const body = (await response.json()) as { results?: BatchResult[]; error?: BatchResult['error'] };
      if (response.status !== 200 || !body.results) throw refusal(body.error, response.status);
      return body.results.map((r) => (r.outcome ? (r.outcome === 'superseded' ? 'updated' : r.outcome) : refusal(r.error, r.status)));
    }
    if (attempt >= 4) throw new Error(`HTTP ${response?.status} after ${attempt} attempts`);
    await sleep(200 * 2 ** attempt);
  }
}

/** Files in batches of at most `size` posts and about 4 MB of request, in order. */
function batches(files: string[], size: number): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const file of files) {
    const fileBytes = statSync(file).size;
    if (current.length > 0 && (current.length >= size || bytes + fileBytes > 4 * 1024 * 1024)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(file);
    bytes += fileBytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function validate(options: ImportOptions, file: string, body: Buffer): Outcome {
  try {
    parseJekyllPost(body.toString('utf8'), { timeZone: options.timeZone ?? 'UTC', siteUrl: options.siteUrl ?? 'http://127.0.0.1:3000', fileName: basename(file) });
    return 'valid';
  } catch (error) {
    if (error instanceof ValidationError) throw new ImportRefused(error.issues.map((i) => `${i.field}: ${i.message}`).join('; '));
    throw error;
  }
}

interface HoldState {
  id: string;
  phase: 'holding' | 'released' | 'published';
  feedsLeft: number;
}

/**
 * Runs `work` under a regeneration hold: the import's writes wait in the hold's lane and each touched feed is
 * rendered once, when the hold is released at the end. Returns once the release has published every feed,
 * unless told not to wait.
 */
async function withHold<T>(options: ImportOptions, work: (holdId: string) => Promise<T>): Promise<{ value: T; publishedAt?: number }> {
  const call = async (method: string, path: string, body?: unknown): Promise<HoldState> => {
    const response = await fetch(`${options.api}/regeneration/holds${path}`, {
      method,
      headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok && response.status !== 409) throw new Error(`regeneration hold: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as HoldState;
  };
  const hold = await call('POST', '', { seconds: HOLD_SECONDS });
  const renew = setInterval(() => void call('PUT', `/${hold.id}`, { seconds: HOLD_SECONDS }).catch(() => undefined), (HOLD_SECONDS * 1000) / 4);
  let value: T;
  try {
    value = await work(hold.id);
  } finally {
    clearInterval(renew);
    await call('DELETE', `/${hold.id}`);
  }
  if (options.wait === false) return { value };
  let total: number | undefined;
  for (;;) {
    const state = await call('GET', `/${hold.id}`);
    total ??= state.feedsLeft;
    options.onPublishing?.(state.feedsLeft, Math.max(total, state.feedsLeft));
    if (state.phase === 'published') return { value, publishedAt: performance.now() };
    await sleep(200);
  }
}

/**
 * Publishes Jekyll post files through the API. Regeneration is held while the files are written, so every
 * feed the import touches is rendered once at the end; a repeated import changes nothing.
 */
export async function importPosts(files: string[], options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const report: ImportReport = { files: files.length, created: [], updated: [], unchanged: [], valid: [], failed: [], elapsedMs: 0 };
  let done = 0;
  const record = (file: string, outcome: Outcome | Error) => {
    if (outcome instanceof Error) report.failed.push({ file, reason: outcome instanceof ImportRefused ? outcome.message : `error: ${outcome.message}` });
    else report[outcome].push(file);
    options.onFile?.(++done, files.length);
  };
  const validateOne = async (file: string) => {
    try {
      record(file, validate(options, file, readFileSync(file)));
    } catch (error) {
      record(file, error as Error);
    }
  };
  const sendOne = (holdId: string) => async (group: string[]) => {
    try {
      const outcomes = await sendBatch(options, holdId, group.map((file) => ({ file, body: readFileSync(file) })));
      group.forEach((file, i) => record(file, outcomes[i] ?? new Error('no result for this file')));
    } catch (error) {
      for (const file of group) record(file, error as Error);
    }
  };
  if (options.dryRun) {
    await mapSettled(files, 1, validateOne);
  } else {
    let answered = 0;
    const { publishedAt } = await withHold(options, async (holdId) => {
      await mapSettled(batches(files, options.batchSize ?? 50), options.concurrency ?? 4, sendOne(holdId));
      answered = performance.now();
    });
    report.elapsedMs = answered - started;
    if (publishedAt !== undefined) report.publishedMs = publishedAt - started;
  }
  report.failed.sort((a, b) => a.file.localeCompare(b.file));
  if (options.dryRun) report.elapsedMs = performance.now() - started;
  return report;
}
