import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UnreadablePost, ValidationError } from '../../lib/errors.js';
import { parseJekyllPost } from '../../lib/posts/jekyll.js';
import {
  describeSite,
  InvalidSiteConfig,
  JEKYLL_DEFAULTS,
  parseJekyllConfig,
  permalinkPath,
  permalinkTemplate,
  postIdFromFileName,
  readJekyllSite,
  type PermalinkPost,
} from '../../lib/posts/jekyll-site.js';
import { POST_ID_PATTERN } from '../../lib/posts/post.js';

const FINEWS = '/work/shared/corpus/finews';

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a refusal');
}

describe('readJekyllSite on the finews corpus', () => {
  const fromSite = readJekyllSite(FINEWS);
  const fromPosts = readJekyllSite(join(FINEWS, '_posts'));

  it('takes the settings of _config.yml, with Jekyll defaults for the rest', () => {
    expect(fromSite.root).toBe(FINEWS);
    expect(fromSite.configFile).toBe(join(FINEWS, '_config.yml'));
    expect(fromSite.settings).toMatchObject({
      timeZone: 'Asia/Shanghai',
      title: '金融消息',
      url: 'https://finews.withounder.com',
      baseUrl: '',
      lang: 'zh-CN',
      author: { name: 'ZNing' },
      permalink: 'date',
      future: false,
    });
    expect(fromSite.taken.map((t) => t.key)).toEqual(['timezone', 'title', 'url', 'lang', 'author']);
  });

  it('reads the same site from its _posts folder', () => {
    expect(fromPosts.root).toBe(FINEWS);
    expect(fromPosts.settings).toEqual(fromSite.settings);
    expect(fromPosts.files).toEqual(fromSite.files);
  });

  it('lists all 150 post files, those Jekyll ignores for their names too, with site-relative paths', () => {
    expect(fromSite.files).toHaveLength(150);
    expect(fromSite.files.every((f) => f.relativePath.startsWith('_posts/'))).toBe(true);
    expect(fromSite.files.find((f) => f.relativePath === '_posts/-202205262391921712.md')?.id).toBeUndefined();
    expect(fromSite.files.find((f) => f.relativePath === '_posts/2021-12-01-init.md')?.id).toBe('init');
    expect(fromSite.skipped).toEqual([]);
    expect(fromSite.sameId).toEqual([]);
  });

  it('says what it took for the importer', () => {
    expect(describeSite(fromSite)).toBe("took timezone Asia/Shanghai, title, url, lang zh-CN, author from _config.yml; permalink date (Jekyll's default)");
  });
});

