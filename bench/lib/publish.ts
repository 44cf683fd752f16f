import { Worker } from 'node:worker_threads';
import { feedsOf, feedUrl, FORMAT_NAMES, type FeedRef } from '../../lib/feeds/feed-ref.js';
import type { Meters } from './meters.js';

export interface BenchPost {
  title: string;
  content: string;
  categories: string[];
  tags: string[];
  date?: string;
}

/** What one document must hold: every `present` string and none of the `absent` ones. */
export interface Check {
  url: string;
  present?: string[];
  absent?: string[];
}

export const now = () => performance.timeOrigin + performance.now();

let readers: Worker | undefined;
let nextId = 0;
const waiting = new Map<number, { resolve: (answer: never) => void; reject: (error: Error) => void }>();

/** The reader thread (readers.worker.mjs), started on first use; it does not keep the process alive. */
function readerThread(): Worker {
  if (readers) return readers;
  readers = new Worker(new URL('./readers.worker.mjs', import.meta.url));
  readers.unref();
  readers.on('message', ({ id, seenAt, documents, usage, error }: { id: number; seenAt?: number; documents?: SeenDocument[]; usage?: ReaderUsage; error?: string }) => {
    const waiter = waiting.get(id);
    waiting.delete(id);
    if (error) waiter?.reject(new Error(error));
    else waiter?.resolve((usage ?? { seenAt, documents }) as never);
  });
  return readers;
}

/** When a reader first saw one document in its expected state, and its longest single GET. */
export interface SeenDocument {
  url: string;
  seenAt: number;
  slowestGetMs: number;
}

export interface Watch {
  /** The instant (epoch ms) at which every document first held its expected state. */
  seen: Promise<number>;
  /** The same, document by document. */
  documents: Promise<SeenDocument[]>;
  /** Polls every `intervalMs` from now on (a watch started early polls slowly until the moment that matters). */
  intensify(intervalMs?: number): void;
}

/** Readers in their own thread poll every document of `checks` with conditional GETs until each holds its state. */
export function watch(checks: Check[], { timeoutMs = 30_000, intervalMs = 10 } = {}): Watch {
  const id = nextId++;
  const answer = new Promise<{ seenAt: number; documents: SeenDocument[] }>((resolve, reject) => waiting.set(id, { resolve, reject }));
  readerThread().postMessage({ id, checks, timeoutMs, intervalMs });
  const documents = answer.then((a) => a.documents);
  // A caller that stops at `seen` (it rejected: a document never reached its state) never awaits `documents`: its
  // rejection is the same one, already handled there, and must not end the process as unhandled.
  documents.catch(() => undefined);
  return { seen: answer.then((a) => a.seenAt), documents, intensify: (ms = 10) => readerThread().postMessage({ type: 'intensify', id, intervalMs: ms }) };
}

export interface ReaderUsage {
  /** CPU the readers' thread has spent so far (0 where /proc is not there). */
  cpuMs: number;
  /** GETs it has sent so far: each is served by the local front and s3rver too. */
  gets: number;
}

/** What the readers have cost so far: in real life they are other machines, and CloudFront serves them. */
export function readersUsage(): Promise<ReaderUsage> {
  const id = nextId++;
  const answer = new Promise<ReaderUsage>((resolve, reject) => waiting.set(id, { resolve, reject }));
  readerThread().postMessage({ type: 'cpu', id });
  return answer;
}

/** The local URLs of every format of the given feeds. */
export function documentUrls(refs: FeedRef[], url: string, feedsUrl: string): string[] {
  return refs.flatMap((ref) => FORMAT_NAMES.map((format) => feedUrl(ref, format, feedsUrl).replace(feedsUrl, url)));
}

