// Feed readers for the benchmarks, in a thread of their own: a reader is another machine in real life, and
// polling from the event loop of the process it measures would slow down what it measures.
// Plain JavaScript, so that the thread starts without a TypeScript loader.
import { parentPort } from 'node:worker_threads';

const now = () => performance.timeOrigin + performance.now();

/** Polls one file as an aggregator does, with conditional GETs, until its body contains `marker`. */
async function watch(url, marker, deadline) {
  let etag = null;
  for (;;) {
    const response = await fetch(url, { headers: etag ? { 'if-none-match': etag } : {} });
    const body = await response.text();
    if (response.status === 200) etag = response.headers.get('etag');
    if (body.includes(marker)) return now();
    if (Date.now() > deadline) throw new Error(`${url} did not show ${marker}`);
    // A short pause: readers spinning flat out would take the CPU from what they measure.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

parentPort.on('message', ({ id, urls, marker, timeoutMs }) => {
  const deadline = Date.now() + timeoutMs;
  Promise.all(urls.map((url) => watch(url, marker, deadline))).then(
    (seen) => parentPort.postMessage({ id, seenAt: Math.max(...seen) }),
    (error) => parentPort.postMessage({ id, error: String(error?.message ?? error) }),
  );
});
