import { existsSync } from 'node:fs';
import { parseFeed } from 'feedsmith';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from '../../lib/feeds/document-headers.js';
import { feedDirectory, feedId, feedUrls, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { escapeHtml } from '../../lib/text.js';
import { assertWellFormedXml } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { feedProblems } from '../support/validators.js';
import { inertnessProblems, launchOffline, readXssCorpus, Trap } from '../support/xss.js';

// Stored XSS (issue 11): every vector of test/fixtures/xss/vectors.txt is published through the API in every field
// that takes text, as JSON and as a Jekyll file; then every post page, the directory page and the feeds are loaded in
// Chromium, with the Content-Security-Policy as served and with it bypassed (the sanitizer alone), and the feeds'
// items are shown the way a web feed reader shows them. Nothing may run, and no request may leave for a vector's URL.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`Chromium is missing at ${CHROMIUM} (.ci/run installs Debian's chromium)`);

const corpus = readXssCorpus();

type Json = Record<string, unknown>;
interface Refusal {
  id: string;
  fields: string[];
}

/** One post per html vector with the vector in every field that takes it, and one per url vector. */
function jsonPosts(): Json[] {
  const urls = corpus.url;
  return [
    ...corpus.html.map((v, i) => ({
      id: `h${i}`,
      title: v,
      // Text before the vector keeps the post from being refused for showing nothing (a vector alone often sanitizes
      // to nothing, which is refused, harmlessly): the vector stays in the page for the browser to parse.
      content: `<p>Vector h${i}:</p>${v}`,
      summary: v,
      categories: [v],
      authors: [{ name: v, url: urls[i % urls.length] }],
      link: urls[(i + 1) % urls.length],
    })),
    ...urls.map((v, i) => ({ id: `u${i}`, title: `URL vector ${i}`, content: `<p><a href="${escapeHtml(v)}">link</a></p>`, link: v, authors: [{ name: 'A', url: v }] })),
  ];
}

const yamlString = (s: string) => JSON.stringify(s);

/** Jekyll files: each html vector as the title, tag, author, summary and Markdown body; each markdown vector as a body. */
function jekyllFiles(): Json[] {
  const file = (name: string, front: Record<string, string | string[]>, body: string) => ({
    file: `2024-01-01-${name}.md`,
    jekyll: `---\n${Object.entries(front).map(([k, v]) => `${k}: ${Array.isArray(v) ? `[${v.map(yamlString).join(', ')}]` : yamlString(v)}`).join('\n')}\n---\n${body}\n`,
  });
  return [
    ...corpus.html.map((v, i) => file(`j${i}`, { title: v, tags: [v], author: v, summary: v }, `Vector j${i}:\n\n${v}`)),
    ...corpus.markdown.map((v, i) => file(`m${i}`, { title: `Markdown vector ${i}` }, `Markdown vector ${i}:\n\n${v}`)),
  ];
}

// What replaces a field that refused a vector (a 400 naming it), so that the vector still goes in every other field.
const PLAIN: Record<string, unknown> = { title: 'Refused title', content: '<p>Refused content</p>', summary: undefined, categories: [], tags: [], authors: [], link: undefined };
// The front matter key each field of the API is read from.
const FRONT_MATTER_KEY: Record<string, string> = { authors: 'author', categories: 'category', tags: 'tags', summary: 'summary', title: 'title' };

function withoutRefused(item: Json, fields: string[]): Json {
  const top = new Set(fields.map((f) => f.split('.')[2]!));
  if (typeof item.jekyll === 'string') {
    const [, front = '', body = ''] = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(item.jekyll) ?? [];
    const dropped = new Set([...top].map((field) => FRONT_MATTER_KEY[field] ?? field));
    const kept = front.split('\n').filter((line) => !dropped.has(line.slice(0, line.indexOf(':'))) && !top.has('front_matter'));
    if (top.has('title') || top.has('front_matter')) kept.unshift('title: Refused title');
    return { ...item, jekyll: `---\n${kept.join('\n')}\n---\n${top.has('content') ? 'Refused body' : body}` };
  }
  const copy: Json = { ...item };
  for (const field of top) {
    if (PLAIN[field] === undefined) delete copy[field];
    else copy[field] = PLAIN[field];
  }
  return copy;
}

let fp: TestFeedpub;
let browser: Browser | undefined;
/** Every category and tag feed the accepted posts are in. */
let refs: FeedRef[] = [];
const accepted: string[] = [];
const refused: Refusal[] = [];
const site: FeedRef = { kind: 'site', name: '' };

async function publish(items: Json[]): Promise<void> {
  for (let start = 0; start < items.length; start += 100) {
    let batch = items.slice(start, start + 100);
    for (let round = 0; round < 3 && batch.length > 0; round++) {
      const response = await fp.api('POST', '/posts/batch', { posts: batch });
      expect(response.status).toBe(200);
      const { results } = (await response.json()) as { results: { id?: string; status: number; error?: { issues?: { field: string }[] } }[] };
      const retry: Json[] = [];
      results.forEach((result, i) => {
        if (result.status < 300) return void accepted.push(result.id!);
        expect(result.status).toBe(400);
        const fields = (result.error?.issues ?? []).map((issue) => issue.field);
        refused.push({ id: String(batch[i]!.id ?? batch[i]!.file), fields });
        retry.push(withoutRefused(batch[i]!, fields));
      });
      batch = retry;
    }
    expect(batch).toEqual([]);
  }
}

async function until(ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  fp = await startTestFeedpub({ FEEDPUB_FEED_ITEMS: '500' });
  await publish([...jsonPosts(), ...jekyllFiles()]);
  // Every post in the site feed, every post page written, the directory listing the last feeds.
  await until(async () => {
    const response = await fetch(`${fp.url}/feeds/feed.json`);
    return response.status === 200 && ((await response.json()) as { items: unknown[] }).items.length === accepted.length;
  }, 60_000);
  await until(async () => (await Promise.all(accepted.map(async (id) => (await fetch(`${fp.url}/posts/${id}.html`, { method: 'HEAD' })).status))).every((s) => s === 200), 60_000);
  const stored = await Promise.all(accepted.map(async (id) => (await (await fp.api('GET', `/posts/${id}`)).json()) as { categories: string[]; tags: string[] }));
  refs = stored.flatMap((p) => [...p.categories.map((name) => ({ kind: 'category' as const, name })), ...p.tags.map((name) => ({ kind: 'tag' as const, name }))]);
  // The directory knows them all (its pages list every feed with posts), and its page is written.
  const ids = new Set(refs.map((ref) => feedId(ref)));
  await until(async () => {
    const listed = new Set((await fp.regeneration.state.listFeeds()).filter((f) => f.count > 0).map((f) => f.feedId));
    return [...ids].every((id) => listed.has(id)) && (await fetch(`${fp.url}/feeds/index.html`, { method: 'HEAD' })).status === 200;
  }, 20_000);
  if (haveChromium) browser = await launchOffline(CHROMIUM);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fp?.stop();
});

