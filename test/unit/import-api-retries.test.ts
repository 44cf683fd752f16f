import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ImportApi } from '../../lib/import/api-client.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A server answering each request to /posts/batch as `answers` says in turn: a status, or 'reset' (the socket destroyed). */
async function batchServer(answers: (number | 'reset')[]): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    const answer = answers[requests++] ?? 200;
    req.resume();
    if (answer === 'reset') return req.socket.destroy();
    res.writeHead(answer, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer === 200 ? { results: [{ status: 201, outcome: 'created' }] } : { error: { message: 'busy' } }));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests: () => requests };
}

describe('the importer sending a batch', () => {
  it('sends it again after a 503, a reset connection or a 429, and takes the answer that comes', async () => {
    const api = await batchServer([503, 'reset', 429]);
    expect(await new ImportApi(api.url, 'k').sendBatch('h', ['{"id":"a"}'])).toEqual(['created']);
    expect(api.requests()).toBe(4);
  });

  it('gives up after 4 attempts in all, whatever mix of failures they met', async () => {
    const api = await batchServer([503, 'reset', 503, 'reset', 503, 'reset', 503, 'reset']);
    await expect(new ImportApi(api.url, 'k').sendBatch('h', ['{"id":"a"}'])).rejects.toThrow();
    expect(api.requests()).toBe(4);
  });

  it('does not send again a batch the API refused (4xx)', async () => {
    const api = await batchServer([400]);
    await expect(new ImportApi(api.url, 'k').sendBatch('h', ['{"id":"a"}'])).rejects.toThrow('busy');
    expect(api.requests()).toBe(1);
  });
});
