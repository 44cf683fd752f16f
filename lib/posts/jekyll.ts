import matter from 'gray-matter';
import yaml from 'js-yaml';
import { UnreadablePost, type FieldIssue } from '../errors.js';
import { parseJekyllDate } from './dates.js';
import { renderMarkdown } from './html.js';
import { parsePostInput } from './post-input.js';
import type { PostDraft } from './post.js';

export interface JekyllOptions {
  /** Zone for dates written without an offset (Jekyll's `timezone`). */
  timeZone: string;
  /** Site URL that relative links in front matter resolve against. */
  siteUrl: string;
  /** The file's name, when known: Jekyll takes the slug and a default date from it. */
  fileName?: string;
}

// Jekyll's own rule for what in _posts is a post: YYYY-MM-DD-slug.ext.
const POST_FILE_NAME = /^(\d{4}-\d{1,2}-\d{1,2})-(.+)\.([A-Za-z0-9]+)$/;

export interface JekyllFileName {
  date: string;
  slug: string;
  isHtml: boolean;
}

export function parseJekyllFileName(fileName: string): JekyllFileName | undefined {
  const base = fileName.split(/[\\/]/).pop() ?? fileName;
  const m = POST_FILE_NAME.exec(base);
  if (!m) return undefined;
  return { date: m[1]!, slug: m[2]!, isHtml: /^html?$/i.test(m[3]!) };
}

// Every scalar stays a string (YAML's failsafe schema): "+0800" is not the number 800, "2021-12-08" is not
// a Date in UTC, and the date is read exactly once, by the rules above, in the site's zone.
const yamlEngine = (source: string): object => (yaml.load(source, { schema: yaml.FAILSAFE_SCHEMA }) as object | null | undefined) ?? {};

type FrontMatter = Record<string, unknown>;

const unreadable = (field: string, rule: string, message: string) => new UnreadablePost([{ field, rule, message }]);

function splitFrontMatter(text: string): { data: FrontMatter; body: string } {
  const source = text.replace(/^\uFEFF/, '');
  if (!/^---[ \t]*\r?\n/.test(source)) {
    if (/^\s*\n---[ \t]*\r?\n/.test(source)) {
      throw unreadable('front_matter', 'first_line', 'must start on the first line; a blank line comes before "---", so Jekyll does not read this file as a post');
    }
    throw unreadable('front_matter', 'required', 'is missing; Jekyll reads a file as a post only when it starts with "---" front matter');
  }
  try {
    const parsed = matter(source, { engines: { yaml: yamlEngine } });
    const data = parsed.data as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw unreadable('front_matter', 'yaml_mapping', 'must be a YAML mapping of keys to values');
    }
    return { data: data as FrontMatter, body: parsed.content };
  } catch (error) {
    if (error instanceof UnreadablePost) throw error;
    throw unreadable('front_matter', 'yaml', `is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Jekyll accepts a space-separated string or a list for categories and tags. */
function nameList(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return value;
}

function authorsOf(value: unknown): unknown {
  if (value === undefined || value === '') return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((a) => (typeof a === 'string' ? { name: a } : a));
}

function absoluteLink(value: unknown, siteUrl: string): unknown {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    return new URL(value.trim(), `${siteUrl}/`).toString();
  } catch {
    return value;
  }
}

/**
 * Reads a Jekyll post (front matter and a Markdown or HTML body) into a draft, by the same rules as the
 * JSON API. A file that Jekyll itself would not read as a post is an UnreadablePost that says why.
 */
export function parseJekyllPost(text: string, options: JekyllOptions): PostDraft & { slug?: string } {
  const issues: FieldIssue[] = [];
  const file = options.fileName ? parseJekyllFileName(options.fileName) : undefined;
  if (options.fileName && !file) {
    issues.push({ field: 'file_name', rule: 'jekyll_post_name', message: `'${options.fileName}' is not YYYY-MM-DD-title.ext, so Jekyll does not read it as a post` });
  }
  const { data, body } = splitFrontMatter(text);

  if (data.published === 'false') {
    issues.push({ field: 'published', rule: 'published', message: 'is false, so Jekyll does not publish this post' });
  }
  const rawDate = typeof data.date === 'string' && data.date.trim() !== '' ? data.date : file?.date;
  let date: string | undefined;
  if (data.date !== undefined && typeof data.date !== 'string') {
    issues.push({ field: 'date', rule: 'jekyll_date', message: 'must be a date, not a list or mapping' });
  } else if (rawDate !== undefined) {
    const parsed = parseJekyllDate(rawDate, options.timeZone);
    if (typeof parsed === 'string') issues.push({ field: 'date', rule: 'jekyll_date', message: parsed });
    else date = parsed.toISOString();
  }
  if (issues.length > 0) throw new UnreadablePost(issues);

  const title = data.title ?? (file ? file.slug.replace(/-/g, ' ') : undefined);
  const content = file?.isHtml ? body.trim() : renderMarkdown(body);
  const draft = parsePostInput(
    Object.fromEntries(
      Object.entries({
        title,
        content,
        date,
        categories: nameList(data.categories ?? data.category),
        tags: nameList(data.tags ?? data.tag),
        summary: data.summary ?? data.excerpt ?? data.description,
        link: absoluteLink(data.link ?? data.canonical_url, options.siteUrl),
        authors: authorsOf(data.authors ?? data.author),
      }).filter(([, v]) => v !== undefined),
    ),
  );
  return file ? { ...draft, slug: file.slug } : draft;
}
