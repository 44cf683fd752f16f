import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../lib/keys/key-format.js';
import { mapSettled, sleep } from '../../lib/concurrency.js';
import { SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { freePort } from '../../lib/local/servers.js';
import { startLocalStack, type LocalStack } from '../../lib/local/start.js';
import { converge, scanPosts } from '../support/scratch.js';

const dataDir = mkdtempSync(join(tmpdir(), 'feedpub-restart-'));
const CATEGORIES = ['one', 'two', 'three', 'four'];
const REFS: FeedRef[] = [SITE_FEED, ...CATEGORIES.map((name): FeedRef => ({ kind: 'category', name }))];
let stack: LocalStack | undefined;

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the local stack stopped and restarted in the middle of a burst', () => {
  it('loses nothing accepted, and the feeds catch up after the restart', async () => {
    const env = { ...process.env, FEEDPUB_DATA_DIR: dataDir, PORT: String(await freePort()), FEEDPUB_API_KEY: generateKey(), POWERTOOLS_LOG_LEVEL: 'SILENT' };
    stack = await startLocalStack(env);
    const url = stack.feedpub.url;
    const accepted: string[] = [];
    const send = (i: number) =>
      fetch(`${url}/posts/burst-${i}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${env.FEEDPUB_API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `Burst ${i}`, content: `<p>${i}</p>`, date: new Date(Date.UTC(2024, 2, 1, 0, i)).toISOString(), categories: [CATEGORIES[i % 4]] }),
      }).then(async (r) => {
        if (r.status === 201) accepted.push(`burst-${i}`);
        await r.body?.cancel();
      });

    // A burst of 100 posts; the whole stack (API, poller, DynamoDB Local, s3rver) stops a third of the way in.
    const burst = mapSettled(Array.from({ length: 100 }, (_, i) => i), 8, send);
    while (accepted.length < 30) await sleep(5);
    const stopping = stack.stop();
    stack = undefined;
    await Promise.all([burst, stopping]);
    expect(accepted.length).toBeGreaterThanOrEqual(30);
    expect(accepted.length).toBeLessThan(100);

    // `npm start` again on the same data: the stream resumes from its checkpoint and stale feeds are re-driven.
    stack = await startLocalStack(env);
    const stored = (await scanPosts(stack.config.tableName)).map((p) => p.id);
    for (const id of accepted) expect(stored).toContain(id);
    expect(await converge(stack.feedpub.url, REFS, stack.config, 30_000)).toEqual([]);

    // And it keeps publishing.
    const after = await fetch(`${stack.feedpub.url}/posts/after-restart`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${env.FEEDPUB_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'After the restart', content: '<p>a</p>', categories: ['one'] }),
    });
    expect(after.status).toBe(201);
    expect(await converge(stack.feedpub.url, REFS, stack.config, 10_000)).toEqual([]);
  }, 180_000);
});
