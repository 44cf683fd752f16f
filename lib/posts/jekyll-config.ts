import yaml from 'js-yaml';
import { ValidationError, type FieldIssue } from '../errors.js';
import { checkPermalinkTemplate, permalinkTemplate } from './jekyll-permalink.js';
import type { Author } from './post.js';
import { CONFIG_SCHEMA } from './ruby-yaml.js';

/** A site's _config.yml (or _config.yaml) that feedpub cannot read as Jekyll would. */
export class InvalidSiteConfig extends ValidationError {
  override name = 'InvalidSiteConfig';
}

/** The settings of a Jekyll site that decide which posts it publishes, when, and where. */
export interface JekyllSettings {
  /** IANA zone of dates written without an offset; Jekyll falls back to the machine's zone, feedpub to the caller's. */
  timeZone?: string;
  /** Publish posts dated in the future (Jekyll: `future`, default false). */
  future: boolean;
  /** Publish posts marked `published: false` too (Jekyll: `unpublished`, default false). */
  unpublished: boolean;
  title?: string;
  description?: string;
  /** Absolute http(s) URL of the site, without a trailing slash. */
  url?: string;
  /** Path the site is served under: "" or "/blog" (leading slash, none trailing), as Jekyll's relative_url joins it. */
  baseUrl: string;
  /** BCP 47 language tag (`lang`, or `locale` with "_" read as "-"). */
  lang?: string;
  author?: Author;
  /** The permalink style or template as written (default `date`). */
  permalink: string;
  /** The template posts follow: the style's template, or `collections.posts.permalink` when given. */
  postPermalink: string;
  /** File extensions (lower case, no dot) that Jekyll renders as Markdown. */
  markdownExtensions: string[];
  /** Folder that holds _posts (Jekyll: `collections_dir`), "" for the site root. */
  collectionsDir: string;
}

/** The keys of _config.yml that feedpub reads. */
export type SettingKey =
  | 'timezone' | 'future' | 'unpublished' | 'title' | 'description' | 'url' | 'baseurl' | 'lang' | 'locale' | 'author'
  | 'permalink' | 'collections.posts.permalink' | 'markdown_ext' | 'collections_dir';

/** Settings, and which keys of the file gave them (with the value taken), for a summary such as the importer's. */
export interface SiteConfig {
  settings: JekyllSettings;
  taken: { key: SettingKey; value?: string }[];
}

// https://github.com/jekyll/jekyll/blob/master/lib/jekyll/configuration.rb (DEFAULTS)
export const JEKYLL_DEFAULTS: JekyllSettings = {
  future: false,
  unpublished: false,
  baseUrl: '',
  permalink: 'date',
  postPermalink: permalinkTemplate('date'),
  markdownExtensions: ['markdown', 'mkdown', 'mkdn', 'mkd', 'md'],
  collectionsDir: '',
};

type Raw = Record<string, unknown>;

function text(raw: Raw, key: string, issues: FieldIssue[], field = key): string | undefined {
  const value = raw[key];
  if (value === undefined || value === null) return undefined;
  // Ruby prints any scalar (`title: 2021` is "2021"); a list or mapping here is a mistake worth saying.
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value).trim();
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  issues.push({ field, rule: 'string', message: 'must be a single value, not a list or mapping' });
  return undefined;
}

// Ruby's truthiness: every value but false and nil is true, so `future: 0` or `future: "no"` (quoted) is true.
const truthy = (value: unknown) => value !== undefined && value !== null && value !== false;

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function absoluteSiteUrl(value: string, issues: FieldIssue[]): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value.replace(/\/+$/, '');
  } catch {
    // reported below
  }
  issues.push({ field: 'url', rule: 'absolute_url', message: `must be an absolute http(s) URL such as https://example.com, got '${value}'` });
  return undefined;
}

// jekyll-feed and jekyll-seo-tag read `author` as a name or as a mapping with name, email and url (or uri).
function author(raw: Raw, issues: FieldIssue[]): Author | undefined {
  const value = raw.author;
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'number') return { name: String(value) };
  if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
    const fields = value as Raw;
    const name = text(fields, 'name', issues, 'author.name');
    const email = text(fields, 'email', issues, 'author.email');
    const url = text(fields, 'url', issues, 'author.url') ?? text(fields, 'uri', issues, 'author.uri');
    if (name) return { name, ...(email ? { email } : {}), ...(url ? { url } : {}) };
  }
  issues.push({ field: 'author', rule: 'jekyll_author', message: 'must be a name, or a mapping with at least a name (and email, url)' });
  return undefined;
}

