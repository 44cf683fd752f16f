import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../lib/feeds/document-headers.js';
import { feedDirectory, feedsShowing, feedUrls, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { assertWellFormedXml } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import {
  contentTypeArb,
  deepJsonText,
  fuzzParameters,
  fuzzTestTimeout,
  headerValueArb,
  hostileText,
  idArb,
  jekyllFileArb,
  nameArb,
  nearlyValidPostArb,
  postJsonArb,
  segmentArb,
  slugArb,
} from '../support/hostile.js';
import { converge, scanPosts } from '../support/scratch.js';
import { feedProblems, schemaProblems } from '../support/validators.js';

// Property-based tests of every route against the real local stack (DynamoDB Local, s3rver, the local front), with
// generated bodies, headers, ids, Slug values, names, dates and front matter, valid and not (issue 11). For every
// request: no answer >= 500, no hang, every refusal of input a 4xx whose JSON error names the field and the rule.
// Afterwards: exactly the accepted posts are stored, every feed is what its posts render to, and every feed is valid.

const REQUEST_TIMEOUT_MS = 15_000;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let fp: TestFeedpub;
/** What the answers said is stored: true after a 200/201, false after a 204 to a DELETE. */
const stored = new Map<string, boolean>();
/** How many writes were accepted: enough of them for the checks afterwards to mean something. */
let acceptedWrites = 0;
const holds = new Set<string>();

beforeAll(async () => {
  fp = await startTestFeedpub({ FEEDPUB_DIRECTORY_INTERVAL: '2' });
});
afterAll(async () => {
  await fp?.stop();
});

/** A request sent as it is written (path, headers and body bytes untouched), answered within the timeout or failed as a hang. */
function send(method: string, path: string, options: { headers?: Record<string, string>; body?: string | Uint8Array; key?: boolean } = {}): Promise<Answer> {
  const url = new URL(fp.url);
  const headers = {
    ...(options.key === false ? {} : { authorization: `Bearer ${fp.key}` }),
    // Node frames a GET's or DELETE's body only when told its length.
    ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method, headers, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`hang: ${method} ${path.slice(0, 200)} gave no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

interface ErrorJson {
  error: { code: string; message: string; requestId?: string; issues?: { field: string; rule: string; message: string }[] };
}

/** Refusals of input name what was wrong; other 4xx (no key, no such post or route, an id taken) say it in words. */
const NAMES_FIELDS = [400, 412, 413, 415];

function judge(answer: Answer, what: string): void {
  expect(answer.status, `${what}: ${answer.body.slice(0, 300)}`).toBeGreaterThanOrEqual(200);
  expect(answer.status, `${what}: ${answer.body.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status < 400) return;
  expect(String(answer.headers['content-type']), what).toMatch(/^application\/json/);
  const json = JSON.parse(answer.body) as ErrorJson | { message: string };
  // API Gateway's own answers, before any function runs (an unroutable method, a body past 10 MiB): the local front
  // gives them as API Gateway does.
  if (what.startsWith('PUT /regeneration/holds/') && answer.status === 409) return void expect(Object.keys(json).sort()).toEqual(['feedsLeft', 'id', 'phase', 'until']);
  if (!('error' in json)) return void expect([json, answer.status], what).toEqual([{ message: expect.any(String) }, expect.toBeOneOf([404, 413])]);
  const { error } = json;
  expect(error.code, what).toMatch(/^[a-z_]+$/);
  expect(error.message, what).not.toBe('');
  if (NAMES_FIELDS.includes(answer.status)) {
    expect(error.issues?.length, `${what}: ${answer.body.slice(0, 300)}`).toBeGreaterThan(0);
    for (const issue of error.issues!) {
      expect(issue.field, what).not.toBe('');
      expect(issue.rule, what).toMatch(/^[a-z0-9_]+$/);
    }
  }
}

const decoded = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/** What an answer about one post says of whether it is stored. */
function record(method: string, id: string | undefined, answer: Answer): void {
  if (id === undefined) return;
  if ((method === 'PUT' || method === 'POST') && (answer.status === 200 || answer.status === 201)) {
    stored.set(id, true);
    acceptedWrites++;
  }
  if (method === 'DELETE' && answer.status === 204) stored.set(id, false);
}

const jsonOrRaw = fc.oneof(
  { weight: 4, arbitrary: postJsonArb.map((p) => JSON.stringify(p)) },
  { weight: 6, arbitrary: nearlyValidPostArb.map((p) => JSON.stringify(p)) },
  { weight: 1, arbitrary: deepJsonText },
  { weight: 1, arbitrary: hostileText(100) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
  { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '"x"', '{', '{"title":"t","content":"<p>x</p>"', '\uFEFF{"title":"t","content":"<p>x</p>"}') },
);

const writeHeaders = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  fc.record(
    {
      'if-match': fc.oneof(headerValueArb, fc.constantFrom('*', '"x"', 'W/"x"', '"a", "b"')),
      'if-none-match': fc.oneof(headerValueArb, fc.constant('*')),
      'feedpub-hold': fc.oneof(headerValueArb, fc.constantFrom('a'.repeat(33), 'holdid')),
      'x-anything': headerValueArb,
    },
    { requiredKeys: [] },
  ),
);

const postOp = fc.oneof(
  fc.record({ method: fc.constant('PUT'), segment: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('p1', 'p2', 'p3', 'p-4', 'q.5') }, segmentArb), body: jsonOrRaw, type: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, contentTypeArb), headers: writeHeaders }),
  fc.record({ method: fc.constant('POST'), segment: fc.constant(''), body: jsonOrRaw, type: fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, contentTypeArb), headers: writeHeaders }),
  fc.record({ method: fc.constantFrom('GET', 'DELETE'), segment: segmentArb, body: fc.constant(''), type: fc.constant(''), headers: writeHeaders }),
  fc.record({ method: fc.constantFrom('PATCH', 'OPTIONS', 'TRACE'), segment: segmentArb, body: fc.constant(''), type: fc.constant(''), headers: fc.constant({}) }),
);

