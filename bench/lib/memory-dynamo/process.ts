/**
 * memory-dynamo in a process of its own, started by startMemoryDynamo: its CPU is not on feedpub's event loop,
 * as DynamoDB Local's is not. It answers on a port it reports over IPC, and ends when its parent does.
 */
import type { AddressInfo } from 'node:net';
import { createMemoryDynamoServer } from './server.js';

const [port = '0'] = process.argv.slice(2);
if (!process.send) throw new Error('usage: forked by startMemoryDynamo with [port]');
const server = createMemoryDynamoServer();
server.listen(Number(port), '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('message', (message) => message === 'stop' && stop());
// The parent went away, however it ended: do not outlive it.
process.on('disconnect', stop);
