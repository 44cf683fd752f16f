import { Worker } from 'node:worker_threads';
import { feedsOf, feedUrl, FORMAT_NAMES } from '../../lib/feeds/feed-ref.js';

export interface BenchPost {
  title: string;
  content: string;
  categories: string[];
  tags: string[];
  date?: string;
}

const now = () => performance.timeOrigin + performance.now();

let readers: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (seenAt: number) => void; reject: (error: Error) => void }>();

/** The reader thread (readers.worker.mjs), started on first use; it does not keep the process alive. */
function readerThread(): Worker {
  if (readers) return readers;
  readers = new Worker(new URL('./readers.worker.mjs', import.meta.url));
  readers.unref();
  readers.on('message', ({ id, seenAt, error }: { id: number; seenAt?: number; error?: string }) => {
    const waiter = waiting.get(id);
    waiting.delete(id);
    if (error) waiter?.reject(new Error(error));
    else waiter?.resolve(seenAt!);
  });
  return readers;
}

/** Resolves with the instant (epoch ms, sub-millisecond) at which every file in `urls` showed `marker`. */
export function watchUntilVisible(urls: string[], marker: string, timeoutMs = 30_000): Promise<number> {
  const id = nextId++;
  const seen = new Promise<number>((resolve, reject) => waiting.set(id, { resolve, reject }));
  readerThread().postMessage({ id, urls, marker, timeoutMs });
  return seen;
}

/**
 * POSTs a post while readers (in their own thread) poll all three formats of every feed it touches over HTTP,
 * until each shows it. Returns the API's answer time and the time from the answer until the last file showed
 * the post.
 */
export async function publishAndWatch(url: string, key: string, feedsUrl: string, post: BenchPost): Promise<{ answerMs: number; visibleMs: number }> {
  const files = feedsOf(post).flatMap((ref) => FORMAT_NAMES.map((f) => feedUrl(ref, f, feedsUrl).replace(feedsUrl, url)));
  const started = now();
  const response = await fetch(`${url}/posts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(post),
  });
  const answered = now();
  if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  await response.body?.cancel();
  const seenAt = await watchUntilVisible(files, post.title);
  return { answerMs: answered - started, visibleMs: seenAt - answered };
}
