import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { postBatches, readFiles } from '../../lib/import/importer.js';
import { readJekyllSite, type JekyllPostFile } from '../../lib/posts/jekyll-site.js';
import type { ReadFile } from '../../lib/import/site-posts.js';

const post = (i: number): ReadFile => ({ kind: 'post', file: { path: `/p/${i}`, relativePath: `_posts/2021-01-01-p${i}.md` } as JekyllPostFile, id: `p${i}`, json: `{"id":"p${i}"}`, scheduled: false });

/** `count` read files, each taking `busyMs` of CPU to read, counting how many were read. */
function slowFiles(count: number, busyMs = 0) {
  const state = { read: 0 };
  const files = (function* () {
    for (let i = 0; i < count; i++) {
      const until = performance.now() + busyMs;
      while (performance.now() < until);
      state.read++;
      yield i % 10 === 9 ? ({ kind: 'draft', file: post(i).file } as ReadFile) : post(i);
    }
  })();
  return { files, state };
}

describe("the importer's reading of a site", () => {
  it('hands out the first batch once it is read, not once the whole site is', async () => {
    const { files, state } = slowFiles(1000);
    const others: string[] = [];
    const source = postBatches(files, 50, (r) => others.push(r.file.path));
    const first = await source.next();
    expect((first.value as unknown[]).length).toBe(50);
    // 50 posts and the 5 drafts among them: the rest of the site is not read yet.
    expect(state.read).toBe(55);
    expect(others).toHaveLength(5);
    let posts = 50;
    for await (const group of source) posts += group.length;
    expect(posts).toBe(900);
    expect(others).toHaveLength(100);
  });

  it('gives the event loop a turn while it reads, rather than holding it for the whole site', async () => {
    // 200 files of 1 ms each (180 posts, 20 drafts): 200 ms of reading for one batch, of at most 1,000.
    const { files, state } = slowFiles(200, 1);
    const readWhenOtherWorkRan: number[] = [];
    const ticker = setInterval(() => readWhenOtherWorkRan.push(state.read), 1);
    try {
      const source = postBatches(files, 1000, () => undefined);
      await source.next();
    } finally {
      clearInterval(ticker);
    }
    // Other work ran while files were still being read (about every 10 ms of reading).
    expect(readWhenOtherWorkRan.filter((n) => n > 0 && n < 200).length).toBeGreaterThanOrEqual(5);
  });

  describe('reading the files of a site', () => {
    let dir: string;
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    const context = { settings: readJekyllSite([]).settings, timeZone: 'UTC', siteUrl: 'https://x.example', now: new Date('2030-01-01T00:00:00Z') };

    it('settles files whose names give the same id before the first is read: the last that is a post is imported', () => {
      dir = mkdtempSync(join(tmpdir(), 'feedpub-import-read-'));
      write('_posts/2020-01-01-update.md', '---\ntitle: first\n---\nx');
      write('_posts/2020-06-01-other.md', '---\ntitle: other\n---\nx');
      write('_posts/2021-01-01-update.md', '---\ntitle: second\n---\nx');
      write('_posts/2022-01-01-update.md', '---\ntitle: draft\npublished: false\n---\nx');
      const site = readJekyllSite(dir);
      const { read, sameId } = readFiles(site, context);
      expect(sameId).toEqual([{ id: 'update', files: ['_posts/2020-01-01-update.md', '_posts/2021-01-01-update.md'] }]);
      const all = [...read];
      expect(all.map((r) => [r.file.relativePath, r.kind])).toEqual([
        ['_posts/2020-01-01-update.md', 'refused'],
        ['_posts/2020-06-01-other.md', 'post'],
        ['_posts/2021-01-01-update.md', 'post'],
        ['_posts/2022-01-01-update.md', 'draft'],
      ]);
      expect(all[0]).toMatchObject({ reason: expect.stringMatching(/^same_id: .*_posts\/2021-01-01-update\.md/) });
    });

    it('a file that cannot be read fails alone, and the reading goes on', () => {
      dir = mkdtempSync(join(tmpdir(), 'feedpub-import-read-'));
      write('_posts/2020-01-01-gone.md', '---\ntitle: gone\n---\nx');
      write('_posts/2020-06-01-kept.md', '---\ntitle: kept\n---\nx');
      const site = readJekyllSite(dir);
      rmSync(join(dir, '_posts/2020-01-01-gone.md'));
      const all = [...readFiles(site, context).read];
      expect(all.map((r) => [r.file.relativePath, r.kind])).toEqual([
        ['_posts/2020-01-01-gone.md', 'refused'],
        ['_posts/2020-06-01-kept.md', 'post'],
      ]);
      expect(all[0]).toMatchObject({ reason: 'file: could not be read (ENOENT)' });
    });
  });
});
