import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mapSettled, sleep } from '../concurrency.js';
import { ValidationError } from '../errors.js';
import { parseJekyllFileName, parseJekyllPost } from '../posts/jekyll.js';
import { POST_ID_PATTERN } from '../posts/post.js';

export interface ImportOptions {
  /** Base URL of the API (local or deployed). */
  api: string;
  key: string;
  concurrency?: number;
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

async function send(options: ImportOptions, file: string, body: Buffer): Promise<Outcome> {
  const fileName = basename(file);
  const slug = parseJekyllFileName(fileName)?.slug;
  // PUT by the id Jekyll's file name gives, so a re-import replaces instead of duplicating; a file that has no
  // such id goes by POST, and the API says why it cannot be a post.
  const byId = slug !== undefined && POST_ID_PATTERN.test(slug);
  const url = byId ? `${options.api}/posts/${encodeURIComponent(slug)}` : `${options.api}/posts`;
  for (let attempt = 1; ; attempt++) {
    let response: Response | undefined;
    try {
      response = await fetch(url, {
        method: byId ? 'PUT' : 'POST',
        headers: { authorization: `Bearer ${options.key}`, 'content-type': 'text/markdown; charset=utf-8', slug: encodeURIComponent(fileName) },
        body,
      });
    } catch (error) {
      if (attempt >= 4) throw error;
    }
    if (response && response.status < 500 && response.status !== 429) {
      const text = await response.text();
      if (response.status === 201) return 'created';
      if (response.status === 200) return response.headers.get('feedpub-outcome') === 'unchanged' ? 'unchanged' : 'updated';
      const error = (JSON.parse(text) as { error?: { message?: string; issues?: { field: string; message: string }[] } }).error;
      throw new ImportRefused(error?.issues?.map((i) => `${i.field}: ${i.message}`).join('; ') ?? error?.message ?? `HTTP ${response.status}`);
    }
    if (attempt >= 4) throw new Error(`HTTP ${response?.status} after ${attempt} attempts`);
    await sleep(200 * 2 ** attempt);
  }
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
  const one = async (file: string) => {
    try {
      const body = readFileSync(file);
      const outcome = options.dryRun ? validate(options, file, body) : await send(options, file, body);
      report[outcome].push(file);
    } catch (error) {
      report.failed.push({ file, reason: error instanceof ImportRefused ? error.message : `error: ${(error as Error).message}` });
    }
    options.onFile?.(++done, files.length);
  };
  const run = () => mapSettled(files, options.dryRun ? 1 : (options.concurrency ?? 8), one);
  await (options.dryRun ? run() : withHold(options, run));
  report.failed.sort((a, b) => a.file.localeCompare(b.file));
  report.elapsedMs = performance.now() - started;
  return report;
}
