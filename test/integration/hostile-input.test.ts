import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

// The inputs a fuzzing script found answered with a 500 or 502, or stored as something else than sent (issue 11):
// each is now a 4xx (or a 404) that names the field, and nothing of it is stored.

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub();
});
afterAll(async () => {
  await fp?.stop();
});

interface ErrorBody {
  error: { code: string; message: string; issues?: { field: string; rule: string; message: string }[] };
}

async function refusal(response: Response) {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  return ((await response.json()) as ErrorBody).error;
}

const fieldsOf = (error: ErrorBody['error']) => (error.issues ?? []).map((i) => i.field);
const nested = (depth: number, inner = '"x"') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
const post = (id: string, extra: Record<string, unknown> = {}) => ({ id, title: 'Fine', content: '<p>fine</p>', ...extra });

/** A request as a client sends it, byte for byte: fetch would resolve dot segments, re-encode the path, refuse a TRACE or a GET's body. */
function raw(method: string, path: string, body?: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(fp.url);
    const headers = { authorization: `Bearer ${fp.key}`, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}) };
    request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: text }));
    })
      .on('error', reject)
      .end(body);
  });
}

const rawGet = (path: string) => raw('GET', path);

async function notStored(id: string) {
  expect((await fp.api('GET', `/posts/${id}`)).status).toBe(404);
}

describe('deep nesting', () => {
  it('refuses a batch whose post nests arrays 5,000 deep with a 400 naming the field, and stores nothing of it', async () => {
    const body = `{"posts":[${JSON.stringify(post('deep-ok'))},{"id":"deep-1","title":${nested(5000)},"content":"<p>x</p>"}]}`;
    const error = await refusal(await fp.api('POST', '/posts/batch', body, { 'content-type': 'application/json' }));
    expect(error.issues).toEqual([expect.objectContaining({ field: 'posts.1.title', rule: 'max_depth' })]);
    await notStored('deep-ok');
    await notStored('deep-1');
  });

  it('refuses deep nesting anywhere in a batch body, a post body and a hold body', async () => {
    const batch = await refusal(await fp.api('POST', '/posts/batch', `{"posts":${nested(5000)}}`, { 'content-type': 'application/json' }));
    expect(fieldsOf(batch)).toEqual(['posts']);
    const whole = await refusal(await fp.api('POST', '/posts/batch', nested(100_000), { 'content-type': 'application/json' }));
    expect(fieldsOf(whole)).toEqual(['body']);
    const single = await refusal(await fp.api('PUT', '/posts/deep-2', `{"title":"t","content":"c","authors":[${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}]}`, { 'content-type': 'application/json' }));
    expect(single.issues![0]).toMatchObject({ field: expect.stringMatching(/^authors\.0\.a\.a/), rule: 'max_depth' });
    const hold = await refusal(await fp.api('POST', '/regeneration/holds', `{"seconds":${nested(5000, '1')}}`, { 'content-type': 'application/json' }));
    expect(fieldsOf(hold)).toEqual(['seconds']);
    await notStored('deep-2');
  });

  it('refuses Jekyll front matter nested 5,000 deep, alone and in a batch', async () => {
    const file = `---\ntitle: ok\ntags: ${nested(5000, 'x')}\n---\nBody\n`;
    const alone = await refusal(await fp.api('POST', '/posts', file, { 'content-type': 'text/markdown', slug: '2024-01-01-deep-yaml.md' }));
    expect(alone.issues).toEqual([expect.objectContaining({ field: 'front_matter', rule: 'max_depth' })]);
    const block = `---\ntitle: ok\ntags:\n  ${'- '.repeat(5000)}x\n---\n`;
    const { results } = (await (await fp.api('POST', '/posts/batch', { posts: [{ file: '2024-01-01-deep-block.md', jekyll: block }] })).json()) as { results: { status: number; error: ErrorBody['error'] }[] };
    expect(results[0]!.status).toBe(400);
    expect(fieldsOf(results[0]!.error)).toEqual(['posts.0.front_matter']);
    await notStored('deep-yaml');
    await notStored('deep-block');
  });
});

describe('paths the local front cannot serve', () => {
  it.each([
    ['a NUL', '/feeds/%00'],
    ['a NUL inside a name', '/feeds/a%00b'],
    ['a NUL before .html', '/feeds/rss.xml%00.html'],
    ['10,000 characters', `/feeds/${'a'.repeat(10_000)}`],
    ['a key over 1024 bytes', `/feeds/categories/${'%E4%B8%9C'.repeat(400)}/rss.xml`],
    ['a NUL post page', '/posts/%00.html'],
    ['a 10,000-character post page', `/posts/${'p'.repeat(10_000)}.html`],
    ['encoded slashes and dot segments', '/feeds/categories/..%2F..%2F..%2Fetc%2Fpasswd'],
    ['encoded dot segments', '/feeds/%2E%2E/%2E%2E/x/rss.xml'],
    ['dot segments behind an encoded slash', '/feeds/categories/a%2F..%2F..%2Frss.xml'],
    ['an empty segment', '/feeds//rss.xml'],
    ['a broken percent-encoding', '/feeds/%ZZ'],
  ])('answers 404 to a GET of a path with %s', async (_, path) => {
    const response = await rawGet(path);
    expect(response.status).toBe(404);
  });

  it('still serves the feeds themselves', async () => {
    expect((await fp.api('PUT', '/posts/front-1', post('front-1', { categories: ['emnews'] }))).status).toBe(201);
    const deadline = Date.now() + 5000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) status = (await rawGet('/feeds/categories/emnews/rss.xml')).status;
    expect(status).toBe(200);
  });
});

