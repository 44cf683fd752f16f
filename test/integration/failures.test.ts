import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withFaults } from '../support/faults.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub({}, {
    wrapClients: ({ doc, s3 }) => ({
      doc: withFaults(doc, (command) =>
        JSON.stringify(command.input).includes('POST#explode') ? new Error('disk on fire at 10.0.0.7:8000, table secret-table') : undefined,
      ),
      s3,
    }),
  });
});
afterAll(async () => {
  await fp?.stop();
});

describe('unexpected failures', () => {
  it('answer a generic 500 with a request id, leaking nothing', async () => {
    const response = await fp.api('PUT', '/posts/explode', { title: 'Boom', content: '<p>b</p>' });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/disk|10\.0\.0\.7|secret|stack|Error:/);
    const body = JSON.parse(text);
    expect(body.error).toEqual({ code: 'internal_error', message: 'Internal server error', requestId: expect.any(String) });
    expect(response.headers.get('x-request-id')).toBe(body.error.requestId);
  });
});
