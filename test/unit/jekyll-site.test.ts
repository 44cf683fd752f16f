import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.js';
import { InvalidSiteConfig, JEKYLL_DEFAULTS, parseJekyllConfig } from '../../lib/posts/jekyll-config.js';
import { postIdFromFileName } from '../../lib/posts/jekyll-path.js';
import { permalinkPath, permalinkTemplate, type PermalinkPost } from '../../lib/posts/jekyll-permalink.js';
import { POST_ID_PATTERN } from '../../lib/posts/post.js';

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a refusal');
}

describe('postIdFromFileName', () => {
  const sha8 = (slug: string) => createHash('sha256').update(slug, 'utf8').digest('hex').slice(0, 8);

  it('keeps a slug that is already a post id, so earlier imports keep their ids', () => {
    expect(postIdFromFileName('2021-12-08-202112082206672930.md')).toBe('202112082206672930');
    expect(postIdFromFileName('_posts/2021-12-01-init.md')).toBe('init');
  });

  it('gives Unicode and spaced slugs a readable part and a digest of the slug', () => {
    expect(postIdFromFileName('2021-12-08-离岸人民币升值.md')).toBe(`p-${sha8('离岸人民币升值')}`);
    expect(postIdFromFileName('2021-12-08-hello world.md')).toBe(`hello-world-${sha8('hello world')}`);
    expect(postIdFromFileName('2021-12-08-Ünïcödé.md')).toBe(`Unicode-${sha8('Ünïcödé')}`);
  });

  it('gives ids that are valid, distinct for distinct slugs, and the same on every call', () => {
    const names = ['离岸人民币升值', '离岸人民币贬值', 'hello world', 'hello  world', 'Hello world', 'Ünïcödé', 'Unicode', '', '东财 滚动'];
    const ids = names.map((slug) => postIdFromFileName(`2021-12-08-${slug}.md`));
    for (const id of ids) expect(id).toMatch(POST_ID_PATTERN);
    expect(new Set(ids).size).toBe(names.length);
    expect(names.map((slug) => postIdFromFileName(`2021-12-08-${slug}.md`))).toEqual(ids);
  });

  it('gives a decomposed name (as macOS may store it) the id of the composed one', () => {
    expect(postIdFromFileName('2021-12-08-Ünïcödé.md'.normalize('NFD'))).toBe(postIdFromFileName('2021-12-08-Ünïcödé.md'.normalize('NFC')));
  });

  it('keeps the readable part to 60 characters and the id within the pattern', () => {
    const id = postIdFromFileName(`2021-12-08-${'long title '.repeat(20)}.md`);
    expect(id).toMatch(/^long-title-[a-z-]+-[0-9a-f]{8}$/);
    expect(id.length).toBeLessThanOrEqual(69);
  });

  it('refuses a name Jekyll does not read as a post', () => {
    expect(issuesOf(() => postIdFromFileName('-202205262391921712.md'))[0]).toMatchObject({ field: 'file_name', rule: 'jekyll_post_name' });
  });
});

