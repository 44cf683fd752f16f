/**
 * s3rver in a process of its own, as S3 is a service of its own: started by startS3Local, it answers on a port
 * it reports back over IPC, and ends when its parent does, however the parent ends. Keeping it out of feedpub's process means its file
 * I/O and hashing do not queue behind the API and the regenerator on one event loop.
 */
import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';
import type { ServerResponse } from 'node:http';
import { localSettings } from '../config.js';
import { allowConditionalHeaders, makeS3rverAtomic, type Phases } from './s3rver-atomic.js';

const [directory, port = '0'] = process.argv.slice(2);
if (!directory || !process.send) throw new Error('usage: forked by startS3Local with <directory> [port]');
const { slowMs } = localSettings({ FEEDPUB_LOCAL_SLOW_MS: process.env.FEEDPUB_LOCAL_SLOW_MS });
mkdirSync(directory, { recursive: true });
allowConditionalHeaders();
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true });
const atomic = makeS3rverAtomic((server as unknown as { store: Parameters<typeof makeS3rverAtomic>[0] }).store);
interface Context {
  method: string;
  path: string;
  status: number;
  res: ServerResponse;
  store: unknown;
}
type Middleware = ((ctx: Context, next: () => Promise<void>) => Promise<void>) & { name: string };
// Without its request logger: silent or not, it formats and colours a line for every request (several percent of
// the server's CPU), and every poll of every reader is a request. In its place, first of all, a log of the requests
// slower than FEEDPUB_LOCAL_SLOW_MS, from arrival to the last byte sent, with where the store's time went: one
// JSON line on standard error each, which startS3Local passes on and keeps.
const koa = server as unknown as { middleware: Middleware[] };
const slowLog: Middleware = async (ctx, next) => {
  const arrived = performance.now();
  const phases: Phases = {};
  ctx.store = atomic.forRequest(phases);
  ctx.res.once('close', () => {
    const ms = performance.now() - arrived;
    if (ms < slowMs) return;
    const rounded = Object.fromEntries(Object.entries(phases).map(([phase, n]) => [phase, Math.round(n)]));
    const line = { level: 'WARN', message: 'slow S3 request', at: new Date(performance.timeOrigin + arrived).toISOString(), method: ctx.method, path: ctx.path, status: ctx.res.headersSent ? ctx.status : null, ms: Math.round(ms), finished: ctx.res.writableFinished, phases: rounded };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  });
  await next();
};
koa.middleware = [slowLog, ...koa.middleware.filter((mw) => mw.name !== 'logger')];
const address = (await server.run()) as { port: number };
// Longer than the clients' idle timeout, so that the server never closes a connection a client is reusing.
(server as unknown as { httpServer: { keepAliveTimeout: number } }).httpServer.keepAliveTimeout = 65_000;
process.send({ port: address.port });

// Closing waits for requests in flight; a client that is gone does not hold it up for long.
const stop = () => {
  setTimeout(() => process.exit(0), 2_000).unref();
  void server.close().finally(() => process.exit(0));
};
process.on('message', (message) => message === 'stop' && stop());
// The parent went away, however it ended (the kernel closes the IPC channel even on SIGKILL): do not outlive it.
process.on('disconnect', stop);
process.on('SIGTERM', stop);
