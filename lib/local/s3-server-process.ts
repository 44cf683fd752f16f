/**
 * s3rver in a process of its own, as S3 is a service of its own: started by startS3Local, it answers on a port
 * it reports back over IPC, and ends when its parent does, however the parent ends. Keeping it out of feedpub's process means its file
 * I/O and hashing do not queue behind the API and the regenerator on one event loop.
 */
import { mkdirSync } from 'node:fs';
import S3rver from 's3rver';
import { allowConditionalHeaders, makeS3rverAtomic } from './s3rver-atomic.js';

const [directory, port = '0'] = process.argv.slice(2);
if (!directory || !process.send) throw new Error('usage: forked by startS3Local with <directory> [port]');
mkdirSync(directory, { recursive: true });
allowConditionalHeaders();
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true });
makeS3rverAtomic((server as unknown as { store: Parameters<typeof makeS3rverAtomic>[0] }).store);
// Without its request logger: silent or not, it formats and colours a line for every request (several percent of
// the server's CPU), and every poll of every reader is a request.
const koa = server as unknown as { middleware: { name: string }[] };
koa.middleware = koa.middleware.filter((mw) => mw.name !== 'logger');
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
