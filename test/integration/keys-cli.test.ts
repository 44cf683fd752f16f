import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/concurrency.js';
import { DynamoSubscriptionStore } from '../../lib/hub/dynamo-subscriptions.js';
import { subscriptionId } from '../../lib/hub/keys.js';
import { generateKey, hashKey, KEY_PATTERN } from '../../lib/keys/key-format.js';
import { freePort, LOCAL_AWS_ENV } from '../../lib/local/servers.js';
import { startLocalStack, type LocalStack } from '../../lib/local/start.js';
import { createDocumentClient } from '../../lib/store/clients.js';

// The environment a user's shell has: no endpoints, no key. `npm start` below changes this process's, not theirs.
const { FEEDPUB_API_KEY: _ignored, ...shell } = process.env;
const dataDir = mkdtempSync(join(tmpdir(), 'feedpub-keys-'));
const elsewhere = mkdtempSync(join(tmpdir(), 'feedpub-keys-none-'));
const env = { ...shell, FEEDPUB_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'SILENT' };
let stack: LocalStack;
let owner: string;
const legacyKey = `fp_${'Lx3'.repeat(14)}A`;
// Each command is a fresh tsx process: seconds on a busy two-core machine.
const CLI_TIMEOUT = 120_000;

/** `npx feedpub …` as a user types it, in another process (not spawnSync: the stack runs in this one). */
function feedpub(args: string[], extraEnv: Record<string, string> = {}, input = '') {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../bin/feedpub.js'), ...args], { env: { ...env, ...extraEnv } });
    child.stdin.end(input);
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const request = (key: string, method: string, path: string, body?: unknown) =>
  fetch(`${stack.feedpub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
const post = (title: string, categories: string[]) => ({ title, content: `<p>${title}</p>`, categories });

type Listed = { name: string; id: string; categories: string[]; tags: string[]; createdAt: string; lastUsedAt?: string };
async function listed(): Promise<Listed[]> {
  const out = await feedpub(['keys', 'list', '--json']);
  expect(out.status, out.stderr).toBe(0);
  return JSON.parse(out.stdout) as Listed[];
}

beforeAll(async () => {
  stack = await startLocalStack({ ...env, PORT: String(await freePort()) });
  owner = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
  // A key as `feedpub keys create` stored them before keys had names entries and scopes.
  await createDocumentClient().send(
    new PutCommand({ TableName: stack.config.tableName, Item: { PK: `KEY#${hashKey(legacyKey)}`, SK: 'KEY', name: 'oldbot', createdAt: '2024-01-01T00:00:00.000Z' } }),
  );
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

describe('feedpub keys, against the stack npm start runs', () => {
  let newsbot: string;

  it('create prints the new key once, alone on stdout; the key writes only in its scope', async () => {
    const out = await feedpub(['keys', 'create', '--name', 'newsbot', '--category', 'emnews', '--category', 'markets']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^feedpub_[0-9A-Za-z]{49}\n$/);
    newsbot = out.stdout.trim();
    expect(newsbot).toMatch(KEY_PATTERN);
    expect(out.stderr).toMatch(/created key 'newsbot' \(id [0-9a-f]{8}\), categories emnews, markets/);
    expect(out.stderr).not.toContain(newsbot);

    expect((await request(newsbot, 'PUT', '/posts/cli-1', post('By newsbot', ['emnews']))).status).toBe(201);
    const refused = await request(newsbot, 'PUT', '/posts/cli-2', post('Elsewhere', ['sports']));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain("'sports'");
  }, CLI_TIMEOUT);

  it('keeps names unique', async () => {
    const again = await feedpub(['keys', 'create', '--name', 'newsbot']);
    expect(again.status).toBe(1);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain("a key named 'newsbot' exists already");
    const local = await feedpub(['keys', 'create', '--name', 'local']);
    expect(local.status).toBe(1);
  }, CLI_TIMEOUT);

  it('refuses bad names and scopes, creating nothing', async () => {
    const badName = await feedpub(['keys', 'create', '--name', 'news bot']);
    expect([badName.status, badName.stdout]).toEqual([1, '']);
    expect(badName.stderr).toContain("--name 'news bot'");
    const badCategory = await feedpub(['keys', 'create', '--name', 'blank', '--category', ' ']);
    expect([badCategory.status, badCategory.stdout]).toEqual([1, '']);
    expect(badCategory.stderr).toContain('--category');
    expect((await listed()).map((k) => k.name)).not.toContain('blank');
  }, CLI_TIMEOUT);

  it('list shows name, id, scope, created and last used, never a key or a hash', async () => {
    const out = await feedpub(['keys', 'list']);
    expect(out.status, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+SCOPE\s+CREATED\s+LAST USED/);
    expect(lines.find((l) => l.startsWith('newsbot'))).toMatch(/^newsbot\s+[0-9a-f]{8}\s+categories emnews, markets\s+\d{4}-\d\d-\d\d \d\d:\d\dZ\s+\d{4}-\d\d-\d\d \d\d:\d\dZ$/);
    expect(lines.find((l) => l.startsWith('local '))).toContain('unscoped');
    for (const secret of [newsbot, owner, legacyKey, hashKey(newsbot), hashKey(owner), hashKey(legacyKey)]) expect(out.stdout + out.stderr).not.toContain(secret);

    const keys = await listed();
    expect(keys.map((k) => k.name).sort()).toEqual(['local', 'newsbot', 'oldbot']);
    expect(keys.find((k) => k.name === 'newsbot')).toMatchObject({ categories: ['emnews', 'markets'], tags: [], createdAt: expect.any(String) });
    expect(keys.find((k) => k.name === 'local')).toMatchObject({ categories: [], tags: [] });
  }, CLI_TIMEOUT);

  it('records a key\'s last use without a write per request (at most hourly)', async () => {
    const first = (await listed()).find((k) => k.name === 'newsbot')!.lastUsedAt!;
    expect(Date.now() - Date.parse(first)).toBeLessThan(60_000);
    await sleep(600); // past the local key cache: the next request reads the key again
    expect((await request(newsbot, 'GET', '/posts/cli-1')).status).toBe(200);
    expect((await listed()).find((k) => k.name === 'newsbot')!.lastUsedAt).toBe(first);
  }, CLI_TIMEOUT);

  it('keeps a key stored before names and scopes working; it is listed under its name and can be revoked', async () => {
    expect((await request(legacyKey, 'POST', '/regeneration/holds', { seconds: 5 })).status).toBe(201);
    expect((await listed()).find((k) => k.name === 'oldbot')).toMatchObject({ createdAt: '2024-01-01T00:00:00.000Z', categories: [], tags: [] });
    const out = await feedpub(['keys', 'revoke', 'oldbot']);
    expect(out.status, out.stderr).toBe(0);
    await sleep(1000);
    expect((await request(legacyKey, 'GET', '/posts/cli-1')).status).toBe(401);
  }, CLI_TIMEOUT);

  it('which names the key a scanner found, so that it can be revoked', async () => {
    const found = await feedpub(['keys', 'which'], {}, `${newsbot}\n`);
    expect(found.status, found.stderr).toBe(0);
    expect(found.stdout).toMatch(/^newsbot [0-9a-f]{8} categories emnews, markets\n$/);
    const unknown = await feedpub(['keys', 'which'], {}, generateKey());
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no such key');
  }, CLI_TIMEOUT);

  it('revoke ends a key: the next request after 1 s is 401', async () => {
    // The key is in use (and so in the cache) right up to the revocation.
    expect((await request(newsbot, 'GET', '/posts/cli-1')).status).toBe(200);
    const out = await feedpub(['keys', 'revoke', 'newsbot']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/revoked key 'newsbot' \(id [0-9a-f]{8}\)/);
    await sleep(1000);
    const refused = await request(newsbot, 'PUT', '/posts/cli-3', post('After revocation', ['emnews']));
    expect(refused.status).toBe(401);
    expect((await request(owner, 'GET', '/posts/cli-3')).status).toBe(404);
    expect((await listed()).map((k) => k.name)).not.toContain('newsbot');
    const again = await feedpub(['keys', 'revoke', 'newsbot']);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("no key named 'newsbot'");
  }, CLI_TIMEOUT);

  it('keeps the local key (.feedpub/api-key) as the unscoped owner key', async () => {
    expect((await request(owner, 'PUT', '/posts/cli-owner', post('By the owner', ['sports']))).status).toBe(201);
    const hold = await request(owner, 'POST', '/regeneration/holds', { seconds: 5 });
    expect(hold.status).toBe(201);
  });

  it('works against a deployed stack with --table and the AWS environment', async () => {
    const aws = { ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB!, FEEDPUB_DATA_DIR: elsewhere };
    const created = await feedpub(['keys', 'create', '--name', 'wire', '--tag', '东财滚动新闻', '--table', stack.config.tableName], aws);
    expect(created.status, created.stderr).toBe(0);
    const wire = created.stdout.trim();
    expect(wire).toMatch(KEY_PATTERN);
    expect((await request(wire, 'PUT', '/posts/cli-wire', { ...post('Wire', ['any']), tags: ['东财滚动新闻'] })).status).toBe(201);
    const list = await feedpub(['keys', 'list', '--table', stack.config.tableName], aws);
    expect(list.stdout).toMatch(/^wire\s+[0-9a-f]{8}\s+tags 东财滚动新闻/m);
    // Without --table and with no local stack running there, it says so.
    const nowhere = await feedpub(['keys', 'list'], { FEEDPUB_DATA_DIR: elsewhere });
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toContain('feedpub is not running locally');
  }, CLI_TIMEOUT);

  it('hub move-subscriptions moves the subscriptions of before layout 4 in a deployed stack (--table)', async () => {
    const doc = createDocumentClient();
    const callback = 'https://reader.example/cb';
    const legacy = { PK: 'SUB#feeds/tags/cli/atom.xml', SK: callback, id: subscriptionId('feeds/tags/cli/atom.xml', callback), topicKey: 'feeds/tags/cli/atom.xml', topic: 'https://x.example/feeds/tags/cli/atom.xml', host: 'reader.example', leaseSeconds: 86_400, expiresAt: Date.now() + 86_400_000, ttl: 0, verifiedAt: '2026-12-01T00:00:00.000Z', subscribedAt: '2026-12-01T00:00:00.000Z' };
    await doc.send(new PutCommand({ TableName: stack.config.tableName, Item: legacy }));
    const aws = { ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB!, FEEDPUB_DATA_DIR: elsewhere };
    const out = await feedpub(['hub', 'move-subscriptions', '--table', stack.config.tableName], aws);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toBe('moved 1 subscription(s)\n');
    const store = new DynamoSubscriptionStore(doc, stack.config.tableName);
    expect(await store.get('feeds/tags/cli/atom.xml', callback)).toMatchObject({ callback, topicKey: 'feeds/tags/cli/atom.xml', verifiedAt: legacy.verifiedAt });
    expect((await doc.send(new GetCommand({ TableName: stack.config.tableName, Key: { PK: legacy.PK, SK: legacy.SK } }))).Item).toBeUndefined();
    expect((await feedpub(['hub', 'move-subscriptions', '--table', stack.config.tableName], aws)).stdout).toBe('moved 0 subscription(s)\n');
  }, CLI_TIMEOUT);

  it('revokes the local key too, until npm start registers it again', async () => {
    const out = await feedpub(['keys', 'revoke', 'local']);
    expect(out.status, out.stderr).toBe(0);
    await sleep(1000);
    expect((await request(owner, 'GET', '/posts/cli-owner')).status).toBe(401);
  }, CLI_TIMEOUT);
});
