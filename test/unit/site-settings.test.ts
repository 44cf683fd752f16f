import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { itemId } from '../../lib/feeds/render.js';
import { applySettings, parseSiteSettings, sameSettings, type StoredSettings } from '../../lib/site/settings.js';
import { CachedSiteSource } from '../../lib/site/site-source.js';
import { testSite } from '../support/site-fixture.js';

const stored = (version: number, settings: StoredSettings['settings']): StoredSettings => ({ settings, version, changedAt: '2026-01-01T00:00:00.000Z' });

describe('site settings', () => {
  it('are checked field by field, naming the field and the rule', () => {
    try {
      parseSiteSettings({ title: '', url: 'ftp://x', language: 'Chinese', timeZone: 'Mars/Olympus', colour: 'red' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).issues.map((i) => i.field).sort()).toEqual(['colour', 'language', 'timeZone', 'title', 'url']);
      expect((error as ValidationError).issues.find((i) => i.field === 'colour')!.rule).toBe('unknown_field');
    }
    expect(parseSiteSettings({ url: 'https://finews.withounder.com/', title: ' 金融消息 ' })).toEqual({ title: '金融消息', url: 'https://finews.withounder.com' });
  });

  it('go over the deployment defaults, field by field; the author follows a new title unless the deployment names one', () => {
    const base = { ...testSite(), author: testSite().title };
    const site = applySettings(base, stored(3, { title: '金融消息', url: 'https://finews.withounder.com', language: 'zh-CN', timeZone: 'Asia/Shanghai' }));
    expect(site).toMatchObject({ title: '金融消息', url: 'https://finews.withounder.com', language: 'zh-CN', timeZone: 'Asia/Shanghai', author: '金融消息', settingsVersion: 3 });
    expect(site.feedsUrl).toBe(base.feedsUrl);
    expect(applySettings({ ...base, author: 'Desk' }, stored(1, { title: 'T' })).author).toBe('Desk');
    expect(applySettings(base, undefined)).toBe(base);
  });

  it('never rename items: the tag URI keeps the deployment host when the stored URL changes', () => {
    const base = { ...testSite(), idHost: 'finews.example.com' };
    const moved = applySettings(base, stored(2, { url: 'https://news.other.example' }));
    expect(itemId({ id: 'p1' }, moved)).toBe(itemId({ id: 'p1' }, base));
  });

  it('compare equal whatever the order of their fields', () => {
    expect(sameSettings({ title: 'a', url: 'https://x.example' }, { url: 'https://x.example', title: 'a' })).toBe(true);
    expect(sameSettings({ title: 'a' }, {})).toBe(false);
  });
});

describe('the cached site source', () => {
  const source = (versions: (StoredSettings | undefined)[]) => {
    let clock = 0;
    let reads = 0;
    const store = { get: async () => versions[Math.min(reads++, versions.length - 1)] };
    return { site: new CachedSiteSource(testSite(), store, 1_000, () => clock), reads: () => reads, advance: (ms: number) => (clock += ms) };
  };

  it('reads the settings at most once per second, however many renders ask, and shares a read in flight', async () => {
    const s = source([stored(1, { title: 'one' }), stored(2, { title: 'two' })]);
    const first = await Promise.all(Array.from({ length: 20 }, () => s.site.current()));
    expect(new Set(first.map((site) => site.title))).toEqual(new Set(['one']));
    s.advance(999);
    expect((await s.site.current()).title).toBe('one');
    expect(s.reads()).toBe(1);
    s.advance(1);
    expect((await s.site.current()).title).toBe('two');
    expect(s.reads()).toBe(2);
  });

  it('reads at once when asked for a version newer than the cached one (a render told of a change)', async () => {
    const s = source([stored(1, { title: 'one' }), stored(2, { title: 'two' })]);
    await s.site.current();
    expect((await s.site.current(2)).title).toBe('two');
    expect(s.reads()).toBe(2);
  });

  it('uses settings this process stored at once, and an older read answering late never replaces them', async () => {
    let answer: (value: StoredSettings) => void = () => undefined;
    const store = { get: () => new Promise<StoredSettings>((resolve) => (answer = resolve)) };
    const site = new CachedSiteSource(testSite(), store, 1_000, () => 0);
    const late = site.current();
    site.remember(stored(5, { title: 'five' }));
    answer(stored(4, { title: 'four' }));
    expect((await late).title).toBe('four');
    expect((await site.current()).title).toBe('five');
  });

  it('keeps the last settings read when a read fails, unless a newer version is asked for', async () => {
    let fail = false;
    const store = { get: async () => (fail ? Promise.reject(new Error('throttled')) : stored(1, { title: 'one' })) };
    let clock = 0;
    const site = new CachedSiteSource(testSite(), store, 1_000, () => clock);
    await site.current();
    fail = true;
    clock = 5_000;
    expect((await site.current()).title).toBe('one');
    await expect(site.current(2)).rejects.toThrow('throttled');
  });
});
