import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { collectFiles, importPosts, type ImportReport } from '../../lib/import/importer.js';
import { countingWrites } from '../support/faults.js';
import { fetchFeedFile, readFeed, titles, waitForFeedSet } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { feedProblems } from '../support/validators.js';

const CORPUS = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../../shared/corpus/finews/_posts'));
const present = existsSync(CORPUS);
if (!present && process.env.CI) throw new Error(`The finews corpus is missing at ${CORPUS}`);

const FEEDS = [
  'feeds',
  feedDirectory({ kind: 'category', name: 'emnews' }, encodeURIComponent),
  feedDirectory({ kind: 'category', name: 'sitenews' }, encodeURIComponent),
  feedDirectory({ kind: 'tag', name: '东财滚动新闻' }, encodeURIComponent),
  feedDirectory({ kind: 'tag', name: '站长消息' }, encodeURIComponent),
];
const FILES = { rss: 'rss.xml', atom: 'atom.xml', json: 'feed.json' } as const;

describe.skipIf(!present)('feedpub import of the finews corpus', () => {
  let fp: TestFeedpub;
  let writes: ReturnType<typeof countingWrites>;
  let first: ImportReport;
  const work = mkdtempSync(join(tmpdir(), 'feedpub-import-'));

  beforeAll(async () => {
    fp = await startTestFeedpub(
      { FEEDPUB_TIMEZONE: 'Asia/Shanghai', FEEDPUB_SITE_URL: 'https://finews.withounder.com', FEEDPUB_SITE_TITLE: '金融消息', FEEDPUB_SITE_LANGUAGE: 'zh-CN' },
      { wrapClients: ({ doc, s3 }) => ((writes = countingWrites(s3)), { doc, s3: writes.client }) },
    );
    first = await importPosts(collectFiles([CORPUS]), { api: fp.url, key: fp.key });
    // The import returns once its hold's release has published every feed it touched, and the directory.
    const feeds = [...FEEDS.flatMap((dir) => Object.values(FILES).map((file) => `${decodeURIComponent(dir)}/${file}`)), 'feeds/index.html', 'feeds/opml.xml'];
    expect(feeds.filter((key) => !writes.puts.has(key))).toEqual([]);
    // Post pages have a lane of their own, and follow.
    const pages = first.created.map((file) => `posts/${file.split('/').pop()!.replace(/^\d{4}-\d{2}-\d{2}-|\.md$/g, '')}.html`);
    const deadline = Date.now() + 30_000;
    while (pages.some((key) => !writes.puts.has(key)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pages.filter((key) => !writes.puts.has(key))).toEqual([]);
  }, 120_000);
  afterAll(async () => {
    await fp?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('imports every file or reports it with the reason', () => {
    expect(first.files).toBe(150);
    expect(first.created).toHaveLength(148);
    expect(first.failed.map((f) => [f.file.split('/').pop(), f.reason])).toEqual([
      ['-202205262391921712.md', expect.stringMatching(/^file_name: .*Jekyll does not read it as a post; date: '\+0800' is not a valid date/)],
      ['2021-12-08-202112082206703990.md', expect.stringMatching(/^front_matter: must start on the first line/)],
    ]);
  });

  it('produces feeds and archive pages that pass xmllint, the Atom schema, the JSON Feed schema and the W3C validator rules', async () => {
    // The site and the two big feeds have archive pages (148 posts: 50 kept, pages of 50).
    const pages = ['feeds/archive/1', `${FEEDS[1]}/archive/1`, `${FEEDS[3]}/archive/1`];
    for (const dir of [...FEEDS, ...pages]) {
      for (const [format, file] of Object.entries(FILES) as [keyof typeof FILES, string][]) {
        const { status, body } = await fetchFeedFile(fp.url, dir, format);
        expect(status, `${dir}/${file}`).toBe(200);
        expect(feedProblems(format, body), `${dir}/${file}`).toEqual([]);
      }
    }
  });

  it('renders each feed once, when the import releases its hold, and the import returns once they are published', () => {
    for (const dir of FEEDS) {
      for (const file of Object.values(FILES)) {
        const key = `${decodeURIComponent(dir)}/${file}`;
        expect(writes.puts.get(key), key).toBe(1);
      }
    }
    expect(first.publishedMs).toBeGreaterThanOrEqual(first.elapsedMs);
  });

  it('gives items without a link a page that links back to their feeds', async () => {
    const newest = JSON.parse((await fetchFeedFile(fp.url, FEEDS[1]!, 'json')).body).items[0];
    const id = String(newest.id).split(':').pop()!;
    expect(newest.url).toBe(`https://finews.withounder.com/posts/${id}.html`);
    const response = await fetch(`${fp.url}/posts/${id}.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain(`<h1>${newest.title}</h1>`);
    expect(html).toContain('href="https://finews.withounder.com/feeds/categories/emnews/rss.xml"');
    expect(html).toContain('<link rel="alternate" type="application/atom+xml"');
    expect(html).not.toMatch(/<script/i);
  });

  it('changes nothing when the same folder is imported again: no post, no S3 write, no ETag', async () => {
    const etags = await Promise.all(FEEDS.map(async (dir) => (await fetchFeedFile(fp.url, dir, 'rss')).headers.get('etag')));
    const putsBefore = [...writes.puts.values()].reduce((a, b) => a + b, 0);
    const again = await importPosts(collectFiles([CORPUS]), { api: fp.url, key: fp.key });
    expect([again.created.length, again.updated.length, again.unchanged.length, again.failed.length]).toEqual([0, 0, 148, 2]);
    await new Promise((r) => setTimeout(r, 500));
    expect([...writes.puts.values()].reduce((a, b) => a + b, 0)).toBe(putsBefore);
    expect(await Promise.all(FEEDS.map(async (dir) => (await fetchFeedFile(fp.url, dir, 'rss')).headers.get('etag')))).toEqual(etags);
  });

  it('updates the post of an edited file, keeping its id and date and moving its updated date', async () => {
    const newest = JSON.parse((await fetchFeedFile(fp.url, FEEDS[1]!, 'json')).body).items[0];
    const id = String(newest.id).split(':').pop()!;
    const name = `2021-12-08-${id}.md`;
    const file = join(work, name);
    cpSync(join(CORPUS, name), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, 'title: "更新后的标题（编辑）"'));
    const before = (await (await fp.api('GET', `/posts/${id}`)).json()) as any;
    const report = await importPosts([file], { api: fp.url, key: fp.key });
    expect(report.updated).toEqual([file]);
    const after = (await (await fp.api('GET', `/posts/${id}`)).json()) as any;
    expect(after).toMatchObject({ id, date: before.date, title: '更新后的标题（编辑）' });
    expect(after.updated > before.updated).toBe(true);
    // The import returned once the feed was published: it shows the edit now.
    const feeds = await waitForFeedSet(fp.url, FEEDS[1]!, (f) => f.items[0]?.title === '更新后的标题（编辑）', Date.now());
    expect(feeds.atom.items[0]!.id).toBe(newest.id);
  });

  it('runs as a command that returns once the feeds are published, or at once with --no-wait', async () => {
    // Not spawnSync: the stack the command talks to runs in this process.
    const run = (name: string, title: string, ...flags: string[]) => {
      const file = join(work, name);
      writeFileSync(file, `---\ntitle: "${title}"\ndate: 2021-12-09 08:00:00\ncategories: cli\n---\n\n${title}\n`);
      return new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [join(import.meta.dirname, '../../bin/feedpub.js'), 'import', '--api', fp.url, '--key', fp.key, ...flags, file], { env: { ...process.env, CI: '' } });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.on('exit', (status) => resolve({ status, stdout }));
      });
    };
    const waited = await run('2021-12-09-cli-waits.md', '命令行等待发布');
    expect(waited.status).toBe(0);
    expect(waited.stdout).toMatch(/Imported 1 of 1 files in [\d.]+ s .*1 created/);
    expect(waited.stdout).toMatch(/Every feed published [\d.]+ s after the start/);
    // The feed shows it the moment the command has returned.
    expect(titles(readFeed('atom', (await fetchFeedFile(fp.url, 'feeds/categories/cli', 'atom')).body))).toEqual(['命令行等待发布']);
    const noWait = await run('2021-12-09-cli-no-wait.md', '命令行不等待', '--no-wait');
    expect(noWait.status).toBe(0);
    expect(noWait.stdout).toContain('Not waiting for the feeds (--no-wait)');
  });

  it('runs as a command: --dry-run reports the two unreadable files and exits non-zero', () => {
    const cli = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/feedpub.js'), 'import', '--dry-run', '--timezone', 'Asia/Shanghai', CORPUS], {
      encoding: 'utf8',
      env: { ...process.env, CI: '' },
    });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain('Checked 150 files');
    expect(cli.stdout).toContain('148 would import, 2 failed');
    expect(cli.stdout).toContain('2021-12-08-202112082206703990.md: front_matter: must start on the first line');
  });
});