export async function send(url: string, key: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/**
 * POSTs a post while readers poll all three formats of every feed it touches, until each shows it. Returns the
 * API's answer time and the time from the answer until the last document showed the post. The readers read
 * through the front at `url` every 10 ms, unless `readFrom` (another base URL serving the same keys, such as the
 * bucket's server) or `intervalMs` say otherwise.
 */
export async function publishAndWatch(
  url: string,
  key: string,
  feedsUrl: string,
  post: BenchPost,
  { readFrom = url, intervalMs = 10 }: { readFrom?: string; intervalMs?: number } = {},
): Promise<{ answerMs: number; visibleMs: number; answeredAt: number; documents: SeenDocument[] }> {
  const checks = documentUrls(feedsOf(post), readFrom, feedsUrl).map((u) => ({ url: u, present: [post.title] }));
  const started = now();
  const response = await send(url, key, 'POST', '/posts', post);
  const answered = now();
  if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
  await response.body?.cancel();
  const watching = watch(checks, { intervalMs });
  const seenAt = await watching.seen;
  return { answerMs: answered - started, visibleMs: seenAt - answered, answeredAt: answered, documents: await watching.documents };
}

/** The bucket key a local document URL reads (the front serves `/<key>`, its segments percent-encoded). */
export const keyOfUrl = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

/** A document as a late reader saw it, in ms from `since`. */
export interface LastDocument {
  key: string;
  seenMs: number;
  lastPutSentMs?: number;
  lastPutDoneMs?: number;
  slowestGetMs: number;
  /**
   * Its feed's live lease acquisitions from `since` to that PUT: when the first was sent, how many found the lease
   * held and by what (a live render, a background turn of an import's release), and when the last that took it was
   * answered. A render that waited for the lease shows here; one that came late to it shows in the first.
   */
  lease?: { firstTriedMs: number; busyTries: number; heldBy: string; takenMs?: number };
}

type History = Pick<Meters, 'putsBefore' | 'leaseTriesBetween'>;

/** The live lease acquisitions of a document's feed between two instants (epoch ms), summed up from `since`. */
function leaseWait(key: string, since: number, until: number, { leaseTriesBetween }: History): LastDocument['lease'] {
  const tries = leaseTriesBetween(key.slice(0, key.lastIndexOf('/')), since, until).filter((t) => t.kind === 'live');
  if (tries.length === 0) return undefined;
  const busy = tries.filter((t) => !t.taken);
  const taken = tries.filter((t) => t.taken).at(-1);
  return {
    firstTriedMs: Math.round(tries[0]!.sentAt - since),
    busyTries: busy.length,
    heldBy: [...new Set(busy.map((t) => t.heldBy))].join('+') || '-',
    ...(taken ? { takenMs: Math.round(taken.doneAt - since) } : {}),
  };
}

/**
 * The `n` documents seen last, each with when its last PUT before that was sent and answered (ms from `since`). A
 * PUT answered just before the document was seen says its render was late; one answered long before says the
 * serving was (the front, the S3 server, the reader's own GET). For a late render, its feed's lease acquisitions
 * say whether it waited for another holder's render.
 */
export function lastDocuments(documents: SeenDocument[], since: number, history: History, n = 3): LastDocument[] {
  const rel = (t: number) => Math.round(t - since);
  return [...documents]
    .sort((a, b) => b.seenAt - a.seenAt)
    .slice(0, n)
    .map((d) => {
      const key = keyOfUrl(d.url);
      const put = history.putsBefore(key, d.seenAt).at(-1);
      const lease = leaseWait(key, since, put?.sentAt ?? d.seenAt, history);
      return { key, seenMs: rel(d.seenAt), ...(put ? { lastPutSentMs: rel(put.sentAt), lastPutDoneMs: rel(put.doneAt) } : {}), slowestGetMs: Math.round(d.slowestGetMs), ...(lease ? { lease } : {}) };
    });
}

/** A row of a printed table for one of them. */
export const documentRow = (d: LastDocument) => ({
  key: d.key,
  seenMs: d.seenMs,
  leaseFirstTriedMs: d.lease?.firstTriedMs ?? '-',
  leaseBusyTries: d.lease ? `${d.lease.busyTries} (${d.lease.heldBy})` : '-',
  leaseTakenMs: d.lease?.takenMs ?? '-',
  lastPutSentMs: d.lastPutSentMs ?? '-',
  lastPutDoneMs: d.lastPutDoneMs ?? '-',
  slowestGetMs: d.slowestGetMs,
});
