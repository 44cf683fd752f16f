// WebSub subscribers for the benchmark, in a thread of their own so that receiving deliveries does not take the
// stack's event loop: one HTTP server, one callback path per subscriber. Verifications are answered with the
// challenge; every delivery is kept with the instant it arrived.
import { createServer } from 'node:http';
import { parentPort } from 'node:worker_threads';

const now = () => performance.timeOrigin + performance.now();
/** path -> [{ at, body }] */
const deliveries = new Map();
const verified = new Set();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://subscriber');
  if (req.method === 'GET') {
    verified.add(url.pathname);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(url.searchParams.get('hub.challenge') ?? '');
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = now();
    const list = deliveries.get(url.pathname) ?? [];
    list.push({ at, body: Buffer.concat(chunks).toString('utf8') });
    deliveries.set(url.pathname, list);
    res.writeHead(204).end();
  });
});

parentPort.on('message', (message) => {
  const { id, type } = message;
  if (type === 'listen') {
    server.listen(0, '127.0.0.1', () => parentPort.postMessage({ id, port: server.address().port }));
  } else if (type === 'verified') {
    parentPort.postMessage({ id, count: verified.size });
  } else if (type === 'first') {
    // For each path, when a delivery holding every marker first arrived (undefined: not yet).
    const firsts = message.paths.map((path) => (deliveries.get(path) ?? []).find((d) => message.markers.every((m) => d.body.includes(m)))?.at);
    parentPort.postMessage({ id, firsts });
  } else if (type === 'count') {
    parentPort.postMessage({ id, counts: message.paths.map((path) => (deliveries.get(path) ?? []).filter((d) => d.at >= message.since).length) });
  } else if (type === 'last') {
    parentPort.postMessage({ id, bodies: message.paths.map((path) => deliveries.get(path)?.at(-1)?.body) });
  } else if (type === 'clear') {
    deliveries.clear();
    parentPort.postMessage({ id });
  } else if (type === 'close') {
    server.closeAllConnections();
    server.close(() => parentPort.postMessage({ id }));
  }
});