describe('the corpus, published', () => {
  it('goes into every field: each vector is stored in some post, and most fields take most vectors', () => {
    const expected = corpus.html.length * 2 + corpus.markdown.length + corpus.url.length;
    expect(accepted).toHaveLength(expected);
    // Refusals are 400s naming the field (harmless); they must not be what keeps the vectors out of the pages.
    const refusedIn = (field: string) => refused.filter((r) => r.fields.some((f) => f.split('.')[2] === field)).length;
    expect(refusedIn('content')).toBe(0);
    for (const field of ['title', 'summary']) expect(refusedIn(field), field).toBeLessThan(corpus.html.length / 10);
    for (const field of ['categories', 'tags', 'authors']) expect(refusedIn(field), field).toBeLessThan(corpus.html.length / 2);
  });
});

const modes = [
  ['as served, with its Content-Security-Policy', false],
  ['with the CSP bypassed: the sanitizer alone', true],
] as const;

describe.skipIf(!haveChromium)('in Chromium', () => {
  const checked = (problems: string[]) => async (page: Page, url: string) => {
    problems.push(...(await inertnessProblems(page)).map((p) => `${url}: ${p}`));
  };

  // Once, as served: with the CSP on, whatever the sanitizer let through would either run (a dialog, a request) or be
  // refused by the CSP, which the trap reports too; the browser's own parse of each page is checked as well.
  it('runs nothing and loads nothing from any post page', async () => {
    const trap = await Trap.open(browser!, { bypassCSP: false });
    const problems: string[] = [];
    await trap.visit(accepted.map((id) => `${fp.url}/posts/${id}.html`), checked(problems), { settleMs: 100 });
    await trap.close();
    expect([...trap.events, ...problems]).toEqual([]);
  }, 120_000);

  it.each(modes)('runs nothing and loads nothing from the directory page and the feeds, %s', async (_, bypassCSP) => {
    const trap = await Trap.open(browser!, { bypassCSP });
    const problems: string[] = [];
    const feeds = Object.values(feedUrls(site, fp.url));
    await trap.visit([`${fp.url}/feeds/index.html`, ...feeds, `${fp.url}/feeds/opml.xml`], checked(problems), { settleMs: 500 });
    await trap.close();
    expect([...trap.events, ...problems]).toEqual([]);
  }, 60_000);

  it('runs nothing when a web feed reader shows the items of each format, HTML where the format says HTML', async () => {
    const pages: Record<string, string> = {};
    for (const format of ['rss', 'atom', 'json'] as const) {
      const body = await (await fetch(feedUrls(site, fp.url)[format])).text();
      pages[`https://reader.example/${format}`] = readerPage(format, body);
    }
    const trap = await Trap.open(browser!, { bypassCSP: true, pages });
    const problems: string[] = [];
    await trap.visit(Object.keys(pages), checked(problems), { settleMs: 1000 });
    await trap.close();
    expect([...trap.events, ...problems]).toEqual([]);
  }, 60_000);

  it('stops a script that got into a page anyway, by the CSP alone (and the trap sees one that runs)', async () => {
    const url = `${fp.url}/posts/${accepted[0]}.html`;
    const inject = async (bypassCSP: boolean) => {
      const trap = await Trap.open(browser!, { bypassCSP });
      await trap.context.route(url, async (route) => {
        const response = await route.fetch();
        const body = (await response.text()).replace('</h1>', '</h1><script>alert("injected")</script><img src=x onerror="alert(\'handler\')">');
        await route.fulfill({ response, body });
      });
      await trap.visit([url], async () => undefined, { settleMs: 300 });
      await trap.close();
      return trap.events;
    };
    const served = await inject(false);
    expect(served.filter((e) => e.includes('dialog'))).toEqual([]);
    expect(served.filter((e) => e.startsWith('CSP refused')).length).toBeGreaterThanOrEqual(2);
    const bypassed = await inject(true);
    expect(bypassed.filter((e) => e.includes('dialog'))).toEqual([expect.stringContaining('"injected"'), expect.stringContaining('"handler"')]);
  }, 60_000);
});

