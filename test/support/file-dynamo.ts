import { afterAll, beforeAll } from 'vitest';
import { startDynamoLocal, type LocalServer } from '../../lib/local/servers.js';

/**
 * A DynamoDB Local of its own for each integration file (a setup file of vitest.config.ts): one shared by the whole
 * run got slower with every file, whatever the files deleted (a file of 150 posts took 9 s first, 35 s after two
 * files of 300 posts; against the in-memory stand-in, 5 s either way), so late files missed the promises they
 * test. useLocalEndpoints() points the SDK at it. FEEDPUB_TEST_DYNAMO=memory keeps the run's one server.
 */
let server: LocalServer | undefined;

// vitest 4 passes the file's suite as the hook's second argument.
beforeAll(async ({}, file) => {
  const path = file && 'filepath' in file ? String(file.filepath) : '';
  if (!path.includes('/test/integration/') || process.env.FEEDPUB_TEST_DYNAMO === 'memory') return;
  server = await startDynamoLocal({ shortLived: true });
  process.env.FEEDPUB_TEST_FILE_DYNAMO = server.endpoint;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  delete process.env.FEEDPUB_TEST_FILE_DYNAMO;
});
