import { afterAll, beforeAll, inject } from 'vitest';

/**
 * A DynamoDB Local of its own for each integration file (a setup file of vitest.config.ts): one shared by the whole
 * run got slower with every file, whatever the files deleted (a file of 150 posts took 9 s first, 35 s after two
 * files of 300 posts; against the in-memory stand-in, 5 s either way), so late files missed the promises they
 * test. The run's pool (dynamo-pool.ts) hands it out, started while vitest went from the last file to this one.
 * useLocalEndpoints() points the SDK at it. FEEDPUB_TEST_DYNAMO=memory keeps the run's one server.
 */
let endpoint: string | undefined;

// vitest 4 passes the file's suite as the hook's second argument.
beforeAll(async ({}, file) => {
  const path = file && 'filepath' in file ? String(file.filepath) : '';
  if (!path.includes('/test/integration/') || process.env.FEEDPUB_TEST_DYNAMO === 'memory') return;
  const answer = await fetch(`${inject('dynamoPool')}/take`, { method: 'POST' });
  if (!answer.ok) throw new Error(`DynamoDB Local did not start: ${await answer.text()}`);
  endpoint = ((await answer.json()) as { endpoint: string }).endpoint;
  process.env.FEEDPUB_TEST_FILE_DYNAMO = endpoint;
}, 60_000);

afterAll(async () => {
  if (endpoint) await fetch(`${inject('dynamoPool')}/give?endpoint=${encodeURIComponent(endpoint)}`, { method: 'POST' });
  endpoint = undefined;
  delete process.env.FEEDPUB_TEST_FILE_DYNAMO;
});
