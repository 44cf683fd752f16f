import { describe, expect, it } from 'vitest';
import { UnreadablePost, ValidationError } from '../../lib/errors.js';
import { parseJekyllPost } from '../../lib/posts/jekyll.js';

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