describe('every finews post, read as Jekyll reads it under Asia/Shanghai', () => {
  const site = readJekyllSite(FINEWS);
  const read = (relativePath: string) => {
    const file = site.files.find((f) => f.relativePath === relativePath)!;
    return parseJekyllPost(readFileSync(file.path, 'utf8'), { timeZone: 'UTC', siteUrl: 'http://unused.example', fileName: file.relativePath, site: site.settings });
  };

  // Independent of the code under test: the date line's digits, minus the 8 hours of UTC+8 (written or not).
  function expectedInstant(text: string): string | undefined {
    const m = /^date:\s*(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?: \+0800)?\s*$/m.exec(text);
    if (!m) return undefined;
    const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
    return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - 8 * 3600 * 1000).toISOString();
  }

  const refused = ['_posts/-202205262391921712.md', '_posts/2021-12-08-202112082206703990.md'];
  const readable = site.files.filter((f) => !refused.includes(f.relativePath));

  it('has 148 posts Jekyll publishes, each with a date line', () => {
    expect(readable).toHaveLength(148);
    expect(readable.every((f) => expectedInstant(readFileSync(f.path, 'utf8')) !== undefined)).toBe(true);
  });

  it.each(readable.map((f) => f.relativePath))('%s gets its date in the site zone', (relativePath) => {
    const text = readFileSync(site.files.find((f) => f.relativePath === relativePath)!.path, 'utf8');
    expect(read(relativePath).date?.toISOString()).toBe(expectedInstant(text));
  });

  it('refuses the file without a date in its name, saying so and why its date is no date', () => {
    const issues = issuesOf(() => read('_posts/-202205262391921712.md'));
    expect(issues).toEqual([
      expect.objectContaining({ field: 'file_name', rule: 'jekyll_post_name' }),
      expect.objectContaining({ field: 'date', rule: 'jekyll_date' }),
    ]);
  });

  it('refuses the file with a blank line before its front matter', () => {
    expect(() => read('_posts/2021-12-08-202112082206703990.md')).toThrow(UnreadablePost);
    expect(issuesOf(() => read('_posts/2021-12-08-202112082206703990.md'))).toEqual([expect.objectContaining({ field: 'front_matter', rule: 'first_line' })]);
  });

  it('gives each post the URL Jekyll publishes it at with permalink: date', () => {
    expect(read('_posts/2021-12-01-init.md').url).toBe('https://finews.withounder.com/sitenews/2021/12/01/init.html');
    expect(read('_posts/2021-12-08-202112082206672930.md').link).toBe('https://finews.withounder.com/emnews/2021/12/08/202112082206672930.html');
  });
});

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

  it('gives posts in a site the absolute URL, with baseurl, for any style', () => {
    const { settings } = parseJekyllConfig('url: https://example.com/\nbaseurl: blog/\ntimezone: Asia/Shanghai\npermalink: pretty');
    const post = parseJekyllPost('---\ntitle: t\ndate: 2021-12-08 10:00:00\ncategories: [News, 东财]\n---\nBody', {
      timeZone: 'UTC',
      siteUrl: 'http://unused.example',
      fileName: '_posts/2021-12-08-离岸人民币 升值.md',
      site: settings,
    });
    expect(post.url).toBe(`https://example.com/blog/news/${encodeURIComponent('东财')}/2021/12/08/${encodeURIComponent('离岸人民币-升值')}/`);
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

describe('readJekyllSite on a site on disk', () => {
  let dir: string;
  const write = (path: string, text = '---\ntitle: t\n---\nBody') => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every _posts folder as Jekyll does, and leaves out what Jekyll leaves out', () => {
    dir = mkdtempSync(join(tmpdir(), 'feedpub-jekyll-'));
    write('_config.yml', 'title: Site\n');
    for (const path of [
      '_posts/2021-12-08-a.md',
      '_posts/2021/2021-12-09-b.markdown',
      'news/_posts/2021-12-10-c.html',
      '_posts/.hidden.md',
      '_posts/_partial.md',
      '_posts/2021-12-08-a.md~',
      '_posts/.git/2021-12-08-x.md',
      '_drafts/2021-12-08-draft.md',
      '_site/_posts/2021-12-08-built.md',
      'node_modules/pkg/_posts/2021-12-08-dep.md',
    ]) {
      write(path);
    }
    write('_posts/2021-12-08-photo.jpg', 'binary');

    const site = readJekyllSite(dir);
    expect(site.files.map((f) => f.relativePath)).toEqual(['_posts/2021-12-08-a.md', '_posts/2021/2021-12-09-b.markdown', 'news/_posts/2021-12-10-c.html']);
    expect(site.skipped).toEqual([expect.objectContaining({ path: join(dir, '_posts/2021-12-08-photo.jpg') })]);
    const news = site.files[2]!;
    expect(parseJekyllPost('---\ntitle: t\ncategories: world\n---\n<p>x</p>', { timeZone: 'UTC', siteUrl: 'https://x.example', fileName: news.relativePath }).categories).toEqual(['news', 'world']);
  });

  it('reports file names that give the same id', () => {
    dir = mkdtempSync(join(tmpdir(), 'feedpub-jekyll-'));
    write('_posts/2020-01-01-update.md');
    write('_posts/2021-01-01-update.md');
    expect(readJekyllSite(dir).sameId).toEqual([{ id: 'update', files: ['_posts/2020-01-01-update.md', '_posts/2021-01-01-update.md'] }]);
  });

  it('reads a site without _config.yml with the defaults, and a folder that is no site as loose posts', () => {
    dir = mkdtempSync(join(tmpdir(), 'feedpub-jekyll-'));
    write('site/_posts/2021-12-08-a.md');
    write('loose/2021-12-08-b.md');
    expect(readJekyllSite(join(dir, 'site'))).toMatchObject({ root: join(dir, 'site'), settings: JEKYLL_DEFAULTS, taken: [] });
    const loose = readJekyllSite(join(dir, 'loose'));
    expect(loose.root).toBeUndefined();
    expect(loose.files).toEqual([{ path: join(dir, 'loose/2021-12-08-b.md'), relativePath: '2021-12-08-b.md', id: 'b' }]);
  });

  it('refuses paths of two sites, and a path that does not exist', () => {
    dir = mkdtempSync(join(tmpdir(), 'feedpub-jekyll-'));
    write('one/_config.yml', 'title: One');
    write('two/_config.yml', 'title: Two');
    expect(issuesOf(() => readJekyllSite([join(dir, 'one'), join(dir, 'two')]))[0]).toMatchObject({ field: 'path', rule: 'one_site' });
    expect(issuesOf(() => readJekyllSite(join(dir, 'three')))[0]).toMatchObject({ field: 'path', rule: 'exists' });
  });
});