describe('text that shows nothing', () => {
  it.each([
    ['only control characters', '\u0001\u0002\u001F'],
    ['a lone surrogate', '\uD800'],
    ['a lone low surrogate', '\uDC00'],
    ['only zero-width characters', '\u200B\u200C\u200D\uFEFF'],
    ['only bidi controls', '\u202E\u2066\u2069\u200F'],
    ['only a Hangul filler and a Braille blank', '\u3164\u2800'],
    ['an entity for a zero-width space', '&#8203;'],
  ])('refuses a title of %s with a 400 naming title', async (_, title) => {
    const error = await refusal(await fp.api('PUT', '/posts/blank-title', { title, content: '<p>x</p>' }));
    expect(error.issues).toEqual([expect.objectContaining({ field: 'title', rule: 'visible' })]);
    await notStored('blank-title');
  });

  it('refuses a Jekyll title of control characters (written as YAML escapes) naming title', async () => {
    const file = '---\ntitle: "\\x01\\x02"\n---\nBody\n';
    const error = await refusal(await fp.api('POST', '/posts', file, { 'content-type': 'text/markdown', slug: '2024-01-01-blank-jekyll.md' }));
    expect(fieldsOf(error)).toEqual(['title']);
    await notStored('blank-jekyll');
  });

  it('keeps a title that shows something, without the characters a feed cannot carry', async () => {
    const response = await fp.api('PUT', '/posts/bell-title', { title: 'Bell\u0007 rings', content: '<p>x</p>' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { title: string }).title).toBe('Bell rings');
  });

  it.each([
    ['only zero-width characters', '\u200B\u200D'],
    ['only bidi controls', '\u202E\u202C'],
    ['only a control character', '\u0007'],
    ['only a soft hyphen and a BOM', '\u00AD\uFEFF'],
    ['a right-to-left override among letters', 'news\u202Eevil'],
    ['an isolate among letters', 'a\u2067b\u2069'],
  ])('refuses category, tag and author names of %s, naming each', async (_, name) => {
    const error = await refusal(await fp.api('PUT', '/posts/blank-name', { title: 'T', content: '<p>x</p>', categories: ['fine', name], tags: [name], authors: [{ name }] }));
    expect(fieldsOf(error)).toEqual(['categories.1', 'tags.0', 'authors.0.name']);
    await notStored('blank-name');
  });

  it('accepts names with the implicit direction marks and joiners real names carry', async () => {
    const names = ['\u05E2\u05D1\u05E8\u05D9\u05EA\u200F', '\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645', '👩\u200D💻'];
    const response = await fp.api('PUT', '/posts/real-names', { title: 'T', content: '<p>x</p>', categories: names });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { categories: string[] }).categories).toEqual(names);
  });

  it.each([
    ['only a script', '<script>alert(1)</script>'],
    ['only an event handler on an empty element', '<div onclick="alert(1)"></div>'],
    ['nothing', ''],
    ['only zero-width characters', '<p>\u200B&#8203;</p>'],
  ])('refuses content that shows nothing once sanitized (%s) naming content', async (_, content) => {
    const error = await refusal(await fp.api('PUT', '/posts/blank-content', { title: 'T', content }));
    expect(error.issues).toEqual([expect.objectContaining({ field: 'content', rule: 'visible' })]);
    await notStored('blank-content');
  });

  it('keeps content that shows only an image', async () => {
    const response = await fp.api('PUT', '/posts/only-image', { title: 'T', content: '<img src="https://img.example/a.png" onerror="alert(1)">' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { content: string }).content).toBe('<img src="https://img.example/a.png" />');
  });

  it('derives the summary when the given one shows nothing', async () => {
    const response = await fp.api('PUT', '/posts/blank-summary', { title: 'T', content: '<p>The body speaks.</p>', summary: '\u200B\u0001' });
    expect(((await response.json()) as { summary: string }).summary).toBe('The body speaks.');
  });
});

