import { describe, expect, it } from 'vitest';
import { UnreadablePost, ValidationError } from '../../lib/errors.js';
import { parseJekyllPost, postIdFromFileName, type JekyllOptions } from '../../lib/posts/jekyll.js';
import { parseJekyllConfig } from '../../lib/posts/jekyll-config.js';
import { POST_ID_PATTERN } from '../../lib/posts/post.js';

const options = { timeZone: 'Asia/Shanghai', siteUrl: 'https://finews.example.com' };
const post = (frontMatter: string, body = 'Body') => `---\n${frontMatter}\n---\n\n${body}`;

function refusal(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a refusal');
}

describe('parseJekyllPost', () => {
  it('reads a date without offset in the site zone, and one with an offset as written', () => {
    expect(parseJekyllPost(post('title: a\ndate: 2021-12-08 10:21:26'), options).date?.toISOString()).toBe('2021-12-08T02:21:26.000Z');
    expect(parseJekyllPost(post('title: a\ndate: 2021-12-08 10:21:26 +0800'), options).date?.toISOString()).toBe('2021-12-08T02:21:26.000Z');
    expect(parseJekyllPost(post('title: a\ndate: 2021-12-08 10:21:26 -0500'), options).date?.toISOString()).toBe('2021-12-08T15:21:26.000Z');
    expect(parseJekyllPost(post('title: a\ndate: 2021-12-08'), options).date?.toISOString()).toBe('2021-12-07T16:00:00.000Z');
  });

  it('refuses a date that is only an offset, as Jekyll does', () => {
    const issues = refusal(() => parseJekyllPost(post('title: a\ndate:  +0800'), options));
    expect(issues).toEqual([expect.objectContaining({ field: 'date', rule: 'jekyll_date' })]);
  });

  it('takes the date and slug from the file name when the front matter has no date', () => {
    const draft = parseJekyllPost(post('title: a'), { ...options, fileName: '_posts/2021-12-01-init.md' });
    expect(draft.slug).toBe('init');
    expect(draft.date?.toISOString()).toBe('2021-11-30T16:00:00.000Z');
  });

  it('refuses a file name Jekyll does not read as a post', () => {
    const issues = refusal(() => parseJekyllPost(post('title: a\ndate: 2021-12-08 10:00:00'), { ...options, fileName: '-202205262391921712.md' }));
    expect(issues[0]).toMatchObject({ field: 'file_name', rule: 'jekyll_post_name' });
  });

  it('refuses a blank line before the front matter, and a file without front matter, saying why', () => {
    expect(() => parseJekyllPost(`\n${post('title: a')}`, options)).toThrow(UnreadablePost);
    expect(refusal(() => parseJekyllPost(`\n${post('title: a')}`, options))[0]).toMatchObject({ field: 'front_matter', rule: 'first_line' });
    expect(refusal(() => parseJekyllPost('Just text', options))[0]).toMatchObject({ field: 'front_matter', rule: 'required' });
  });

  it('reads categories and tags as a space-separated string or a list', () => {
    expect(parseJekyllPost(post('title: a\ncategories: emnews sitenews\ntags: 东财滚动新闻'), options)).toMatchObject({
      categories: ['emnews', 'sitenews'],
      tags: ['东财滚动新闻'],
    });
    expect(parseJekyllPost(post('title: a\ncategories: [emnews, "Reuters (China)"]\ntags:\n  - x\n  - y'), options)).toMatchObject({
      categories: ['emnews', 'Reuters (China)'],
      tags: ['x', 'y'],
    });
    expect(parseJekyllPost(post('title: a\ncategory: one'), options).categories).toEqual(['one']);
  });

  it('keeps quoted titles with CJK punctuation exactly, and reports an empty title', () => {
    expect(parseJekyllPost(post('title: "“新”《规》｜Paramount+涨5%。"'), options).title).toBe('“新”《规》｜Paramount+涨5%。');
    expect(refusal(() => parseJekyllPost(post('title: ""'), options))[0]).toMatchObject({ field: 'title', rule: 'too_small' });
  });

  it('renders Markdown, keeps raw HTML, and makes relative and protocol-relative links absolute', () => {
    const draft = parseJekyllPost(post('title: a\nlink: //finews.example.com/emnews/1.html', '> quote\n\n<p><span>raw</span></p>\n\n[返回](../emnews/)'), options);
    expect(draft.content).toContain('<blockquote>');
    expect(draft.content).toContain('<p><span>raw</span></p>');
    expect(draft.link).toBe('https://finews.example.com/emnews/1.html');
  });

  it('refuses a post marked published: false', () => {
    expect(refusal(() => parseJekyllPost(post('title: a\npublished: false'), options))[0]).toMatchObject({ field: 'published' });
  });
});

