// Feed readers for the benchmarks, in a thread of their own: a reader is another machine in real life, and
// polling from the event loop of the process it measures would slow down what it measures.
// Plain JavaScript, so that the thread starts without a TypeScript loader.
import { readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const now = () => performance.timeOrigin + performance.now();
/** Watches by id: their poll interval can be shortened once the moment that matters has come. */
const watches = new Map();

/**
 * Polls one document as an aggregator does, with conditional GETs, until its body holds every `present` string
 * and none of the `absent` ones. Returns when it first did.
 */
async function watch(watchState, { url, present = [], absent = [] }, deadline) {
  let etag = null;
  let body = '';
  // The longest single GET of this document (sent to answered, body read): a reader held up by the front or the
  // S3 server rather than by the render shows here.
  let slowestGetMs = 0;
  for (;;) {
    gets++;
    const sent = now();
    const response = await fetch(url, { headers: etag ? { 'if-none-match': etag } : {} });
    if (response.status === 200) {
      etag = response.headers.get('etag');
      body = await response.text();
    } else {
      await response.arrayBuffer();
      if (response.status !== 304) body = '';
    }
    slowestGetMs = Math.max(slowestGetMs, now() - sent);
    if (present.every((s) => body.includes(s)) && !absent.some((s) => body.includes(s))) return { url, seenAt: now(), slowestGetMs };
    if (Date.now() > deadline) throw new Error(`${url} did not reach the expected state (missing ${present.filter((s) => !body.includes(s)).slice(0, 3)}; still ${absent.filter((s) => body.includes(s)).slice(0, 3)})`);
    await new Promise((resolve) => setTimeout(resolve, watchState.intervalMs));
  }
}

/** This thread's CPU (utime + stime) in ms: what the readers cost the process they measure (Linux; 0 elsewhere). */
function threadCpuMs() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** GETs sent so far: each is also served by feedpub's local front and by s3rver, in the process measured. */
let gets = 0;

parentPort.on('message', (message) => {
  if (message.type === 'cpu') {
    parentPort.postMessage({ id: message.id, usage: { cpuMs: threadCpuMs(), gets } });
    return;
  }
  if (message.type === 'intensify') {
    const state = watches.get(message.id);
    if (state) state.intervalMs = message.intervalMs;
    return;
  }
  const { id, checks, timeoutMs, intervalMs = 10 } = message;
  const state = { intervalMs };
  watches.set(id, state);
  const deadline = Date.now() + timeoutMs;
  Promise.all(checks.map((check) => watch(state, check, deadline))).then(
    (documents) => parentPort.postMessage({ id, seenAt: Math.max(...documents.map((d) => d.seenAt)), documents }),
    (error) => parentPort.postMessage({ id, error: String(error?.message ?? error) }),
  ).finally(() => watches.delete(id));
});
