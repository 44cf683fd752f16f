import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapSettled } from '../../lib/concurrency.js';
import { feedDirectory, SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { fetchFeedSet } from '../support/feeds.js';
import { converge, walkArchive } from '../support/scratch.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

// Real posts of the reference site (../shared/corpus/finews). Kept outside the repository; CI has them.
const CORPUS = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../../shared/corpus/finews/_posts'));
const present = existsSync(CORPUS);
if (!present && process.env.CI) throw new Error(`The finews corpus is missing at ${CORPUS}`);

interface Expected {
  file: string;
  id: string;
  title: string;
  /** UTC, read independently of feedpub: the site's zone is Asia/Shanghai, UTC+8 all year since 1991. */
  date: string;
  categories: string;
  tags: string;
  text: string;
}

/** A deliberately simple, independent reading of a corpus file: line by line, no YAML library. */
function expectedOf(file: string): Expected {
  const source = readFileSync(join(CORPUS, file), 'utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(source)?.[1]?.trim() ?? '';
  const unquote = (s: string) => s.replace(/^"(.*)"$/, '$1');
  const [day, time = '00:00:00'] = field('date').split(/\s+/);
  const body = source.split(/^---\s*$/m)[2] ?? '';
  const firstParagraph = body.trim().split(/\n\s*\n/)[0]!.replace(/^>\s*/, '').trim();
  return {
    file,
    id: file.replace(/^\d{4}-\d{2}-\d{2}-/, '').replace(/\.md$/, ''),
    title: unquote(field('title')),
    date: new Date(`${day}T${time}+08:00`).toISOString(),
    categories: field('categories'),
    tags: field('tags'),
    text: firstParagraph,
  };
}

describe.skipIf(!present)('the finews corpus through the API as text/markdown', () => {
  let fp: TestFeedpub;
  const files = present ? readdirSync(CORPUS).filter((f) => f.endsWith('.md')).sort() : [];
  const answers = new Map<string, { status: number; body: any }>();

  beforeAll(async () => {
    fp = await startTestFeedpub({ FEEDPUB_TIMEZONE: 'Asia/Shanghai', FEEDPUB_SITE_URL: 'https://finews.withounder.com', FEEDPUB_SITE_TITLE: '金融消息' });
    await mapSettled(files, 8, async (file) => {
      const response = await fp.api('POST', '/posts', readFileSync(join(CORPUS, file)), {
        'content-type': 'text/markdown; charset=utf-8',
        slug: encodeURIComponent(file),
      });
      answers.set(file, { status: response.status, body: await response.json() });
    });
  }, 120_000);
  afterAll(async () => {
    await fp?.stop();
  });

  it('accepts every post Jekyll would read, and rejects the others with the reason', () => {
    expect(files).toHaveLength(150);

    const rejected = Object.fromEntries([...answers].filter(([, a]) => a.status !== 201).map(([file, a]) => [file, a]));
    expect(Object.keys(rejected).sort()).toEqual(['-202205262391921712.md', '2021-12-08-202112082206703990.md']);

    const undated = rejected['-202205262391921712.md']!;
    expect(undated.status).toBe(400);
    expect(undated.body.error.issues).toEqual([
      expect.objectContaining({ field: 'file_name', rule: 'jekyll_post_name' }),
      expect.objectContaining({ field: 'date', rule: 'jekyll_date', message: expect.stringContaining("'+0800' is not a valid date") }),
    ]);
    const blankLine = rejected['2021-12-08-202112082206703990.md']!;
    expect(blankLine.status).toBe(400);
    expect(blankLine.body.error.issues).toEqual([expect.objectContaining({ field: 'front_matter', rule: 'first_line' })]);
  });

  it('stores each accepted post with its id from the file name, its date in Asia/Shanghai, and CJK text byte for byte', async () => {
    for (const file of files) {
      const answer = answers.get(file)!;
      if (answer.status !== 201) continue;
      const expected = expectedOf(file);
      const stored = (await (await fp.api('GET', `/posts/${encodeURIComponent(expected.id)}`)).json()) as any;
      expect(stored.id).toBe(expected.id);
      expect(Buffer.from(stored.title, 'utf8').equals(Buffer.from(expected.title, 'utf8'))).toBe(true);
      expect(stored.date).toBe(expected.date);
      expect(stored.categories).toEqual([expected.categories]);
      expect(stored.tags).toEqual([expected.tags]);
      // Compared as text: "<1%" in Markdown is "&lt;1%" in the HTML.
      const text = stored.content.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      expect(text).toContain(expected.text);
    }
  });

  it('builds every feed the posts are in: each post once across the current document and its archive pages, read alike by two parsers, with its title and date', async () => {
    const accepted = files.filter((f) => answers.get(f)!.status === 201).map(expectedOf);
    const refs: FeedRef[] = [SITE_FEED, { kind: 'category', name: 'emnews' }, { kind: 'category', name: 'sitenews' }, { kind: 'tag', name: '东财滚动新闻' }, { kind: 'tag', name: '站长消息' }];
    // Each feed, walked as a reader walks it, holds each of its stored posts exactly once and renders them as they are.
    expect(await converge(fp.url, refs, fp.config, 10_000)).toEqual([]);
    for (const ref of refs) {
      const documents = (await walkArchive(fp.url, ref, fp.config))!;
      const want = accepted.filter((p) => ref.kind === 'site' || p.categories === ref.name || p.tags === ref.name);
      expect(documents.flatMap((d) => d.ids).sort()).toEqual(want.map((p) => p.id).sort());
      // Every post's title and date as readers read them, in the current document and the newest archive page.
      for (const page of [undefined, ...documents.filter((d) => d.page).map((d) => d.page!)].slice(0, 2)) {
        const dir = `${feedDirectory(ref, encodeURIComponent)}${page ? `/archive/${page}` : ''}`;
        for (const feed of Object.values((await fetchFeedSet(fp.url, dir))!)) {
          for (const item of feed.items) {
            const expected = want.find((p) => item.id.endsWith(`:${p.id}`))!;
            expect([item.title, item.published]).toEqual([expected.title, expected.date]);
          }
        }
      }
    }
  });
});