describe('parseJekyllPost with Unicode and spaced file names', () => {
  it('reads the post and gives it the stable id of its name', () => {
    const draft = parseJekyllPost(post('title: 离岸人民币升值\ndate: 2021-12-08 10:21:26'), { ...options, fileName: '2021-12-08-离岸人民币升值.md' });
    expect(draft.postId).toBe(postIdFromFileName('2021-12-08-离岸人民币升值.md'));
    expect(draft.postId).toMatch(POST_ID_PATTERN);
    expect(draft.slug).toBe(draft.postId);
  });

  it('keeps the id of a name that already is one', () => {
    expect(parseJekyllPost(post('title: a'), { ...options, fileName: '2021-12-08-202112082206672930.md' }).postId).toBe('202112082206672930');
  });

  it("titles a post without a title from its slug, as Jekyll's titleize_slug does", () => {
    expect(parseJekyllPost(post('date: 2021-12-08'), { ...options, fileName: '2021-12-08-hello world-again.md' }).title).toBe('Hello world Again');
  });
});

describe('parseJekyllPost: categories and tags as Jekyll merges them', () => {
  it('takes categories from the folders above _posts, then categories, then category', () => {
    const draft = parseJekyllPost(post('title: a\ncategories: emnews sitenews\ncategory: Reuters (China)'), { ...options, fileName: 'news/_posts/2021-12-08-a.md' });
    expect(draft.categories).toEqual(['news', 'emnews', 'sitenews', 'Reuters (China)']);
  });

  it('takes a singular tag whole, before tags', () => {
    expect(parseJekyllPost(post('title: a\ntag: 东财 滚动\ntags: x y'), options).tags).toEqual(['东财 滚动']);
  });
});

describe('parseJekyllPost: whether Jekyll publishes the post now', () => {
  const now = new Date('2021-12-08T07:00:00Z'); // 15:00 in Shanghai
  const at = (frontMatter: string, extra: Partial<JekyllOptions> = {}) =>
    parseJekyllPost(post(`title: a\n${frontMatter}`), { ...options, fileName: '2021-12-08-a.md', now, ...extra });

  it('publishes a post dated now or earlier, and schedules a later one', () => {
    expect(at('date: 2021-12-08 15:00:00').publish).toBe('now');
    expect(at('date: 2021-12-08 14:59:59.999').publish).toBe('now');
    expect(at('date: 2021-12-08 15:00:01').publish).toBe('scheduled');
    expect(at('date: 2021-12-09').publish).toBe('scheduled');
  });

  it('publishes a later post now when the site sets future: true', () => {
    expect(at('date: 2021-12-09', { site: parseJekyllConfig('future: true').settings }).publish).toBe('now');
  });

  it('reports published: false, no and empty as a draft when asked to, and refuses them otherwise', () => {
    for (const value of ['false', 'no', 'Off', '']) {
      expect(at(`date: 2021-12-09\npublished: ${value}`, { onUnpublished: 'report' }).publish).toBe('draft');
      expect(refusal(() => at(`published: ${value}`))[0]).toMatchObject({ field: 'published', rule: 'published' });
    }
  });

  it('publishes published: "false" (a string, as Ruby reads it) and published: true', () => {
    expect(at('published: "false"').publish).toBe('now');
    expect(at('published: true').publish).toBe('now');
  });

  it('publishes an unpublished post when the site sets unpublished: true', () => {
    expect(at('published: false', { site: parseJekyllConfig('unpublished: true').settings }).publish).toBe('now');
  });
});

describe('parseJekyllPost in a site', () => {
  const site = parseJekyllConfig('url: https://finews.withounder.com\ntimezone: Asia/Shanghai').settings;
  const inSite = (frontMatter: string, fileName = '_posts/2021-12-08-hello world.md') =>
    parseJekyllPost(post(`title: a\n${frontMatter}`), { timeZone: 'UTC', siteUrl: 'http://unused.example', fileName, site });

  it("reads dates in the site's zone rather than the caller's", () => {
    expect(inSite('date: 2021-12-08 10:21:26').date?.toISOString()).toBe('2021-12-08T02:21:26.000Z');
  });

  it('links the post to where the site publishes it, unless it has its own link', () => {
    expect(inSite('date: 2021-12-08 10:21:26\ncategories: emnews').link).toBe('https://finews.withounder.com/emnews/2021/12/08/hello-world.html');
    const own = inSite('date: 2021-12-08 10:21:26\nlink: /emnews/1.html');
    expect(own.link).toBe('https://finews.withounder.com/emnews/1.html');
    expect(own.url).toBe('https://finews.withounder.com/2021/12/08/hello-world.html');
  });

  it("follows the post's own permalink and slug for its URL, never for its id", () => {
    const draft = inSite('date: 2021-12-08 10:21:26\nslug: Renamed\npermalink: /:categories/:title/', '_posts/2021-12-08-a.md');
    expect(draft.url).toBe('https://finews.withounder.com/Renamed/');
    expect(draft.postId).toBe('a');
  });

  it('gives no URL without a site url', () => {
    expect(parseJekyllPost(post('title: a'), { ...options, fileName: '2021-12-08-a.md' }).url).toBeUndefined();
  });
});