describe('every route, with generated input', () => {
  it(
    'POST, PUT, GET and DELETE /posts: bodies, content types, conditional and hold headers, ids in the path',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(postOp, { minLength: 1, maxLength: 4 }), fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, fc.constant(false)), async (ops, withKey) => {
          for (const op of ops) {
            const path = op.method === 'POST' ? '/posts' : `/posts/${op.segment}`;
            const headers: Record<string, string> = { ...op.headers, ...(op.type ? { 'content-type': op.type } : {}) };
            const answer = await send(op.method, path, { headers, body: op.body || undefined, key: withKey || op.method === 'GET' });
            judge(answer, `${op.method} ${path.slice(0, 100)}`);
            const id = op.method === 'POST' ? (answer.status === 201 ? (JSON.parse(answer.body) as { id: string }).id : undefined) : decoded(op.segment);
            record(op.method, id, answer);
          }
        }),
        fuzzParameters(60),
      );
    },
    fuzzTestTimeout(),
  );

  it(
    'Jekyll files through POST and PUT: front matter well-formed and broken, alias bombs, deep nesting, Slug headers',
    async () => {
      await fc.assert(
        fc.asyncProperty(jekyllFileArb, fc.option(slugArb), fc.option(idArb), async (file, slug, id) => {
          const method = id === null ? 'POST' : 'PUT';
          const path = id === null ? '/posts' : `/posts/${encodeURIComponent(id)}`;
          const answer = await send(method, path, { headers: { 'content-type': 'text/markdown; charset=utf-8', ...(slug !== null ? { slug } : {}) }, body: file });
          judge(answer, `${method} Jekyll file ${JSON.stringify(file.slice(0, 120))}`);
          record(method, id ?? (answer.status === 201 ? (JSON.parse(answer.body) as { id: string }).id : undefined), answer);
        }),
        fuzzParameters(40),
      );
    },
    fuzzTestTimeout(),
  );

  it(
    'POST /posts/batch: JSON and Jekyll items, duplicate ids within a batch, malformed batches',
    async () => {
      const item = fc.oneof(
        { weight: 3, arbitrary: fc.tuple(nearlyValidPostArb, idArb).map(([p, id]) => ({ ...p, id })) },
        { weight: 2, arbitrary: postJsonArb },
        { weight: 2, arbitrary: fc.tuple(jekyllFileArb, slugArb).map(([jekyll, file]) => ({ file: decoded(file) ?? file, jekyll })) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
      );
      const body = fc.oneof(
        { weight: 8, arbitrary: fc.array(item, { minLength: 1, maxLength: 25 }).map((posts) => JSON.stringify({ posts })) },
        { weight: 1, arbitrary: fc.array(item, { minLength: 101, maxLength: 103 }).map((posts) => JSON.stringify({ posts })) },
        { weight: 1, arbitrary: fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), deepJsonText) },
        { weight: 1, arbitrary: fc.constantFrom('{"posts":[]}', '{"posts":{}}', '{"posts":[1], "more": true}', '{"posts":[', '') },
      );
      await fc.assert(
        fc.asyncProperty(body, fc.oneof({ weight: 5, arbitrary: fc.constant('application/json') }, contentTypeArb), async (text, type) => {
          const answer = await send('POST', '/posts/batch', { headers: { 'content-type': type }, body: text });
          judge(answer, `POST /posts/batch ${text.slice(0, 200)}`);
          if (answer.status !== 200) return;
          const sent = (JSON.parse(text) as { posts: unknown[] }).posts;
          const { results } = JSON.parse(answer.body) as { results: ({ id: string; status: number } & Partial<ErrorJson>)[] };
          expect(results).toHaveLength(sent.length);
          const seen = new Set<string>();
          results.forEach((result, index) => {
            if (result.status === 200 || result.status === 201) {
              expect(seen.has(result.id), `posts.${index}: an id twice in one batch`).toBe(false);
              seen.add(result.id);
              acceptedWrites++;
              return void stored.set(result.id, true);
            }
            expect(result.status).toBeGreaterThanOrEqual(400);
            expect(result.status).toBeLessThan(500);
            for (const issue of result.error!.issues ?? []) expect(issue.field, JSON.stringify(result)).toMatch(new RegExp(`^posts\\.${index}(\\.|$)`));
            if (result.status === 400) expect(result.error!.issues?.length).toBeGreaterThan(0);
          });
        }),
        fuzzParameters(25),
      );
    },
    fuzzTestTimeout(),
  );

  it(
    'GET /posts: any category, tag, limit and cursor, repeated or not',
    async () => {
      const value = fc.oneof(nameArb, hostileText(30), fc.constantFrom('1', '100', '101', '0', '-1', '1e2', '0x10', '2.5', 'NaN', '', 'x'.repeat(3000)));
      const cursor = fc.oneof(
        fc.base64String({ maxLength: 40 }).map((s) => s.replace(/=+$/, '')),
        fc.string({ maxLength: 1500 }).map((s) => Buffer.from(`E#${s}`).toString('base64url')),
        fc.constantFrom(`E#${'9'.repeat(3000)}`, `E#2021-12-08T02:46:18.000Z#${'p'.repeat(2000)}`, 'E#2021-12-08T02:46:18.000Z#p1', 'E#2021-12-08T02:46:18.000Z#p1\u0000').map((key) => Buffer.from(key).toString('base64url')),
        hostileText(20),
      );
      const query = fc.array(fc.tuple(fc.constantFrom('category', 'tag', 'limit', 'cursor', 'other', ''), fc.oneof(value, cursor)), { maxLength: 5 });
      await fc.assert(
        fc.asyncProperty(query, async (pairs) => {
          const search = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))}`).join('&');
          const answer = await send('GET', `/posts?${search}`);
          judge(answer, `GET /posts?${search.slice(0, 200)}`);
        }),
        fuzzParameters(40),
      );
    },
    fuzzTestTimeout(),
  );

  it(
    'regeneration holds: create, renew, read and release with any body and id, and writes sent under them',
    async () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('create' as const), body: fc.oneof(fc.record({ seconds: fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.double(), hostileText(5)) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), hostileText(30), deepJsonText) }),
        fc.record({ kind: fc.constantFrom('renew' as const, 'read' as const, 'release' as const), target: fc.oneof(fc.constant(undefined), segmentArb), body: fc.constantFrom('', '{"seconds":30}', '{"seconds":0}', '{') }),
        fc.record({ kind: fc.constant('write' as const), post: nearlyValidPostArb, id: idArb, hold: fc.oneof(fc.constant(undefined), headerValueArb) }),
      );
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 4 }), async (ops) => {
          for (const o of ops) {
            if (o.kind === 'create') {
              const answer = await send('POST', '/regeneration/holds', { headers: { 'content-type': 'application/json' }, body: o.body });
              judge(answer, `POST /regeneration/holds ${o.body.slice(0, 100)}`);
              if (answer.status === 201) holds.add((JSON.parse(answer.body) as { id: string }).id);
            } else if (o.kind === 'write') {
              const hold = o.hold ?? [...holds][0];
              const answer = await send('PUT', `/posts/${encodeURIComponent(o.id)}`, { headers: { 'content-type': 'application/json', ...(hold !== undefined ? { 'feedpub-hold': hold } : {}) }, body: JSON.stringify(o.post) });
              judge(answer, `PUT under hold ${hold}`);
              record('PUT', o.id, answer);
            } else {
              const target = o.target ?? [...holds][0] ?? 'none';
              const method = { renew: 'PUT', read: 'GET', release: 'DELETE' }[o.kind];
              const answer = await send(method, `/regeneration/holds/${target}`, { headers: { 'content-type': 'application/json' }, body: o.body || undefined });
              judge(answer, `${method} /regeneration/holds/${target.slice(0, 100)}`);
            }
          }
        }),
        fuzzParameters(25),
      );
    },
    fuzzTestTimeout(),
  );

  it(
    'the local front: GET and HEAD of any path under /feeds/ and /posts/, conditional or not',
    async () => {
      const path = fc.oneof(
        fc.array(segmentArb, { minLength: 1, maxLength: 4 }).map((segments) => `/feeds/${segments.join('/')}`),
        fc.tuple(fc.constantFrom('categories', 'tags'), segmentArb, fc.constantFrom('rss.xml', 'atom.xml', 'feed.json', 'archive/1/rss.xml', '', '%2E%2E/rss.xml')).map(([kind, name, file]) => `/feeds/${kind}/${name}/${file}`),
        segmentArb.map((s) => `/posts/${s}.html`),
        fc.constantFrom('/feeds', '/feeds/', '/feeds/rss.xml', '/feeds/index.html', '/feeds/opml.xml', '/feeds/feed.json?x=1', '/posts/p1.html', '/feeds/%2e%2e/%2e%2e/package.json'),
      );
      const conditional = fc.record({ 'if-none-match': fc.oneof(headerValueArb, fc.constantFrom('*', 'W/"x"', '"a", W/"b"')), 'if-modified-since': fc.oneof(headerValueArb, fc.date({ noInvalidDate: true }).map((d) => d.toUTCString())) }, { requiredKeys: [] });
      await fc.assert(
        fc.asyncProperty(path, fc.constantFrom('GET', 'HEAD'), conditional, async (p, method, headers) => {
          const answer = await send(method, p, { headers, key: false });
          // The directory's address ends with a slash (its pages link relative to it): /feeds redirects there.
          if (p === '/feeds') return void expect([answer.status, answer.headers.location]).toEqual([301, '/feeds/']);
          expect(answer.status, `${method} ${p.slice(0, 200)}: ${answer.body.slice(0, 200)}`).toBeOneOf([200, 304, 404]);
          if (answer.status === 200 && !p.startsWith('/feeds/feed.json?')) expect(answer.headers['content-security-policy'], p).toBe(CONTENT_SECURITY_POLICY);
        }),
        fuzzParameters(80),
      );
    },
    fuzzTestTimeout(),
  );

  it('bodies of 10 MB and more: a 413 naming the body (or API Gateway\'s own, past its 10 MiB)', async () => {
    const tenMB = 10 * 1000 * 1000;
    const cases: [string, string, string, number][] = [
      ['POST', '/posts', 'application/json', tenMB],
      ['PUT', '/posts/big', 'text/markdown', tenMB],
      ['POST', '/posts/batch', 'application/json', tenMB],
      ['POST', '/posts/batch', 'application/json', 5 * 1024 * 1024 + 1],
      ['POST', '/regeneration/holds', 'application/json', tenMB],
    ];
    for (const [method, path, type, size] of cases) {
      const body = `{"title":"${'x'.repeat(size)}","content":"x"}`;
      const answer = await send(method, path, { headers: { 'content-type': type }, body });
      judge(answer, `${method} ${path} of ${size} bytes`);
      expect(answer.status, `${method} ${path}`).toBe(413);
      expect((JSON.parse(answer.body) as ErrorJson).error.issues).toEqual([expect.objectContaining({ field: 'body', rule: 'max_bytes' })]);
    }
    // Past 10 MiB API Gateway itself refuses, before any function runs, with its own body (the local front does the same).
    const gateway = await send('POST', '/posts', { headers: { 'content-type': 'application/json' }, body: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(gateway.status).toBe(413);
    expect(JSON.parse(gateway.body)).toEqual({ message: 'Request Entity Too Large' });
  }, 120_000);
});

describe('afterwards', () => {
  it('stores exactly the accepted posts, shows each in every feed it belongs to, and keeps every feed valid', async () => {
    for (const id of holds) judge(await send('DELETE', `/regeneration/holds/${id}`), `release hold ${id}`);
    const expected = [...stored].filter(([, present]) => present).map(([id]) => id).sort();
    const posts = await scanPosts(fp.config.tableName);
    expect(posts.map((p) => p.id).sort()).toEqual(expected);
    // Enough happened for the checks below to mean something (ids come from small pools, so that writes meet).
    expect(acceptedWrites).toBeGreaterThan(30);
    expect(expected.length).toBeGreaterThan(5);
    const refs = new Map<string, FeedRef>();
    // A post dated in the future is scheduled: in no feed until its date.
    for (const post of posts) for (const ref of feedsShowing(post)) refs.set(`${ref.kind}:${ref.name}`, ref);
    expect(await converge(fp.url, [...refs.values()], fp.config, 30_000)).toEqual([]);
    for (const id of expected) expect((await send('GET', `/posts/${encodeURIComponent(id)}`)).status, id).toBe(200);

    const site = feedUrls({ kind: 'site', name: '' }, fp.url);
    for (const format of ['rss', 'atom', 'json'] as const) {
      const body = (await send('GET', new URL(site[format]).pathname, { key: false })).body;
      // Text that merely looks like markup is text; the validator's lint warns about it in titles (see xss.test.ts).
      expect(feedProblems(format, body).filter((p) => !/HTML in the title/.test(p)), format).toEqual([]);
    }
    for (const ref of refs.values()) {
      if (ref.kind === 'site') continue;
      const dir = `/${feedDirectory(ref, encodeURIComponent)}`;
      for (const file of ['rss.xml', 'atom.xml']) {
        const answer = await send('GET', `${dir}/${file}`, { key: false });
        expect(answer.status, `${dir}/${file}: ${answer.body.slice(0, 200)}`).toBe(200);
        assertWellFormedXml(answer.body);
      }
      expect(schemaProblems('json', (await send('GET', `${dir}/feed.json`, { key: false })).body), dir).toEqual([]);
    }
  }, 120_000);
});
