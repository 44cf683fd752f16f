import { parentPort, workerData } from 'node:worker_threads';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { documentHeaders } from '../feeds/document-headers.js';
import { createHttpFront } from './http-front.js';
import type { FrontSetup, FromFront, ToFront } from './front-host.js';

/**
 * The body of the local front's thread: the HTTP server of lib/local/http-front.ts, serving objects itself and
 * passing each API request to the thread that runs the handlers (front-host.ts), as API Gateway invokes a function.
 */
const host = parentPort!;
const { origin, site, port } = workerData as FrontSetup;
const waiting = new Map<number, { resolve: (result: APIGatewayProxyResultV2) => void; reject: (error: Error) => void }>();
let next = 0;
const tell = (message: FromFront) => host.postMessage(message);

const server = createHttpFront(
  (event) =>
    new Promise((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      tell({ type: 'api', id, event });
    }),
  { ...origin, headersOf: (key) => documentHeaders(key, site) },
);

host.on('message', (message: ToFront) => {
  if (message.type === 'answer') {
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.result !== undefined) waiter?.resolve(message.result);
    else waiter?.reject(new Error('The API handler failed (logged by the host)'));
    return;
  }
  // Closing: no new connection, open ones cut (the host stops the lanes next), then the thread ends.
  server.close(() => {
    tell({ type: 'closed' });
    host.close();
  });
  server.closeAllConnections();
});

server.once('error', (error: NodeJS.ErrnoException) => tell({ type: 'failed', message: error.message, ...(error.code ? { code: error.code } : {}) }));
server.listen(port, '127.0.0.1', () => tell({ type: 'listening', port: (server.address() as { port: number }).port }));
