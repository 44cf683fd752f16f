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
  elapsedMs: number;
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
  outcome?: 'created' | 'updated' | 'unchanged';
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
async function sendBatch(options: ImportOptions, files: { file: string; body: Buffer }[]): Promise<(Outcome | ImportRefused)[]> {
  const payload = JSON.stringify({ posts: files.map(({ file, body }) => ({ file: basename(file), jekyll: body.toString('utf8') })) });
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(`${options.api}/posts/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
        body: payload,
      });
    } catch (error) {
      if (attempt >= 4) throw error;
    }
    if (response && response.status < 500 && response.status !== 429) {
      const body = (await response.json()) as { results?: BatchResult[]; error?: BatchResult['error'] };
      if (response.status !== 200 || !body.results) throw refusal(body.error, response.status);
      return body.results.map((r) => (r.outcome ?? refusal(r.error, r.status)));
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

async function withHold<T>(options: ImportOptions, work: () => Promise<T>): Promise<T> {
  const hold = (method: 'PUT' | 'DELETE') =>
    fetch(`${options.api}/regeneration/hold`, {
      method,
      headers: { authorization: `Bearer ${options.key}`, 'content-type': 'application/json' },
      ...(method === 'PUT' ? { body: JSON.stringify({ seconds: HOLD_SECONDS }) } : {}),
    }).then((r) => {
      if (!r.ok) throw new Error(`regeneration hold: HTTP ${r.status}`);
    });
  await hold('PUT');
  const renew = setInterval(() => void hold('PUT').catch(() => undefined), (HOLD_SECONDS * 1000) / 4);
  try {
    return await work();
  } finally {
    clearInterval(renew);
    await hold('DELETE');
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
  const sendOne = async (group: string[]) => {
    try {
      const outcomes = await sendBatch(options, group.map((file) => ({ file, body: readFileSync(file) })));
      group.forEach((file, i) => record(file, outcomes[i] ?? new Error('no result for this file')));
    } catch (error) {
      for (const file of group) record(file, error as Error);
    }
  };
  if (options.dryRun) await mapSettled(files, 1, validateOne);
  else await withHold(options, () => mapSettled(batches(files, options.batchSize ?? 50), options.concurrency ?? 4, sendOne));
  report.failed.sort((a, b) => a.file.localeCompare(b.file));
  report.elapsedMs = performance.now() - started;
  return report;
}
