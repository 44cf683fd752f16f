import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LocalServer } from '../../../lib/local/servers.js';

/**
 * An in-memory DynamoDB (with DynamoDB Streams) for the benchmarks: what feedpub uses of it, with DynamoDB's
 * semantics, at a small fraction of DynamoDB Local's CPU per request. Only for measuring feedpub where DynamoDB
 * Local is the bottleneck; `npm start` and the tests run DynamoDB Local. Nothing is persisted.
 *
 * It runs in a child process (as s3rver does, lib/local/servers.ts), so that its CPU is not on feedpub's event
 * loop: the comparison with DynamoDB Local, also a process of its own, stays fair. `pid` lets a benchmark read
 * its CPU time.
 */
export async function startMemoryDynamo(options: { port?: number } = {}): Promise<LocalServer & { pid: number }> {
  const script = fileURLToPath(new URL('./process.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm')).href;
  const child = fork(script, [String(options.port ?? 0)], { execArgv: ['--import', tsx], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    // Its own failures (500s) are worth seeing, not only when it dies.
    process.stderr.write(chunk);
  });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { port: number }) => resolve(message.port));
    child.once('exit', (code) => reject(new Error(`memory-dynamo exited with code ${code}: ${stderr.trim()}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killChild);
        if (child.exitCode !== null || !child.connected) return resolve();
        child.once('exit', () => resolve());
        child.send('stop');
      }),
  };
}