// Expected paths are those of https://jekyllrb.com/docs/permalinks/ (built-in formats, placeholders) and of the
// 2009-04-29-slap-chop example of its earlier versions.
describe('permalinks', () => {
  const slapChop: PermalinkPost = {
    date: new Date('2009-04-29T10:00:00Z'),
    timeZone: 'UTC',
    slug: 'slap-chop',
    relativePath: '_posts/2009-04-29-slap-chop.md',
    categories: [],
    outputExt: '.html',
  };
  const path = (permalink: string, post: Partial<PermalinkPost> = {}) => permalinkPath(permalinkTemplate(permalink), { ...slapChop, ...post });

  it('follows the built-in styles', () => {
    expect(path('date')).toBe('/2009/04/29/slap-chop.html');
    expect(path('pretty')).toBe('/2009/04/29/slap-chop/');
    expect(path('none')).toBe('/slap-chop.html');
    expect(path('ordinal')).toBe('/2009/119/slap-chop.html');
    expect(path('weekdate')).toBe('/2009/W18/Wed/slap-chop.html');
  });

  it('fills custom templates', () => {
    expect(path('/:month-:day-:year/:title.html')).toBe('/04-29-2009/slap-chop.html');
    expect(path('/blog/:year/:month/:day/:title/')).toBe('/blog/2009/04/29/slap-chop/');
    expect(path('/:short_year/:i_month/:i_day/:hour:minute:second/:slug:output_ext', { date: new Date('2009-04-09T08:05:03Z') })).toBe('/09/4/9/080503/slap-chop.html');
    expect(path('/:year_:month/:short_month/:long_month/:long_day/:w_day/:w_year/:collection/:name')).toBe('/2009_04/Apr/April/Wednesday/3/2009/posts/2009-04-29-slap-chop');
  });

  it('puts categories in the path as a lower-cased hierarchy, escaped, each once', () => {
    const post = { categories: ['emnews', 'Reuters (China)', 'EMNEWS'] };
    expect(path('date', post)).toBe('/emnews/reuters%20(china)/2009/04/29/slap-chop.html');
    expect(path('/:slugified_categories/:title/', post)).toBe('/emnews/reuters-china/slap-chop/');
  });

  it('keeps the case and Unicode of :title, percent-encoded; :slug is lower case', () => {
    const post = { slug: 'Ünïcödé Title' };
    expect(path('none', post)).toBe(`/${encodeURIComponent('Ünïcödé')}-Title.html`);
    expect(path('/:slug/', post)).toBe(`/${encodeURIComponent('ünïcödé')}-title/`);
    expect(path('pretty', { slug: '离岸人民币升值', categories: ['东财'] })).toBe(`/${encodeURIComponent('东财')}/2009/04/29/${encodeURIComponent('离岸人民币升值')}/`);
  });

  it('reads the date in the site zone', () => {
    const lateInNewYork = { date: new Date('2021-12-09T04:30:00Z') };
    expect(path('date', { ...lateInNewYork, timeZone: 'Asia/Shanghai' })).toBe('/2021/12/09/slap-chop.html');
    expect(path('date', { ...lateInNewYork, timeZone: 'America/New_York' })).toBe('/2021/12/08/slap-chop.html');
  });

  it('refuses a placeholder Jekyll does not have', () => {
    expect(issuesOf(() => path('/:tags/:title/'))[0]).toMatchObject({ field: 'permalink', rule: 'jekyll_placeholder' });
    expect(issuesOf(() => path('/:constructor/:title/'))[0]).toMatchObject({ field: 'permalink', rule: 'jekyll_placeholder' });
    expect(issuesOf(() => parseJekyllConfig('permalink: /:tags/:title/'))[0]).toMatchObject({ field: 'permalink', rule: 'jekyll_placeholder' });
  });
});

describe('parseJekyllConfig', () => {
  it('reads YAML as Ruby does: yes/no/on/off are booleans, a quoted "no" is a true string', () => {
    expect(parseJekyllConfig('future: yes').settings.future).toBe(true);
    expect(parseJekyllConfig('future: Off').settings.future).toBe(false);
    expect(parseJekyllConfig('future: "no"').settings.future).toBe(true);
    expect(parseJekyllConfig('').settings).toEqual(JEKYLL_DEFAULTS);
  });

  it('takes lang, or locale as a language tag, and an author mapping', () => {
    expect(parseJekyllConfig('locale: en_US').settings.lang).toBe('en-US');
    expect(parseJekyllConfig('locale: en_US').taken).toEqual([{ key: 'locale', value: 'en-US' }]);
    expect(parseJekyllConfig('lang: zh-CN\nlocale: en_US').settings.lang).toBe('zh-CN');
    expect(parseJekyllConfig('author:\n  name: ZNing\n  email: z@example.com\n  uri: https://example.com').settings.author).toEqual({
      name: 'ZNing',
      email: 'z@example.com',
      url: 'https://example.com',
    });
  });

  it("takes the posts collection's own permalink over the site's", () => {
    const { settings } = parseJekyllConfig('permalink: pretty\ncollections:\n  posts:\n    permalink: /news/:title:output_ext');
    expect(settings.permalink).toBe('pretty');
    expect(settings.postPermalink).toBe('/news/:title:output_ext');
  });

  it('refuses what Jekyll could not use, naming each setting and rule', () => {
    const issues = issuesOf(() => parseJekyllConfig('timezone: Asia/Shangai\nurl: finews.withounder.com\ntitle: [a, b]\nauthor:\n  email: x@example.com'));
    expect(issues.map((i) => [i.field, i.rule])).toEqual([
      ['timezone', 'iana_time_zone'],
      ['title', 'string'],
      ['url', 'absolute_url'],
      ['author', 'jekyll_author'],
    ]);
    expect(() => parseJekyllConfig('- a\n- b')).toThrow(InvalidSiteConfig);
    expect(issuesOf(() => parseJekyllConfig('title: [unclosed'))[0]).toMatchObject({ field: '_config.yml', rule: 'yaml' });
  });
});

