import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { importPosts, type ImportReport } from '../../lib/import/importer.js';
import { countingWrites } from '../support/faults.js';
import { fetchFeedFile, fetchFeedHeads, fetchFeedSet, readFeed, titles, waitForFeedSet } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { feedProblems } from '../support/validators.js';

// The reference site: its _config.yml beside its _posts (FEEDPUB_CORPUS_DIR names the _posts folder).
const POSTS = resolve(process.env.FEEDPUB_CORPUS_DIR ?? join(import.meta.dirname, '../../../shared/corpus/finews/_posts'));
const SITE = resolve(POSTS, '..');
const present = existsSync(join(SITE, '_config.yml'));
if (!present && process.env.CI) throw new Error(`The finews site is missing at ${SITE}`);

const FEEDS = [
  'feeds',
  feedDirectory({ kind: 'category', name: 'emnews' }, encodeURIComponent),
  feedDirectory({ kind: 'category', name: 'sitenews' }, encodeURIComponent),
  feedDirectory({ kind: 'tag', name: '东财滚动新闻' }, encodeURIComponent),
  feedDirectory({ kind: 'tag', name: '站长消息' }, encodeURIComponent),
];
const FILES = { rss: 'rss.xml', atom: 'atom.xml', json: 'feed.json' } as const;
const CLI = join(import.meta.dirname, '../../bin/feedpub.js');

/** The site's settings, read here from its _config.yml line by line: what the feeds must say. */
const config = present ? readFileSync(join(SITE, '_config.yml'), 'utf8') : '';
const setting = (key: string) => new RegExp(`^${key}:\\s*(.+?)\\s*$`, 'm').exec(config)?.[1] ?? '';

/**
 * The date Jekyll gives a post, worked out here without feedpub's code: the front matter's `date` (else the file
 * name's), its offset when it has one, otherwise the site's `timezone`.
 */
function jekyllDate(file: string, zone: string): string {
  const text = readFileSync(file, 'utf8');
  const written = /^date:\s*(.*?)\s*$/m.exec(text.slice(0, text.indexOf('\n---', 3)))?.[1] || basename(file).slice(0, 10);
  const [, day, time = '00:00:00', offset] = /^(\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}:\d{2}))?(?: ([+-]\d{4}))?$/.exec(written)!;
  const at = offset
    ? DateTime.fromFormat(`${day} ${time} ${offset}`, 'yyyy-MM-dd HH:mm:ss ZZZ', { setZone: true })
    : DateTime.fromFormat(`${day} ${time}`, 'yyyy-MM-dd HH:mm:ss', { zone });
  return at.toUTC().toISO()!;
}

const idOf = (file: string) => basename(file).replace(/^\d{4}-\d{2}-\d{2}-|\.md$/g, '');

/** `feedpub …` as a user runs it, in a process of its own (the stack it talks to runs in this one: not spawnSync). */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: '', FEEDPUB_TIMEZONE: '', FEEDPUB_SITE_URL: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

