import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFront, type SlowRead } from '../../lib/local/http-front.js';

// A stand-in for the S3 server that misbehaves on purpose (fault injection): the real s3rver is what every other
// test of the front reads through.
let origin: Server;
let front: Server;
let frontUrl: string;
const closedAtOrigin: string[] = [];
// The front's connection (its port) each GET of /slow/ came in on.
const slowConnections: number[] = [];

// GETs of /held/ wait at the stand-in until the test releases them.
const held = { reached: () => undefined as void, released: Promise.resolve() };
function holdNextGet() {
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (held.reached = resolve));
  held.released = new Promise<void>((resolve) => (release = resolve));
  return { reached, release };
}

const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  origin = createServer((req: IncomingMessage, res) => {
    req.on('close', () => closedAtOrigin.push(req.url ?? ''));
    if (req.url?.includes('/silent/')) return; // never answers
    if (req.url?.includes('/stalls/')) {
      res.writeHead(200, { 'content-type': 'application/rss+xml', 'content-length': '100', etag: '"a"' });
      res.write('<rss>'); // and never the rest
      return;
    }
    if (req.url?.includes('/held/')) {
      void held.released.then(() => res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"h"' }).end('<rss>held</rss>'));
      held.reached();
      return;
    }
    if (req.url?.includes('/slow/')) slowConnections.push(req.socket.remotePort ?? 0);
    const delayMs = req.url?.includes('/slow/') ? 150 : 0;
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/rss+xml', etag: '"b"' }).end('<rss>whole</rss>'), delayMs);
  });
  const endpoint = await listen(origin);
  front = createHttpFront(
    async () => {
      throw new Error('the API is not asked in these tests');
    },
    { endpoint, bucket: 'feeds-bucket', responseTimeoutMs: 400 },
  );
  frontUrl = await listen(front);
});
afterAll(async () => {
  front.closeAllConnections();
  origin.closeAllConnections();
  await Promise.all([new Promise((r) => front.close(r)), new Promise((r) => origin.close(r))]);
});

describe('the local front, when the S3 server does not answer', () => {
  it('answers 504 at the timeout, as CloudFront does, and ends its request to the S3 server', async () => {
    const started = performance.now();
    const response = await fetch(`${frontUrl}/feeds/categories/silent/rss.xml`);
    const elapsed = performance.now() - started;
    expect(response.status).toBe(504);
    expect(await response.text()).toMatch(/did not answer in time/);
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(3_000);
    await expect.poll(() => closedAtOrigin.some((url) => url.includes('/silent/'))).toBe(true);
  });

  it('cuts the reader’s response when the body stops half way, rather than leaving it open', async () => {
    const started = performance.now();
    const response = await fetch(`${frontUrl}/feeds/categories/stalls/rss.xml`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it('serves an answer that comes in time whole, and the timeout of a finished GET cuts nothing later', async () => {
    const first = await fetch(`${frontUrl}/feeds/categories/slow/rss.xml`);
    expect(first.status).toBe(200);
    expect(await first.text()).toBe('<rss>whole</rss>');
    // Past the first GET's timeout: the kept-alive connection to the S3 server is still there, and serves.
    await new Promise((r) => setTimeout(r, 500));
    const second = await fetch(`${frontUrl}/feeds/categories/slow/rss.xml`);
    expect(second.status).toBe(200);
    expect(await second.text()).toBe('<rss>whole</rss>');
    expect(slowConnections).toHaveLength(2);
    expect(slowConnections[1]).toBe(slowConnections[0]);
  });
});

describe('the local front, its log of slow reads', () => {
  it('reports a read over the threshold with where its time went, and none under it', async () => {
    const endpoint = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const api = async () => {
      throw new Error('the API is not asked in these tests');
    };
    const slow: SlowRead[] = [];
    const patient: SlowRead[] = [];
    const fronts = [
      createHttpFront(api, { endpoint, bucket: 'feeds-bucket' }, { slowMs: 50, onSlowRead: (read) => slow.push(read) }),
      createHttpFront(api, { endpoint, bucket: 'feeds-bucket' }, { slowMs: 60_000, onSlowRead: (read) => patient.push(read) }),
    ];
    try {
      for (const front of fronts) {
        const url = await listen(front);
        const gate = holdNextGet();
        const reading = fetch(`${url}/feeds/categories/held/rss.xml`);
        await gate.reached;
        const heldFrom = performance.now();
        await new Promise((r) => setTimeout(r, 80)); // the S3 server keeps the GET 80 ms: over the first front's threshold
        const heldFor = performance.now() - heldFrom;
        gate.release();
        const response = await reading;
        expect(await response.text()).toBe('<rss>held</rss>');
        if (front === fronts[0]) {
          await expect.poll(() => slow.length).toBe(1);
          expect(slow[0]).toMatchObject({ key: 'feeds/categories/held/rss.xml', status: 200, finished: true, upstreamGets: 1, queuedBefore: 0 });
          // Its time went to the S3 server's answer, which the stand-in held.
          expect(slow[0]!.upstreamMs).toBeGreaterThanOrEqual(Math.floor(heldFor));
          expect(slow[0]!.ms).toBeGreaterThanOrEqual(slow[0]!.upstreamMs);
        }
      }
      expect(patient).toEqual([]);
    } finally {
      for (const front of fronts) {
        front.closeAllConnections();
        await new Promise((r) => front.close(r));
      }
    }
  });

  it('reports a read the S3 server never answered as time waiting for it, with the front\'s own 504', async () => {
    const endpoint = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
    const slow: SlowRead[] = [];
    const timed = createHttpFront(
      async () => {
        throw new Error('the API is not asked in these tests');
      },
      { endpoint, bucket: 'feeds-bucket', responseTimeoutMs: 200 },
      { slowMs: 50, onSlowRead: (read) => slow.push(read) },
    );
    try {
      const url = await listen(timed);
      const response = await fetch(`${url}/feeds/categories/silent/atom.xml`);
      expect(response.status).toBe(504);
      await response.text();
      await expect.poll(() => slow.length).toBe(1);
      expect(slow[0]).toMatchObject({ key: 'feeds/categories/silent/atom.xml', status: 504, upstreamGets: 1, sendMs: 0 });
      // The whole wait is the S3 server's: from the GET sent (once connected) until the front gave up on it.
      expect(slow[0]!.upstreamMs).toBeGreaterThanOrEqual(190);
      expect(slow[0]!.socketMs + slow[0]!.upstreamMs).toBeLessThanOrEqual(slow[0]!.ms + 1);
    } finally {
      timed.closeAllConnections();
      await new Promise((r) => timed.close(r));
    }
  });
});