describe('what is served', () => {
  it('serves every page and feed with the Content-Security-Policy and the other security headers', async () => {
    const urls = [`${fp.url}/posts/${accepted[0]}.html`, `${fp.url}/feeds/index.html`, `${fp.url}/feeds/`, `${fp.url}/feeds/opml.xml`, ...Object.values(feedUrls(site, fp.url))];
    for (const url of urls) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY);
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers.get(name), `${url} ${name}`).toBe(value);
      const etag = response.headers.get('etag')!;
      const again = await fetch(url, { headers: { 'if-none-match': etag } });
      expect(again.status, url).toBe(304);
      expect(again.headers.get('content-security-policy'), url).toBe(CONTENT_SECURITY_POLICY);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'none'");
  });

  it('keeps every feed valid: the site feed by every validator, each category and tag feed well-formed and by its schema', async () => {
    for (const format of ['rss', 'atom', 'json'] as const) {
      const body = await (await fetch(feedUrls(site, fp.url)[format])).text();
      expect(feedProblems(format, body).filter((p) => !TEXT_LOOKS_LIKE_HTML.test(p))).toEqual([]);
    }
    expect(refs.length).toBeGreaterThan(corpus.html.length);
    for (const ref of refs) {
      const dir = feedDirectory(ref, encodeURIComponent);
      const [rss, atom, feed] = await Promise.all(['rss.xml', 'atom.xml', 'feed.json'].map(async (file) => (await fetch(`${fp.url}/${dir}/${file}`)).text()));
      assertWellFormedXml(rss!);
      assertWellFormedXml(atom!);
      expect((JSON.parse(feed!) as { title: string }).title).toContain(ref.name);
    }
  });
});

// A title or text that merely looks like markup is text (escaped in every format); the W3C validator's lint warns
// about it because some readers render RSS titles as HTML. The reader test above shows it as text.
const TEXT_LOOKS_LIKE_HTML = /HTML in the title/;

type Anyish = Record<string, any>;

/**
 * The items of a feed as a web reader shows them: what the format declares HTML (RSS description and
 * content:encoded, Atom text constructs of type html, JSON Feed content_html) inserted as HTML, the rest as text.
 */
function readerPage(format: 'rss' | 'atom' | 'json', body: string): string {
  const { feed } = parseFeed(body) as { feed: Anyish };
  const text = (s: unknown) => escapeHtml(String(s ?? ''));
  const atomText = (t: Anyish | undefined) => (t?.type === 'html' || t?.type === 'xhtml' ? String(t.value ?? '') : text(t?.value));
  const link = (href: unknown) => `<a href="${text(href)}">link</a>`;
  const items: string[] =
    format === 'rss'
      ? (feed.items ?? []).map((i: Anyish) => `<h2>${text(i.title)}</h2>${link(i.link)}<div>${i.description ?? ''}</div><div>${i.content?.encoded ?? ''}</div><p>${(i.categories ?? []).map((c: Anyish) => text(c.name)).join(', ')}</p><p>${text([i.dc?.creator, ...(i.dc?.creators ?? [])].filter(Boolean).join(', '))}</p>`)
      : format === 'atom'
        ? (feed.entries ?? []).map(
            (e: Anyish) =>
              `<h2>${atomText(e.title)}</h2>${(e.links ?? []).map((l: Anyish) => link(l.href)).join('')}<div>${atomText(e.summary)}</div><div>${atomText(e.content)}</div><p>${(e.categories ?? []).map((c: Anyish) => text(c.label ?? c.term)).join(', ')}</p><p>${(e.authors ?? []).map((a: Anyish) => `${text(a.name)} ${link(a.uri)}`).join('')}</p>`,
          )
        : (feed.items ?? []).map(
            (i: Anyish) =>
              `<h2>${text(i.title)}</h2>${link(i.url)}<p>${text(i.summary)}</p><div>${i.content_html ?? ''}</div><p>${(i.tags ?? []).map(text).join(', ')}</p><p>${(i.authors ?? []).map((a: Anyish) => `${text(a.name)} ${link(a.url)}`).join('')}</p>`,
          );
  return `<!doctype html><html><head><meta charset="utf-8"><title>reader</title></head><body>${items.map((i) => `<article>${i}</article>`).join('\n')}</body></html>`;
}
