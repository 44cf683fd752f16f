import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShardProgress } from '../../lib/local/event-source.js';
import { readJekyllSite } from '../../lib/posts/jekyll-site.js';

describe("a local lane's position in a shard", () => {
  it('is the last record of the done prefix, whatever order the records are done in', () => {
    const progress = new ShardProgress();
    for (const seq of ['1', '2', '3', '4']) progress.read(seq, seq === '2');
    expect(progress.advance()).toBeUndefined();
    progress.done('3');
    expect(progress.advance()).toBeUndefined();
    progress.done('1');
    expect(progress.advance()).toBe('3');
    expect(progress.settled).toBe(false);
    progress.done('4');
    expect(progress.advance()).toBe('4');
    expect(progress.settled).toBe(true);
    progress.read('5', false);
    expect(progress.settled).toBe(false);
  });

  // A large import's stream: its first record done last, after every other. Shifting the prefix off one record at a
  // time moved the whole array each time (24 s for a few hundred thousand records, with the event loop held).
  it('passes a prefix of 600,000 records done at once in one step', () => {
    const progress = new ShardProgress();
    const n = 600_000;
    for (let i = 0; i < n; i++) progress.read(String(i), i > 0);
    expect(progress.advance()).toBeUndefined();
    progress.read(String(n), false);
    progress.done('0');
    expect(progress.advance()).toBe(String(n - 1));
    expect(progress.settled).toBe(false);
    progress.done(String(n));
    expect(progress.advance()).toBe(String(n));
    expect(progress.settled).toBe(true);
  });
});

describe('an import given every post file by name', () => {
  // As a shell's glob gives them (`feedpub import _posts/*.md`): each file's folder was looked for among every
  // file's, 19 s for 20,000.
  // (15 s: the files' own listing and stat calls take a few seconds on a slow machine; the quadratic search, 20 s.)
  it('lists 20,000 files in time linear in their number', { timeout: 15_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'feedpub-many-files-'));
    try {
      mkdirSync(join(dir, '_posts'));
      const paths = Array.from({ length: 20_000 }, (_, i) => join(dir, '_posts', `2021-01-01-p${i}.md`));
      for (const path of paths) writeFileSync(path, '');
      const site = readJekyllSite(paths);
      expect(site.files).toHaveLength(20_000);
      expect(site.files[0]).toMatchObject({ relativePath: '_posts/2021-01-01-p0.md', id: 'p0' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
