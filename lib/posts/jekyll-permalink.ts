import { DateTime } from 'luxon';
import { ValidationError } from '../errors.js';
import { jekyllSlugify } from './jekyll-slugify.js';

// The URL Jekyll publishes a post at, by the rules of Jekyll 4:
// - built-in styles: https://jekyllrb.com/docs/permalinks/#built-in-formats and configuration.rb#style_to_permalink;
// - placeholders: https://jekyllrb.com/docs/permalinks/#placeholders and lib/jekyll/drops/url_drop.rb;
// - substitution, escaping and clean-up: lib/jekyll/url.rb (generate_url_from_drop, escape_path, sanitize_url).

const STYLES: Record<string, string> = {
  date: '/:categories/:year/:month/:day/:title:output_ext',
  pretty: '/:categories/:year/:month/:day/:title/',
  ordinal: '/:categories/:year/:y_day/:title:output_ext',
  weekdate: '/:categories/:year/W:week/:short_day/:title:output_ext',
  none: '/:categories/:title:output_ext',
};

/** The template a `permalink` setting stands for: a built-in style's, or the setting itself. */
export function permalinkTemplate(permalink: string): string {
  return STYLES[permalink] ?? permalink;
}

/** What Jekyll knows of a post when it builds its URL. */
export interface PermalinkPost {
  date: Date;
  /** The site's zone: the date's year, day, hour... are read there, as Jekyll does with `timezone`. */
  timeZone: string;
  /** Front matter `slug`, else the file name's slug. */
  slug: string;
  /** The file's path from the site (its `relative_path`), such as `_posts/2021-12-08-title.md`. */
  relativePath: string;
  /** Front-matter categories after those from the path, as Jekyll merges them. */
  categories: string[];
  /** ".html" for Markdown and HTML, else the file's own extension. */
  outputExt: string;
}

type Placeholders = Record<string, (post: PermalinkPost) => string>;

const inZone = (post: PermalinkPost) => DateTime.fromJSDate(post.date, { zone: post.timeZone }).setLocale('en-US');
const format = (pattern: string) => (post: PermalinkPost) => inZone(post).toFormat(pattern);
const basename = (post: PermalinkPost) => (post.relativePath.split('/').pop() ?? '').replace(/\.[^.]*$/, '');
const unique = (names: string[]) => [...new Set(names)].join('/');

// Ruby strftime -> Luxon: %Y yyyy, %m MM, %d dd, %H HH, %M mm, %S ss, %-d d, %-m M, %b LLL, %B LLLL, %y yy,
// %G kkkk (ISO week year), %V WW (ISO week), %u E (1 = Monday), %a EEE, %A EEEE, %j ooo.
const PLACEHOLDERS: Placeholders = {
  year: format('yyyy'),
  month: format('MM'),
  day: format('dd'),
  hour: format('HH'),
  minute: format('mm'),
  second: format('ss'),
  i_day: format('d'),
  i_month: format('M'),
  short_month: format('LLL'),
  long_month: format('LLLL'),
  short_year: format('yy'),
  w_year: format('kkkk'),
  week: format('WW'),
  w_day: format('E'),
  short_day: format('EEE'),
  long_day: format('EEEE'),
  y_day: format('ooo'),
  title: (post) => jekyllSlugify(post.slug, 'pretty', true),
  slug: (post) => jekyllSlugify(post.slug),
  name: (post) => jekyllSlugify(basename(post)),
  // Categories are only lower-cased, never slugified: "Reuters (China)" is /reuters%20(china)/.
  categories: (post) => unique(post.categories.map((c) => c.toLowerCase())),
  slugified_categories: (post) => unique(post.categories.map((c) => jekyllSlugify(c))),
  collection: () => 'posts',
  path: (post) => post.relativePath.replace(/\.[^./]*$/, '').replace('_posts', '').replace(/\.+$/, ''),
  output_ext: (post) => post.outputExt,
};

// Jekyll takes `:[a-z_]+` and, when that is no placeholder, the same without one trailing "_" ("/:month_:day").
function placeholderOf(name: string): string | undefined {
  if (Object.hasOwn(PLACEHOLDERS, name)) return name;
  if (name.endsWith('_') && Object.hasOwn(PLACEHOLDERS, name.slice(0, -1))) return name.slice(0, -1);
  return undefined;
}

/** Why Jekyll would refuse this template (a placeholder it does not have), or undefined. */
export function checkPermalinkTemplate(template: string): string | undefined {
  const unknown = [...template.matchAll(/:([a-z_]+)/g)].map((m) => m[1]!).filter((name) => !placeholderOf(name));
  return unknown.length > 0 ? `'${template}' uses ${unknown.map((n) => `:${n}`).join(', ')}, which Jekyll does not have` : undefined;
}

// RFC 3986 pchar and "/": what url.rb's escape_path leaves as it is. Jekyll keeps "?" and "#" too (as the URI's
// query and fragment); a file published at "a?b" is only reached as "a%3Fb", so they are escaped here.
const PATH_CHARS = /[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu;
const escapeChars = (text: string) => text.replace(PATH_CHARS, (c) => encodeURIComponent(c));

function escapePath(value: string): string {
  if (/^[a-zA-Z0-9./-]*$/.test(value)) return value;
  return escapeChars(value.replace(/%/g, '%25'));
}

/**
 * The post's path as Jekyll writes it (`post.url`): placeholders replaced and escaped, then cleaned up. A template
 * with a placeholder Jekyll does not have is a ValidationError, as Jekyll stops the build on it.
 */
export function permalinkPath(template: string, post: PermalinkPost, { nfc = false } = {}): string {
  const filled = template.replace(/:([a-z_]+)/g, (match, name: string) => {
    const key = placeholderOf(name);
    if (!key) throw ValidationError.of('permalink', 'jekyll_placeholder', checkPermalinkTemplate(template)!);
    const value = PLACEHOLDERS[key]!(post);
    const escaped = escapePath(nfc ? value.normalize('NFC') : value);
    return match.replace(`:${key}`, () => escaped);
  });
  // sanitize_url: a leading "/", ".." turned into "/", "./" dropped, runs of "/" squeezed.
  return `/${filled}`.replace(/\.\./g, '/').replace(/\.\//g, '').replace(/\/{2,}/g, '/');
}

/**
 * The absolute URL Jekyll's absolute_url filter gives a post (what jekyll-feed links to): site url + baseurl + path.
 * Unicode is in NFC, as Addressable's normalize in absolute_url leaves it, and percent-encoded as UTF-8, as are
 * characters of the template itself.
 */
export function permalinkUrl(site: { url: string; baseUrl: string }, template: string, post: PermalinkPost): string {
  const path = escapeChars(permalinkPath(template.normalize('NFC'), post, { nfc: true }));
  return new URL(`${site.url}${site.baseUrl}${path}`).href;
}
