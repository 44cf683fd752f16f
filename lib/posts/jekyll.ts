import { UnreadablePost, type FieldIssue } from '../errors.js';
import { parseJekyllDate } from './dates.js';
import { splitFrontMatter, type FrontMatter } from './front-matter.js';
import type { JekyllSettings } from './jekyll-config.js';
import { categoriesFromPath, jekyllRelativePath, notAPostName, parseJekyllFileName, type JekyllFileName } from './jekyll-path.js';
import { permalinkUrl } from './jekyll-permalink.js';
import { titleizeSlug } from './jekyll-slugify.js';
import { renderMarkdown } from './html.js';
import { parsePostInput } from './post-input.js';
import { postIdFromSlug } from './post-id.js';
import type { PostDraft } from './post.js';

export interface JekyllOptions {
  /** Zone for dates written without an offset; the site's own `timezone` wins when `site` gives one. */
  timeZone: string;
  /** URL that relative links in front matter resolve against, when `site` has no `url`. */
  siteUrl: string;
  /**
   * The file's name, or its path from the site (`news/_posts/2021-12-08-title.md`): Jekyll takes the slug and a
   * default date from the name, and categories from the folders above `_posts`.
   */
  fileName?: string;
  /** The site's _config.yml settings: with them, a post gets the URL Jekyll publishes it at, and `future` applies. */
  site?: JekyllSettings;
  /** The present, for the future rule; the clock when not given. */
  now?: Date;
  /**
   * A post marked `published: false`: 'refuse' (the default, and what the API does) throws an UnreadablePost;
   * 'report' returns it with publish 'draft', for a caller that keeps or skips drafts itself.
   */
  onUnpublished?: 'refuse' | 'report';
}

/** Whether Jekyll would publish the post now, only once its date has come (`future: false`), or not at all. */
export type Publish = 'now' | 'scheduled' | 'draft';

export interface JekyllPost extends PostDraft {
  /** The post id the file name gives (postIdFromFileName), when there is a file name. */
  postId?: string;
  /** @deprecated The same as postId, under the name the API reads it by. */
  slug?: string;
  publish: Publish;
  /** Where the site publishes the post (url + baseurl + permalink), when `site` has a `url`. */
  url?: string;
}

export { parseJekyllFileName, postIdFromFileName, type JekyllFileName } from './jekyll-path.js';

// Jekyll's Utils.pluralized_array_from_hash: the singular key when it has a value (taken whole), else the plural
// one, whose string is split at white space.
function pluralized(data: FrontMatter, singular: string, plural: string): unknown[] {
  const one = data[singular];
  if (one !== undefined && one !== null) return [one].flat();
  const many = data[plural];
  if (typeof many === 'string') return many.split(/\s+/).filter(Boolean);
  return Array.isArray(many) ? many.filter((v) => v !== null) : [];
}

/** A post's categories as Document#populate_categories merges them: path, then `categories`, then `category`. */
function categoriesOf(data: FrontMatter, fromPath: string[]): unknown[] {
  const listed = typeof data.categories === 'string' ? data.categories.split(/\s+/) : [data.categories ?? []].flat();
  return [...new Set([...fromPath, ...listed, ...pluralized(data, 'category', 'categories')].filter((c) => c !== '' && c !== null))];
}

function authorsOf(value: unknown): unknown {
  if (value === undefined || value === '') return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((a) => (typeof a === 'string' ? { name: a } : a));
}

function absoluteLink(value: unknown, base: string): unknown {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    return new URL(value.trim(), `${base}/`).toString();
  } catch {
    return value;
  }
}

// Jekyll's Publisher: `published` false or empty (nil) hides a post unless the site sets `unpublished`.
const isUnpublished = (flag: unknown) => flag === false || flag === null;

/** The front matter's date, else the file name's, read in the zone; what is wrong with it goes to `issues`. */
function dateOf(data: FrontMatter, file: JekyllFileName | undefined, timeZone: string, issues: FieldIssue[]): Date | undefined {
  if (data.date !== undefined && data.date !== null && typeof data.date !== 'string') {
    issues.push({ field: 'date', rule: 'jekyll_date', message: 'must be a date, not a list or mapping' });
    return undefined;
  }
  const raw = typeof data.date === 'string' && data.date.trim() !== '' ? data.date : file?.date;
  if (raw === undefined) return undefined;
  const parsed = parseJekyllDate(raw, timeZone);
  if (typeof parsed !== 'string') return parsed;
  issues.push({ field: 'date', rule: 'jekyll_date', message: parsed });
  return undefined;
}