function timeZone(raw: Raw, issues: FieldIssue[]): string | undefined {
  const zone = text(raw, 'timezone', issues);
  if (!zone || validZone(zone)) return zone || undefined;
  issues.push({ field: 'timezone', rule: 'iana_time_zone', message: `'${zone}' is not an IANA time zone such as Asia/Shanghai` });
  return undefined;
}

// Jekyll's relative_url: the baseurl without its trailing slash, with a leading one.
function baseUrl(raw: Raw, issues: FieldIssue[]): string | undefined {
  const base = text(raw, 'baseurl', issues)?.replace(/\/+$/, '');
  return base ? (base.startsWith('/') ? base : `/${base}`) : undefined;
}

// Jekyll gives posts the site's permalink only when the posts collection names none of its own.
function postsPermalink(raw: Raw, issues: FieldIssue[]): string | undefined {
  const posts = (raw.collections as Raw | undefined)?.posts;
  if (!posts || typeof posts !== 'object' || Array.isArray(posts)) return undefined;
  return text(posts as Raw, 'permalink', issues, 'collections.posts.permalink') || undefined;
}

function loadMapping(source: string, fileName: string): Raw {
  let loaded: unknown;
  try {
    loaded = yaml.load(source, { schema: CONFIG_SCHEMA, filename: fileName });
  } catch (error) {
    throw new InvalidSiteConfig([{ field: fileName, rule: 'yaml', message: `is not valid YAML: ${(error as Error).message.split('\n')[0]}` }]);
  }
  if (loaded === undefined || loaded === null) return {};
  if (typeof loaded !== 'object' || Array.isArray(loaded) || loaded instanceof Date) {
    throw new InvalidSiteConfig([{ field: fileName, rule: 'yaml_mapping', message: 'must be a YAML mapping of settings' }]);
  }
  return loaded as Raw;
}

/**
 * Reads the text of a _config.yml with Jekyll's defaults for what it leaves out. YAML as Ruby reads it
 * (`future: yes` is true); a file that is not a mapping, or a setting Jekyll could not use, is an InvalidSiteConfig
 * naming the key and the rule.
 */
export function parseJekyllConfig(source: string, fileName = '_config.yml'): SiteConfig {
  const raw = loadMapping(source, fileName);
  const issues: FieldIssue[] = [];
  const settings: JekyllSettings = { ...JEKYLL_DEFAULTS };
  const taken: SiteConfig['taken'] = [];
  const set = <K extends keyof JekyllSettings>(field: K, value: JekyllSettings[K] | undefined, key: SettingKey, shown?: string) => {
    if (value === undefined || value === '') return;
    settings[field] = value;
    taken.push({ key, value: shown ?? String(value) });
  };

  set('timeZone', timeZone(raw, issues), 'timezone');
  if (raw.future !== undefined) set('future', truthy(raw.future), 'future');
  if (raw.unpublished !== undefined) set('unpublished', truthy(raw.unpublished), 'unpublished');
  set('title', text(raw, 'title', issues), 'title');
  set('description', text(raw, 'description', issues), 'description');
  const url = text(raw, 'url', issues);
  set('url', url ? absoluteSiteUrl(url, issues) : undefined, 'url');
  set('baseUrl', baseUrl(raw, issues), 'baseurl');
  const lang = text(raw, 'lang', issues);
  if (lang) set('lang', lang, 'lang');
  else set('lang', text(raw, 'locale', issues)?.replace(/_/g, '-'), 'locale');
  const siteAuthor = author(raw, issues);
  set('author', siteAuthor, 'author', siteAuthor?.name);
  const permalink = text(raw, 'permalink', issues);
  if (permalink) {
    set('permalink', permalink, 'permalink');
    settings.postPermalink = permalinkTemplate(permalink);
  }
  const own = postsPermalink(raw, issues);
  if (own) set('postPermalink', permalinkTemplate(own), 'collections.posts.permalink');
  const problem = checkPermalinkTemplate(settings.postPermalink);
  if (problem) issues.push({ field: 'permalink', rule: 'jekyll_placeholder', message: problem });
  const markdown = text(raw, 'markdown_ext', issues);
  set('markdownExtensions', markdown?.split(',').map((e) => e.trim().toLowerCase()).filter(Boolean), 'markdown_ext', markdown);
  set('collectionsDir', text(raw, 'collections_dir', issues)?.replace(/^\/+|\/+$/g, ''), 'collections_dir');

  if (issues.length > 0) throw new InvalidSiteConfig(issues.map((i) => ({ ...i, message: `${i.message} (${fileName})` })));
  return { settings, taken };
}