describe.skipIf(!present)('feedpub import of the finews site, as Jekyll reads it', () => {
  let fp: TestFeedpub;
  let writes: ReturnType<typeof countingWrites>;
  let first: ImportReport;
  const work = mkdtempSync(join(tmpdir(), 'feedpub-import-'));

  beforeAll(async () => {
    // The server's own defaults say nothing of the site: UTC, English, another title and URL.
    fp = await startTestFeedpub({}, { wrapClients: ({ doc, s3 }) => ((writes = countingWrites(s3)), { doc, s3: writes.client }) });
    first = await importPosts(SITE, { api: fp.url, key: fp.key });
    // The import returns once its hold's release has published every feed it touched, and the directory.
    const feeds = [...FEEDS.flatMap((dir) => Object.values(FILES).map((file) => `${decodeURIComponent(dir)}/${file}`)), 'feeds/index.html', 'feeds/opml.xml'];
    expect(feeds.filter((key) => !writes.puts.has(key))).toEqual([]);
    // Post pages have a lane of their own, and follow.
    const pages = first.created.map((file) => `posts/${idOf(file)}.html`);
    const deadline = Date.now() + 30_000;
    while (pages.some((key) => !writes.puts.has(key)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pages.filter((key) => !writes.puts.has(key))).toEqual([]);
  }, 120_000);
  afterAll(async () => {
    await fp?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('imports every post Jekyll publishes, and says why for each file it does not', () => {
    expect(first.files).toBe(150);
    expect(first.created).toHaveLength(148);
    expect(first.failed.map((f) => [basename(f.file), f.reason])).toEqual([
      ['-202205262391921712.md', expect.stringMatching(/^file_name: .*Jekyll does not read it as a post; date: '\+0800' is not a valid date/)],
      ['2021-12-08-202112082206703990.md', expect.stringMatching(/^front_matter: must start on the first line/)],
    ]);
    expect(first.site).toEqual({
      description: "took timezone Asia/Shanghai, title, url, lang zh-CN, author from _config.yml; permalink date (Jekyll's default)",
      settings: 'stored',
      timeZone: { zone: 'Asia/Shanghai', from: 'timezone in _config.yml' },
    });
  });

  it("gives every post the date Jekyll gives it under the site's timezone, though the server runs in UTC", async () => {
    const zone = setting('timezone');
    expect(zone).toBe('Asia/Shanghai');
    const stored = await Promise.all(first.created.map(async (file) => [file, ((await (await fp.api('GET', `/posts/${idOf(file)}`)).json()) as { date: string }).date] as const));
    const wrong = stored.filter(([file, date]) => date !== jekyllDate(file, zone));
    expect(wrong).toEqual([]);
    // The 145 dates written without an offset are 8 hours before the clock time they show.
    expect(stored.find(([file]) => file.endsWith('2021-12-08-202112082206672930.md'))![1]).toBe('2021-12-08T02:46:18.000Z');
  });

  it('gives the feeds the title, home page, language and author of _config.yml', async () => {
    const [title, url, lang, author] = ['title', 'url', 'lang', 'author'].map(setting);
    for (const dir of FEEDS) {
      const heads = await fetchFeedHeads(fp.url, dir);
      for (const [format, head] of Object.entries(heads)) {
        expect(head.title === title || head.title.startsWith(`${title} · `), `${dir} ${format}: ${head.title}`).toBe(true);
        expect(head, `${dir} ${format}`).toMatchObject({ link: `${url}/`, language: lang });
        if (format !== 'rss') expect(head.author).toBe(author);
      }
    }
    expect(await (await fetch(`${fp.url}/`)).text()).toContain(`<title>${title}</title>`);
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

  it("links each item to the post's address on the Jekyll site (its permalink), and gives it a page that links back to its feeds", async () => {
    const newest = JSON.parse((await fetchFeedFile(fp.url, FEEDS[1]!, 'json')).body).items[0];
    const id = String(newest.id).split(':').pop()!;
    // Jekyll's default permalink, `date`: /:categories/:year/:month/:day/:title.html, the day in the site's zone.
    const day = DateTime.fromISO(jekyllDate(join(POSTS, `2021-12-08-${id}.md`), setting('timezone')), { zone: setting('timezone') }).toFormat('yyyy/MM/dd');
    expect(newest.url).toBe(`${setting('url')}/emnews/${day}/${id}.html`);
    const response = await fetch(`${fp.url}/posts/${id}.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain(`<h1>${newest.title}</h1>`);
    expect(html).toContain('<html lang="zh-CN">');
    expect(html).toContain('href="https://news.example.com/feeds/categories/emnews/rss.xml"');
    expect(html).toContain('<link rel="alternate" type="application/atom+xml"');
    expect(html).not.toMatch(/<script/i);
  });

  it('changes nothing when the same site is imported again: no setting, no post, no S3 write, no ETag', async () => {
    const etags = await Promise.all(FEEDS.map(async (dir) => (await fetchFeedFile(fp.url, dir, 'rss')).headers.get('etag')));
    const putsBefore = [...writes.puts.values()].reduce((a, b) => a + b, 0);
    const again = await importPosts(POSTS, { api: fp.url, key: fp.key });
    expect([again.created.length, again.updated.length, again.unchanged.length, again.failed.length]).toEqual([0, 0, 148, 2]);
    expect(again.site.settings).toBe('unchanged');
    await new Promise((r) => setTimeout(r, 1_500));
    expect([...writes.puts.values()].reduce((a, b) => a + b, 0)).toBe(putsBefore);
    expect(await Promise.all(FEEDS.map(async (dir) => (await fetchFeedFile(fp.url, dir, 'rss')).headers.get('etag')))).toEqual(etags);
  });

  it('updates the post of an edited file, keeping its id and date and moving its updated date', async () => {
    const newest = JSON.parse((await fetchFeedFile(fp.url, FEEDS[1]!, 'json')).body).items[0];
    const id = String(newest.id).split(':').pop()!;
    const name = `2021-12-08-${id}.md`;
    const file = join(work, name);
    cpSync(join(POSTS, name), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, 'title: "更新后的标题（编辑）"'));
    const before = (await (await fp.api('GET', `/posts/${id}`)).json()) as any;
    // A loose file, outside the site: its date is read in the zone the site's settings now have on the API.
    const report = await importPosts([file], { api: fp.url, key: fp.key });
    expect(report.updated).toEqual([file]);
    expect(report.site).toMatchObject({ settings: 'none', timeZone: { zone: 'Asia/Shanghai', from: "the site's settings on the API" } });
    const after = (await (await fp.api('GET', `/posts/${id}`)).json()) as any;
    expect(after).toMatchObject({ id, date: before.date, title: '更新后的标题（编辑）' });
    expect(after.updated > before.updated).toBe(true);
    // The import returned once the feed was published: it shows the edit now.
    const feeds = await waitForFeedSet(fp.url, FEEDS[1]!, (f) => f.items[0]?.title === '更新后的标题（编辑）', Date.now());
    expect(feeds.atom.items[0]!.id).toBe(newest.id);
  });

  it('goes on when connections to the API are reset: each request the import sends is tried again', async () => {
    const newest = JSON.parse((await fetchFeedFile(fp.url, FEEDS[2]!, 'json')).body).items[0];
    const id = String(newest.id).split(':').pop()!;
    const name = readdirSync(POSTS).find((f) => f.endsWith(`-${id}.md`))!;
    const file = join(work, name);
    cpSync(join(POSTS, name), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, 'title: "连接重置后的标题"'));
    // Fault injection: the first request to each of the API's paths the import uses fails as a reset connection
    // fails in Node's fetch (undici: TypeError "fetch failed", caused by ECONNRESET).
    const real = globalThis.fetch;
    const failed = new Set<string>();
    globalThis.fetch = async (input, init) => {
      const path = new URL(String(input)).pathname.replace(/^\/regeneration\/holds.*/, '/regeneration/holds');
      if (String(input).startsWith(fp.url) && !failed.has(path)) {
        failed.add(path);
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
      }
      return real(input, init);
    };
    let report: ImportReport;
    try {
      report = await importPosts([file], { api: fp.url, key: fp.key });
    } finally {
      globalThis.fetch = real;
    }
    expect([...failed].sort()).toEqual(['/posts/batch', '/regeneration/holds', '/site']);
    expect(report.updated).toEqual([file]);
    const feeds = await waitForFeedSet(fp.url, FEEDS[2]!, (f) => f.items[0]?.title === '连接重置后的标题', Date.now());
    expect(feeds.json.items[0]!.id).toBe(newest.id);
    // The post as the site has it again (imported from the site), for the tests after this one that import its files.
    expect((await importPosts([join(POSTS, name)], { api: fp.url, key: fp.key })).updated).toEqual([join(POSTS, name)]);
  });

  describe('a copy of the site with the posts the reference lacks', () => {
    const site = join(work, 'finews');
    const future = DateTime.now().setZone('Asia/Shanghai').plus({ days: 2 }).startOf('second');
    const extra: Record<string, string> = {
      '2021-12-08-离岸人民币升值.md': '---\ntitle: "离岸人民币升值"\ndate: 2021-12-08 16:05:00\ncategories: emnews\ntags: 东财滚动新闻\n---\n\n离岸人民币升值。\n',
      '2021-12-08-hello world.md': '---\ntitle: "Hello world"\ndate: 2021-12-08 16:06:00\ncategories: emnews\n---\n\nSpaced name.\n',
      [`${future.toFormat('yyyy-MM-dd')}-embargoed.md`]: `---\ntitle: "禁发至周末"\ndate: ${future.toFormat('yyyy-MM-dd HH:mm:ss')}\ncategories: emnews\n---\n\nEmbargoed.\n`,
      '2021-12-08-draft.md': '---\ntitle: "草稿"\npublished: false\ncategories: emnews\n---\n\nNot for readers.\n',
      // The same story twice: ids come from names without their dates.
      '2021-12-07-repeat.md': '---\ntitle: "Repeat, first"\ncategories: emnews\n---\n\nFirst.\n',
      '2021-12-08-repeat.md': '---\ntitle: "Repeat, second"\ncategories: emnews\n---\n\nSecond.\n',
    };
    let dry: ImportReport;
    let real: ImportReport;
    const byName = (report: ImportReport) => {
      const of = (files: string[]) => files.map((f) => basename(f));
      return { imported: of([...report.valid, ...report.created, ...report.updated, ...report.unchanged]).sort(), drafts: of(report.drafts), scheduled: of(report.scheduled), failed: report.failed.map((f) => [basename(f.file), f.reason]) };
    };

    beforeAll(async () => {
      cpSync(SITE, site, { recursive: true });
      for (const [name, text] of Object.entries(extra)) writeFileSync(join(site, '_posts', name), text);
      dry = await importPosts(site, { api: fp.url, key: fp.key, dryRun: true });
      real = await importPosts(site, { api: fp.url, key: fp.key });
    }, 120_000);

    it('reads every file the same in a dry run and a real one: imported, drafts, scheduled, refused and why', () => {
      expect(byName(real)).toEqual(byName(dry));
      expect(readdirSync(join(site, '_posts'))).toHaveLength(156);
      expect(real.created.map((f) => basename(f)).sort()).toEqual(['2021-12-08-hello world.md', '2021-12-08-repeat.md', '2021-12-08-离岸人民币升值.md', `${future.toFormat('yyyy-MM-dd')}-embargoed.md`]);
      expect(real.unchanged).toHaveLength(147);
      expect(byName(real).drafts).toEqual(['2021-12-08-draft.md']);
      expect(real.sameId).toEqual([{ id: 'repeat', files: ['_posts/2021-12-07-repeat.md', '_posts/2021-12-08-repeat.md'] }]);
      expect(byName(real).failed).toContainEqual(['2021-12-07-repeat.md', expect.stringMatching(/^same_id: .*'repeat'.*_posts\/2021-12-08-repeat\.md/)]);
    });

    it('gives posts with Chinese or spaced names stable, URL-safe ids', async () => {
      const list = (await (await fp.api('GET', '/posts?category=emnews&limit=100')).json()) as { posts: { id: string; title: string; date: string }[] };
      const chinese = list.posts.find((p) => p.title === '离岸人民币升值')!;
      const spaced = list.posts.find((p) => p.title === 'Hello world')!;
      expect(chinese.id).toMatch(/^p-[0-9a-f]{8}$/);
      expect(spaced.id).toMatch(/^hello-world-[0-9a-f]{8}$/);
      expect(chinese.date).toBe(jekyllDate(join(site, '_posts', '2021-12-08-离岸人民币升值.md'), 'Asia/Shanghai'));
      for (const id of [chinese.id, spaced.id]) expect((await fetch(`${fp.url}/posts/${id}.html`)).status).toBe(200);
      // Imported again: the same ids, nothing changed.
      const again = await importPosts(site, { api: fp.url, key: fp.key });
      expect([again.created.length, again.updated.length]).toEqual([0, 0]);
      const titlesNow = titles(readFeed('atom', (await fetchFeedFile(fp.url, FEEDS[1]!, 'atom')).body));
      expect(titlesNow.filter((t) => t === '离岸人民币升值' || t === 'Hello world')).toHaveLength(2);
    });

    it('schedules a future-dated post for its date, and leaves out a post with published: false', async () => {
      const embargoed = (await (await fp.api('GET', '/posts/embargoed')).json()) as { status?: string; date: string };
      expect(embargoed).toMatchObject({ status: 'scheduled', date: future.toUTC().toISO() });
      expect((await fp.api('GET', '/posts/draft')).status).toBe(404);
      const shown = await fetchFeedSet(fp.url, FEEDS[1]!);
      for (const feed of Object.values(shown!)) expect(titles(feed).filter((t) => t === '禁发至周末' || t === '草稿')).toEqual([]);
      // Of two files with one id, the newer is the post.
      expect(((await (await fp.api('GET', '/posts/repeat')).json()) as { title: string }).title).toBe('Repeat, second');
    });
  });

  describe('as a command', () => {
    it('says what it took from the site, then what became of each file, and returns once the feeds are published', async () => {
      const run = await cli('import', '--api', fp.url, '--key', fp.key, SITE);
      expect(run.status).toBe(1); // two files of the reference site are no posts
      expect(run.stdout).toContain("Site: took timezone Asia/Shanghai, title, url, lang zh-CN, author from _config.yml; permalink date (Jekyll's default); already the site's settings");
      expect(run.stdout).toContain('Dates without an offset are read in Asia/Shanghai (timezone in _config.yml)');
      expect(run.stdout).toMatch(/Imported 148 of 150 files in [\d.]+ s .*0 created, 0 updated, 148 unchanged, 2 failed/);
      expect(run.stdout).toMatch(/Every feed published [\d.]+ s after the start/);
      expect(run.stdout).toContain('2021-12-08-202112082206703990.md: front_matter: must start on the first line');
    });

    it('checks a site with --dry-run and says the same of it, drafts and scheduled posts included', async () => {
      const site = join(work, 'finews');
      const dry = await cli('import', '--dry-run', site);
      const real = await cli('import', '--api', fp.url, '--key', fp.key, site);
      expect(dry.stdout).toMatch(/Checked 156 files in [\d.]+ s: 152 would import, 3 failed; 1 scheduled for their dates \(dated after now\), 1 draft left out \(published: false\)/);
      expect(real.stdout).toMatch(/Imported 152 of 156 files .*: 0 created, 0 updated, 152 unchanged, 3 failed; 1 scheduled for their dates \(dated after now\), 1 draft left out \(published: false\)/);
      const failures = (out: string) => out.slice(out.indexOf('Failed:'));
      expect(failures(real.stdout)).toBe(failures(dry.stdout));
      expect(dry.stdout).toContain("Same id 'repeat': _posts/2021-12-07-repeat.md, _posts/2021-12-08-repeat.md; only _posts/2021-12-08-repeat.md is imported");
    });

    it('reads loose files with --timezone in a real import, and keeps the stored settings with --keep-settings', async () => {
      const loose = join(work, 'loose');
      mkdirSync(loose);
      writeFileSync(join(loose, '2021-12-09-tokyo.md'), '---\ntitle: "東京"\ndate: 2021-12-09 09:00:00\ncategories: cli\n---\n\nTokyo.\n');
      const run = await cli('import', '--api', fp.url, '--key', fp.key, '--timezone', 'Asia/Tokyo', loose);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('Dates without an offset are read in Asia/Tokyo (given)');
      expect(((await (await fp.api('GET', '/posts/tokyo')).json()) as { date: string }).date).toBe('2021-12-09T00:00:00.000Z');

      const other = join(work, 'other');
      mkdirSync(join(other, '_posts'), { recursive: true });
      writeFileSync(join(other, '_config.yml'), 'title: Another site\nlang: fr\n');
      writeFileSync(join(other, '_posts', '2021-12-10-autre.md'), '---\ntitle: "Autre"\ncategories: cli\n---\n\nAutre.\n');
      const kept = await cli('import', '--api', fp.url, '--key', fp.key, '--keep-settings', other);
      expect(kept.status).toBe(0);
      expect(kept.stdout).toContain("Site: took title, lang fr from _config.yml; no timezone: dates without an offset are read in the importer's zone; permalink date (Jekyll's default); not stored (--keep-settings)");
      expect(((await (await fp.api('GET', '/site')).json()) as { settings: { title: string } }).settings.title).toBe('金融消息');
    });

    it('returns at once with --no-wait, and refuses a path that is not there', async () => {
      const file = join(work, '2021-12-09-cli-no-wait.md');
      writeFileSync(file, '---\ntitle: "命令行不等待"\ndate: 2021-12-09 08:00:00\ncategories: cli\n---\n\n命令行不等待\n');
      const noWait = await cli('import', '--api', fp.url, '--key', fp.key, '--no-wait', file);
      expect(noWait.status).toBe(0);
      expect(noWait.stdout).toContain('Not waiting for the feeds (--no-wait)');
      const missing = await cli('import', '--api', fp.url, '--key', fp.key, join(work, 'nowhere'));
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/^feedpub import: .*nowhere' does not exist/);
    });
  });
});
