import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDynamoLocal, type LocalServer } from '../../lib/local/servers.js';

/**
 * Fresh DynamoDB Locals for the integration files, one each (file-dynamo.ts), served by vitest's main process. When a
 * file gives its server back, the pool stops it in the background and starts the next file's at once: the start
 * (a second or two of a JVM) overlaps vitest's work between files rather than waiting in the next file's setup. No
 * integration file's tests run beside a server starting (files run one at a time: vitest.config.ts); a unit file
 * after an integration file may. The first is started with the run's servers; the one started after the last file
 * is stopped unused.
 */
export async function startDynamoPool({ prestart = true } = {}): Promise<{ url: string; stop(): Promise<void> }> {
  let spare: Promise<LocalServer> | undefined;
  const leased = new Map<string, LocalServer>();
  const stopping = new Set<Promise<void>>();
  const start = () => {
    const server = startDynamoLocal({ shortLived: true });
    // A start that fails is reported to the file that takes it.
    server.catch(() => undefined);
    return server;
  };
  const http: Server = createServer((req, res) => {
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://pool');
        if (req.method === 'POST' && url.pathname === '/take') {
          // Taken off the pool before it is awaited: a start that failed fails this file only, and the next
          // file gets a fresh start.
          const taking = spare ?? start();
          spare = undefined;
          const server = await taking;
          leased.set(server.endpoint, server);
          res.end(JSON.stringify({ endpoint: server.endpoint }));
        } else if (req.method === 'POST' && url.pathname === '/give') {
          const server = leased.get(url.searchParams.get('endpoint') ?? '');
          leased.delete(server?.endpoint ?? '');
          if (server) {
            const stop = server.stop().finally(() => stopping.delete(stop));
            stopping.add(stop);
          }
          spare ??= start();
          res.end('{}');
        } else {
          res.statusCode = 404;
          res.end();
        }
      } catch (error) {
        res.statusCode = 500;
        res.end(String((error as Error).message));
      }
    })();
  });
  // The first file's too, beside the run's own servers.
  if (prestart) await (spare = start());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async stop() {
      http.close();
      const rest = await Promise.allSettled([...(spare ? [spare] : [])]);
      await Promise.all([...leased.values(), ...rest.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))].map((s) => s.stop()));
      await Promise.all(stopping);
    },
  };
}