/** What Jekyll knows of a post when it builds its URL. */
interface UrlFacts {
  fileName: string;
  file: JekyllFileName;
  /** The file name's slug, trailing dots dropped. */
  slug: string;
  date: Date;
  timeZone: string;
  categories: unknown[];
}

/** The post's own `permalink` (a template: Jekyll reads no built-in style there), else the site's. */
function postUrl(site: JekyllSettings, data: FrontMatter, facts: UrlFacts): string | undefined {
  if (!site.url) return undefined;
  const template = typeof data.permalink === 'string' && data.permalink.trim() !== '' ? data.permalink.trim() : site.postPermalink;
  const markdown = site.markdownExtensions.includes(facts.file.ext.slice(1).toLowerCase());
  return permalinkUrl({ url: site.url, baseUrl: site.baseUrl }, template, {
    date: facts.date,
    timeZone: facts.timeZone,
    slug: typeof data.slug === 'string' && data.slug.trim() !== '' ? data.slug : facts.slug,
    relativePath: jekyllRelativePath(facts.fileName),
    categories: facts.categories.map(String),
    outputExt: markdown ? '.html' : facts.file.ext,
  });
}

/**
 * Reads a Jekyll post (front matter and a Markdown or HTML body) into a draft, by the same rules as the
 * JSON API, and says whether Jekyll would publish it now. A file that Jekyll itself would not read as a post
 * is an UnreadablePost that says why.
 */
export function parseJekyllPost(text: string, options: JekyllOptions): JekyllPost {
  const { site, fileName } = options;
  const issues: FieldIssue[] = [];
  const file = fileName ? parseJekyllFileName(fileName) : undefined;
  if (fileName && !file) issues.push(notAPostName(fileName));
  const { data, body, flag } = splitFrontMatter(text);
  const unpublished = 'published' in data && isUnpublished(flag('published')) && !site?.unpublished;
  if (unpublished && options.onUnpublished !== 'report') {
    issues.push({ field: 'published', rule: 'published', message: 'is false, so Jekyll does not publish this post' });
  }
  const timeZone = site?.timeZone ?? options.timeZone;
  const date = dateOf(data, file, timeZone, issues);
  if (issues.length > 0) throw new UnreadablePost(issues);

  // Document#populate_title: the slug loses trailing dots and, without a title, gives one.
  const slug = file?.slug.replace(/\.+$/, '');
  const categories = categoriesOf(data, fileName ? categoriesFromPath(fileName) : []);
  const url = site && fileName && file && slug !== undefined && date ? postUrl(site, data, { fileName, file, slug, date, timeZone, categories }) : undefined;
  const draft = parsePostInput(
    Object.fromEntries(
      Object.entries({
        title: data.title ?? (slug !== undefined ? titleizeSlug(slug) : undefined),
        content: file?.isHtml ? body.trim() : renderMarkdown(body),
        date: date?.toISOString(),
        categories: categories.length > 0 ? categories : undefined,
        tags: pluralized(data, 'tag', 'tags'),
        summary: data.summary ?? data.excerpt ?? data.description,
        link: absoluteLink(data.link ?? data.canonical_url, site?.url ? `${site.url}${site.baseUrl}` : options.siteUrl) ?? url,
        authors: authorsOf(data.authors ?? data.author),
      }).filter(([, v]) => v !== undefined),
    ),
  );
  // Publisher#hidden_in_the_future? compares whole seconds.
  const now = options.now ?? new Date();
  const future = date !== undefined && Math.floor(date.getTime() / 1000) > Math.floor(now.getTime() / 1000);
  const publish: Publish = unpublished ? 'draft' : future && !site?.future ? 'scheduled' : 'now';
  const postId = file ? postIdFromSlug(file.slug) : undefined;
  return { ...draft, ...(postId ? { postId, slug: postId } : {}), publish, ...(url ? { url } : {}) };
}