describe('requests API Gateway would pass on, or answer itself', () => {
  it('answers a GET that carries a body as it answers one without (a body in a GET means nothing)', async () => {
    const response = await raw('GET', '/posts/no-such-post', '{"title":"ignored"}');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'post_not_found' } });
    expect((await raw('GET', '/posts?limit=1', 'x')).status).toBe(200);
  });

  it('answers TRACE as API Gateway answers a method it does not route', async () => {
    const response = await raw('TRACE', '/posts');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ message: 'Not Found' });
  });

  it('refuses a hold body over the body limit with a 413 naming the body', async () => {
    const error = await refusal(await fp.api('POST', '/regeneration/holds', `{"seconds":${' '.repeat(300 * 1024)}60}`, { 'content-type': 'application/json' }));
    expect(error.issues).toEqual([expect.objectContaining({ field: 'body', rule: 'max_bytes' })]);
  });
});

describe('lists', () => {
  it.each([
    ['a category no post can have', `category=${'x'.repeat(3000)}`, 'category'],
    ['a tag of a control character', 'tag=%07', 'tag'],
    ['a cursor holding a key longer than DynamoDB takes', `cursor=${Buffer.from(`E#${'9'.repeat(3000)}`).toString('base64url')}`, 'cursor'],
    ['a cursor whose post id is no post id', `cursor=${Buffer.from(`E#2021-12-08T02:46:18.000Z#${'p'.repeat(200)}`).toString('base64url')}`, 'cursor'],
  ])('refuses %s with a 400 naming it', async (_, query, field) => {
    expect(fieldsOf(await refusal(await fp.api('GET', `/posts?${query}`)))).toEqual([field]);
  });

  it('still pages with the cursors it gives', async () => {
    for (const id of ['list-1', 'list-2', 'list-3']) expect((await fp.api('PUT', `/posts/${id}`, post(id, { categories: ['listed'] }))).status).toBe(201);
    const first = (await (await fp.api('GET', '/posts?category=listed&limit=2')).json()) as { posts: unknown[]; cursor: string };
    expect(first.posts).toHaveLength(2);
    const second = (await (await fp.api('GET', `/posts?category=listed&limit=2&cursor=${first.cursor}`)).json()) as { posts: unknown[] };
    expect(second.posts).toHaveLength(1);
  });
});

describe('URLs', () => {
  it('stores a link and an author URL as the URI a browser makes of them: quotes, brackets and spaces percent-encoded', async () => {
    const response = await fp.api('PUT', '/posts/odd-url', {
      title: 'T',
      content: '<p>x</p>',
      link: 'https://example.com/"><script>alert(1)</script> x#a#b',
      authors: [{ name: 'A', url: 'https://例子.cn/新闻/]]>' }],
    });
    expect(response.status).toBe(201);
    const post = (await response.json()) as { link: string; authors: { url: string }[] };
    expect(post.link).toBe('https://example.com/%22%3E%3Cscript%3Ealert(1)%3C/script%3E%20x#a%23b');
    expect(post.authors[0]!.url).toBe('https://例子.cn/新闻/%5D%5D%3E');
  });

  it.each(['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', '//example.com/', 'https:alert(1)'])('refuses %s as a link, naming it', async (link) => {
    const error = await refusal(await fp.api('PUT', '/posts/bad-link', { title: 'T', content: '<p>x</p>', link }));
    expect(fieldsOf(error)).toEqual(['link']);
    await notStored('bad-link');
  });
});

describe('UTC offsets', () => {
  it.each(['2024-01-01T00:00:00+99:99', '2024-01-01T00:00:00+15:00', '2024-01-01T00:00:00-14:01', '2024-01-01T00:00:00+05:60', '2024-01-01T00:00:00+0099'])(
    'refuses %s with a 400 naming date',
    async (date) => {
      const error = await refusal(await fp.api('PUT', '/posts/bad-offset', { title: 'T', content: '<p>x</p>', date }));
      expect(error.issues).toEqual([expect.objectContaining({ field: 'date', message: expect.stringContaining('offset') })]);
      await notStored('bad-offset');
    },
  );

  it('refuses a Jekyll date with an offset out of range', async () => {
    const file = '---\ntitle: T\ndate: 2024-01-01 10:00:00 +9999\n---\nBody\n';
    const error = await refusal(await fp.api('POST', '/posts', file, { 'content-type': 'text/markdown', slug: '2024-01-01-jekyll-offset.md' }));
    expect(fieldsOf(error)).toEqual(['date']);
    await notStored('jekyll-offset');
  });

  it('accepts the widest offsets in use', async () => {
    for (const [id, date, utc] of [
      ['kiribati', '2024-01-01T14:00:00+14:00', '2024-01-01T00:00:00.000Z'],
      ['baker', '2024-01-01T00:00:00-12:00', '2024-01-01T12:00:00.000Z'],
      ['nepal', '2024-01-01T05:45:00+05:45', '2024-01-01T00:00:00.000Z'],
    ]) {
      const response = await fp.api('PUT', `/posts/${id}`, { title: 'T', content: '<p>x</p>', date });
      expect(response.status).toBe(201);
      expect(((await response.json()) as { date: string }).date).toBe(utc);
    }
  });
});
