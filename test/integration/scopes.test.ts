import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKey, hashKey, keyIdOf } from '../../lib/keys/key-format.js';
import { logger } from '../../lib/log.js';
import type { KeyScope } from '../../lib/keys/scope.js';
import { createDocumentClient } from '../../lib/store/clients.js';
import { DynamoKeyAdmin } from '../../lib/store/dynamo-key-admin.js';
import { fetchFeedSet, titles, waitForFeedSet } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { scanPosts } from '../support/scratch.js';

let fp: TestFeedpub;
let desk: string;
let wire: string;

/** A key created as `feedpub keys create` does (test/integration/keys-cli.test.ts runs the command itself). */
async function createKey(name: string, scope: KeyScope): Promise<string> {
  const key = generateKey();
  await new DynamoKeyAdmin(createDocumentClient(), fp.config.tableName).create(hashKey(key), name, scope);
  return key;
}

beforeAll(async () => {
  fp = await startTestFeedpub();
  desk = await createKey('emnews-desk', { categories: ['emnews', 'markets'], tags: [] });
  wire = await createKey('wire-bot', { categories: [], tags: ['东财滚动新闻'] });
});
afterAll(async () => {
  await fp?.stop();
});

const as = (key: string) => (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => fp.api(method, path, body, { authorization: `Bearer ${key}`, ...headers });
const post = (title: string, categories: string[], tags: string[] = []) => ({ title, content: `<p>${title}</p>`, categories, tags });

async function refusal(response: Response) {
  expect(response.status).toBe(403);
  expect(response.headers.get('content-type')).toContain('application/json');
  return ((await response.json()) as { error: { code: string; message: string; issues: { field: string; rule: string; message: string }[]; requestId: string } }).error;
}

/** What the owner (the unscoped local key) sees stored under an id. */
async function stored(id: string) {
  const response = await fp.api('GET', `/posts/${id}`);
  return response.status === 200 ? ((await response.json()) as { title: string; categories: string[] }) : undefined;
}

describe('a key scoped by category', () => {
  it('publishes in its categories: the post is in its feeds', async () => {
    const created = await as(desk)('PUT', '/posts/desk-1', post('Desk one', ['emnews']));
    expect(created.status).toBe(201);
    await waitForFeedSet(fp.url, 'feeds/categories/emnews', (f) => titles(f).includes('Desk one'));
    expect((await as(desk)('PUT', '/posts/desk-2', post('Desk two', ['markets', 'emnews'], ['any tag']))).status).toBe(201);
  });

  it('is refused a post in another category with 403 naming it, and nothing is written', async () => {
    const error = await refusal(await as(desk)('POST', '/posts', { ...post('Not mine', ['emnews', 'sports']), id: 'not-mine' }));
    expect(error.code).toBe('out_of_scope');
    expect(error.message).toContain("'sports'");
    expect(error.issues).toEqual([{ field: 'categories', rule: 'key_scope', message: "the post is in category 'sports', which is not this key's ('emnews', 'markets')" }]);
    expect(error.requestId).toBeTruthy();
    expect(await stored('not-mine')).toBeUndefined();
    expect(await fetchFeedSet(fp.url, 'feeds/categories/sports')).toBeUndefined();
    expect((await scanPosts(fp.config.tableName)).map((p) => p.id)).not.toContain('not-mine');
  });

  it('is refused a post with no category', async () => {
    const error = await refusal(await as(desk)('PUT', '/posts/uncategorized', post('Nowhere', [])));
    expect(error.issues[0]).toMatchObject({ field: 'categories', message: expect.stringContaining('has no category') });
    expect(await stored('uncategorized')).toBeUndefined();
  });

  it('is refused a Jekyll post whose front matter names another category', async () => {
    const jekyll = '---\ntitle: Sports desk\ncategories: sports\n---\nScore.\n';
    const error = await refusal(await as(desk)('POST', '/posts', jekyll, { 'content-type': 'text/markdown', slug: '2024-03-01-sports-desk.md' }));
    expect(error.message).toContain("'sports'");
    expect(await stored('sports-desk')).toBeUndefined();
  });

  it('may not move its post out of its scope: the stored post stays as it was', async () => {
    const error = await refusal(await as(desk)('PUT', '/posts/desk-1', post('Desk one, moved', ['sports'])));
    expect(error.message).toContain("'sports'");
    expect(await stored('desk-1')).toMatchObject({ title: 'Desk one', categories: ['emnews'] });
  });

  it('may not edit or delete another desk\'s post, even to bring it into its scope', async () => {
    expect((await fp.api('PUT', '/posts/sports-1', post('Sports one', ['sports']))).status).toBe(201);
    const edit = await refusal(await as(desk)('PUT', '/posts/sports-1', post('Taken over', ['emnews'])));
    expect(edit.issues[0]!.message).toBe("the stored post is in category 'sports', which is not this key's ('emnews', 'markets')");
    const remove = await refusal(await as(desk)('DELETE', '/posts/sports-1'));
    expect(remove.message).toContain("'sports'");
    expect(await stored('sports-1')).toMatchObject({ title: 'Sports one', categories: ['sports'] });
    await waitForFeedSet(fp.url, 'feeds/categories/sports', (f) => titles(f).includes('Sports one'));
  });

  it('deletes its own post', async () => {
    expect((await as(desk)('PUT', '/posts/desk-3', post('Desk three', ['markets']))).status).toBe(201);
    expect((await as(desk)('DELETE', '/posts/desk-3')).status).toBe(204);
    expect(await stored('desk-3')).toBeUndefined();
  });

  it('in a batch, refuses each post outside its scope alone and stores the others', async () => {
    const response = await as(desk)('POST', '/posts/batch', {
      posts: [
        { ...post('Batch in', ['emnews']), id: 'batch-in' },
        { ...post('Batch out', ['weather']), id: 'batch-out' },
        { ...post('Batch takeover', ['emnews']), id: 'sports-1' },
        { file: '2024-03-02-batch-jekyll.md', jekyll: '---\ntitle: Batch Jekyll\ncategories: [markets]\n---\nok\n' },
      ],
    });
    expect(response.status).toBe(200);
    const { results } = (await response.json()) as { results: { id: string; status: number; error?: { code: string; issues: { field: string; message: string }[] } }[] };
    expect(results.map((r) => [r.id, r.status])).toEqual([['batch-in', 201], ['batch-out', 403], ['sports-1', 403], ['batch-jekyll', 201]]);
    expect(results[1]!.error).toMatchObject({ code: 'out_of_scope', issues: [{ field: 'posts.1.categories', message: expect.stringContaining("'weather'") }] });
    expect(results[2]!.error!.issues[0]).toMatchObject({ field: 'posts.2.categories', message: expect.stringContaining("stored post is in category 'sports'") });
    expect(await stored('batch-in')).toMatchObject({ title: 'Batch in' });
    expect(await stored('batch-jekyll')).toMatchObject({ title: 'Batch Jekyll' });
    expect(await stored('batch-out')).toBeUndefined();
    expect(await stored('sports-1')).toMatchObject({ title: 'Sports one' });
  });

  it('reads only the posts it may write', async () => {
    expect((await as(desk)('GET', '/posts/desk-1')).status).toBe(200);
    const error = await refusal(await as(desk)('GET', '/posts/sports-1'));
    expect(error.message).toContain("'sports'");
  });

  it('lists one of its categories, without the posts that are also elsewhere', async () => {
    expect((await fp.api('PUT', '/posts/shared-1', post('Shared', ['emnews', 'sports']))).status).toBe(201);
    const listed = await as(desk)('GET', '/posts?category=emnews&limit=100');
    expect(listed.status).toBe(200);
    const ids = ((await listed.json()) as { posts: { id: string }[] }).posts.map((p) => p.id);
    expect(ids).toEqual(expect.arrayContaining(['desk-1', 'desk-2', 'batch-in']));
    expect(ids).not.toContain('shared-1');
    // The owner lists everything.
    const all = (await (await fp.api('GET', '/posts?category=emnews&limit=100')).json()) as { posts: { id: string }[] };
    expect(all.posts.map((p) => p.id)).toContain('shared-1');

    expect((await refusal(await as(desk)('GET', '/posts'))).issues[0]).toMatchObject({ field: 'category', rule: 'key_scope' });
    expect((await refusal(await as(desk)('GET', '/posts?category=sports'))).message).toContain("'sports'");
  });

  it('pages through its listing without losing a post', async () => {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const response = await as(desk)('GET', `/posts?category=emnews&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      const body = (await response.json()) as { posts: { id: string }[]; cursor?: string };
      pages.push(body.posts.map((p) => p.id));
      cursor = body.cursor;
    } while (cursor);
    const ids = pages.flat();
    expect(ids.filter((id) => id === 'shared-1')).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['desk-1', 'desk-2', 'batch-in']));
  });
});

describe('a key scoped by tag', () => {
  it('writes posts whose tags all lie in its scope, in any category, and nothing else', async () => {
    expect((await as(wire)('PUT', '/posts/wire-1', post('Wire one', ['emnews', 'anything'], ['东财滚动新闻']))).status).toBe(201);
    const error = await refusal(await as(wire)('PUT', '/posts/wire-2', post('Wire two', ['emnews'], ['东财滚动新闻', '快讯'])));
    expect(error.issues[0]).toMatchObject({ field: 'tags', message: expect.stringContaining("tag '快讯'") });
    expect((await refusal(await as(wire)('PUT', '/posts/wire-3', post('Untagged', ['emnews'])))).issues[0]!.field).toBe('tags');
    expect(await stored('wire-2')).toBeUndefined();
    const listed = (await (await as(wire)('GET', `/posts?tag=${encodeURIComponent('东财滚动新闻')}`)).json()) as { posts: { id: string }[] };
    expect(listed.posts.map((p) => p.id)).toEqual(['wire-1']);
  });
});

describe('regeneration holds', () => {
  it('need an unscoped key: a scoped one gets 403 on every hold route and on Feedpub-Hold', async () => {
    const owner = await fp.api('POST', '/regeneration/holds', { seconds: 60 });
    expect(owner.status).toBe(201);
    const { id } = (await owner.json()) as { id: string };
    for (const [method, path] of [['POST', '/regeneration/holds'], ['GET', `/regeneration/holds/${id}`], ['PUT', `/regeneration/holds/${id}`], ['DELETE', `/regeneration/holds/${id}`]] as const) {
      const error = await refusal(await as(desk)(method, path, method === 'POST' || method === 'PUT' ? { seconds: 60 } : undefined));
      expect(error.code, `${method} ${path}`).toBe('unscoped_key_required');
    }
    const held = await refusal(await as(desk)('PUT', '/posts/held-1', post('Held', ['emnews']), { 'feedpub-hold': id }));
    expect(held.code).toBe('unscoped_key_required');
    expect(await stored('held-1')).toBeUndefined();
    // The hold is still the owner's, and still holds.
    expect(await (await fp.api('GET', `/regeneration/holds/${id}`)).json()).toMatchObject({ phase: 'holding' });
    expect((await fp.api('DELETE', `/regeneration/holds/${id}`)).status).toBe(202);
  });
});

describe('the logs', () => {
  it('carry the short id of the key that wrote, never a key or its hash', async () => {
    const written: string[] = [];
    const capture = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    logger.setLogLevel('DEBUG');
    try {
      expect((await as(desk)('PUT', '/posts/logged-1', post('Logged', ['emnews']))).status).toBe(201);
      expect((await as(desk)('PUT', '/posts/logged-2', post('Refused', ['sports']))).status).toBe(403);
      expect((await as(generateKey())('GET', '/posts/logged-1')).status).toBe(401);
      expect((await fp.api('DELETE', '/posts/logged-1')).status).toBe(204);
    } finally {
      logger.setLogLevel('SILENT');
      capture.mockRestore();
    }
    const logs = written.join('');
    expect(logs).toContain(`"keyId":"${keyIdOf(hashKey(desk))}"`);
    expect(logs).toContain(`"keyId":"${keyIdOf(hashKey(fp.key))}"`);
    for (const secret of [desk, fp.key, hashKey(desk), hashKey(fp.key)]) expect(logs).not.toContain(secret);
  });
});
