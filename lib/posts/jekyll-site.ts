import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { ValidationError } from '../errors.js';
import { InvalidSiteConfig, JEKYLL_DEFAULTS, parseJekyllConfig, type JekyllSettings, type SettingKey, type SiteConfig } from './jekyll-config.js';
import { parseJekyllFileName } from './jekyll-path.js';
import { postIdFromSlug } from './post-id.js';

export { InvalidSiteConfig, JEKYLL_DEFAULTS, parseJekyllConfig, type JekyllSettings, type SettingKey, type SiteConfig } from './jekyll-config.js';
export { categoriesFromPath, jekyllRelativePath, parseJekyllFileName, postIdFromFileName } from './jekyll-path.js';
export { checkPermalinkTemplate, permalinkPath, permalinkTemplate, permalinkUrl, type PermalinkPost } from './jekyll-permalink.js';
export { postIdFromSlug } from './post-id.js';

export interface JekyllPostFile {
  path: string;
  /**
   * Its path as Jekyll knows it, from the site (`_posts/2021-12-08-title.md`, `news/_posts/…`): the fileName to give
   * parseJekyllPost, whose folders above `_posts` are categories.
   */
  relativePath: string;
  /** The post id its name gives; none when Jekyll does not read the name as a post (parsing the file says why). */
  id?: string;
}

export interface JekyllSite {
  /** The site's folder, when there is one (a _config.yml, or a _posts folder, in it). */
  root?: string;
  /** The configuration file read, if any. */
  configFile?: string;
  /** Settings of the configuration, Jekyll's defaults where it says nothing. */
  settings: JekyllSettings;
  /** Which keys of the configuration gave settings. */
  taken: SiteConfig['taken'];
  /** Markdown and HTML files, sorted by relative path. Those Jekyll ignores for their names are listed, not left out. */
  files: JekyllPostFile[];
  /** Other files where posts are: Jekyll would copy them as they are; feedpub does not read them. */
  skipped: { path: string; reason: string }[];
  /** An id given by more than one file (`2020-01-01-news.md` and `2021-01-01-news.md`): each would replace the other. */
  sameId: { id: string; files: string[] }[];
}

// Configuration files Jekyll looks for, in its order (Configuration#config_files).
const CONFIG_FILES = ['_config.yml', '_config.yaml', '_config.toml'];
// Paths from the site Jekyll leaves out unless told otherwise (Configuration::DEFAULT_EXCLUDES); the site's own
// `exclude` list is not read.
const EXCLUDED = ['node_modules', 'gemfiles', 'vendor/bundle', 'vendor/cache', 'vendor/gems', 'vendor/ruby'];
// What EntryFilter#special? and #backup? leave out.
const special = (name: string) => /^[._#~]/.test(name) || name.endsWith('~');

const isDirectory = (path: string) => existsSync(path) && statSync(path).isDirectory();
const configIn = (dir: string) => CONFIG_FILES.map((name) => join(dir, name)).find((file) => existsSync(file));
const toPosix = (path: string) => path.split(sep).join('/');

/**
 * The site a `_posts` folder (or a file in one) belongs to: the nearest folder above `_posts` with a configuration,
 * else the folder holding `_posts` (a site may have no _config.yml).
 */
function siteAbove(path: string): string | undefined {
  const parts = path.split(sep);
  const posts = parts.lastIndexOf('_posts');
  if (posts < 0) return undefined;
  for (let dir = parts.slice(0, posts).join(sep) || sep; ; dir = dirname(dir)) {
    if (configIn(dir)) return dir;
    if (dirname(dir) === dir) return parts.slice(0, posts).join(sep) || sep;
  }
}

/**
 * Files under one `_posts` folder as Jekyll's Reader#get_entries lists them: recursively, but not into folders
 * starting with "."; not a file whose path (from `_posts`) or name starts with ".", "_", "#" or "~", nor a backup
 * ending in "~" (EntryFilter#special?, #backup?). Symbolic links to files count, links to folders are not followed,
 * as Ruby's Dir.glob("**\/*") does.
 */
function postsIn(postsDir: string, out: string[], inner = ''): void {
  for (const entry of readdirSync(join(postsDir, inner), { withFileTypes: true })) {
    const rel = inner ? `${inner}/${entry.name}` : entry.name;
    const path = join(postsDir, inner, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.')) postsIn(postsDir, out, rel);
    } else if (!special(rel) && !special(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isFile()))) {
      out.push(path);
    }
  }
}

/** Every `_posts` folder of a site, as Reader#read_directories finds them: `_posts`, `news/_posts`, … */
function postsFolders(base: string, out: string[], inner = ''): void {
  for (const entry of readdirSync(join(base, inner), { withFileTypes: true })) {
    const rel = inner ? `${inner}/${entry.name}` : entry.name;
    if (!entry.isDirectory()) continue;
    if (entry.name === '_posts') out.push(join(base, rel));
    else if (!special(entry.name) && !EXCLUDED.includes(rel)) postsFolders(base, out, rel);
  }
}

interface Found {
  root?: string;
  /** A site's folder: read all of its posts. */
  whole?: boolean;
  /** A folder of posts that is no site: paths are taken from it. */
  loose?: string;
  files: string[];
}

function locate(input: string): Found {
  const path = resolve(input);
  if (!existsSync(path)) throw ValidationError.of('path', 'exists', `'${input}' does not exist`);
  if (!isDirectory(path)) return { root: siteAbove(path), files: [path] };
  const files: string[] = [];
  if (basename(path) === '_posts') {
    postsIn(path, files);
    return { root: siteAbove(path), files };
  }
  if (configIn(path) || isDirectory(join(path, '_posts'))) return { root: path, whole: true, files };
  postsIn(path, files);
  return { loose: path, files };
}

function readConfig(root: string | undefined): { configFile?: string } & SiteConfig {
  const configFile = root ? configIn(root) : undefined;
  if (!configFile) return { settings: { ...JEKYLL_DEFAULTS }, taken: [] };
  if (configFile.endsWith('.toml')) {
    throw new InvalidSiteConfig([{ field: basename(configFile), rule: 'yaml_config', message: 'is TOML; feedpub reads _config.yml or _config.yaml' }]);
  }
  return { configFile, ...parseJekyllConfig(readFileSync(configFile, 'utf8'), basename(configFile)) };
}

const within = (dir: string | undefined, path: string) => dir !== undefined && path.startsWith(dir + sep);

function groupSameIds(files: JekyllPostFile[]): JekyllSite['sameId'] {
  const byId = new Map<string, string[]>();
  for (const file of files) if (file.id) byId.set(file.id, [...(byId.get(file.id) ?? []), file.relativePath]);
  return [...byId].filter(([, names]) => names.length > 1).map(([id, names]) => ({ id, files: names }));
}

/**
 * Reads a Jekyll site as Jekyll would: `paths` is the site's folder (with _config.yml and _posts), a `_posts` folder
 * in one, or folders and files of posts without a site. The site's configuration gives the settings. A site's
 * folder gives the posts of every `_posts` folder in it (under `collections_dir` when set): `news/_posts` too, as
 * Jekyll reads it, and its folder names are the posts' categories (see categoriesFromPath). Paths of two
 * different sites are a ValidationError; so is a path that does not exist.
 */
export function readJekyllSite(paths: string | readonly string[]): JekyllSite {
  const found = (typeof paths === 'string' ? [paths] : paths).map(locate);
  const roots = [...new Set(found.flatMap((f) => (f.root ? [f.root] : [])))];
  if (roots.length > 1) throw ValidationError.of('path', 'one_site', `the paths belong to different sites: ${roots.join(', ')}`);
  const root = roots[0];
  const config = readConfig(root);
  const base = root ? join(root, config.settings.collectionsDir) : undefined;

  const all = new Set(found.flatMap((f) => f.files));
  if (base && found.some((f) => f.whole) && isDirectory(base)) {
    const folders: string[] = [];
    postsFolders(base, folders);
    for (const folder of folders) {
      const files: string[] = [];
      postsIn(folder, files);
      for (const file of files) all.add(file);
    }
  }
  // Once, not per file: a path per post file (a shell's glob of _posts/*.md) made this quadratic, 19 s for 20,000.
  const bases = [base, root, ...new Set(found.map((f) => f.loose))];
  const relativeTo = (path: string) => bases.find((dir) => within(dir, path));

  const readable = new Set([...config.settings.markdownExtensions, 'html', 'htm']);
  const files: JekyllPostFile[] = [];
  const skipped: JekyllSite['skipped'] = [];
  for (const path of all) {
    const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
    if (!ext || !readable.has(ext)) {
      skipped.push({ path, reason: 'is not Markdown or HTML, which feedpub reads; Jekyll would copy it as it is' });
      continue;
    }
    const from = relativeTo(path);
    const relativePath = toPosix(from ? relative(from, path) : basename(path));
    const name = parseJekyllFileName(path);
    files.push({ path, relativePath, ...(name ? { id: postIdFromSlug(name.slug) } : {}) });
  }
  files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
  return { ...(root ? { root } : {}), ...config, files, skipped, sameId: groupSameIds(files) };
}

// Values worth repeating in a summary; a title or URL is long and the reader knows it.
const SHOWN = new Set<SettingKey>(['timezone', 'future', 'unpublished', 'baseurl', 'lang', 'locale', 'permalink', 'collections.posts.permalink', 'collections_dir']);

/**
 * The importer's line about the site: "took timezone Asia/Shanghai, title, url, lang zh-CN, author from
 * _config.yml; permalink date (Jekyll's default)".
 */
export function describeSite({ configFile, settings, taken }: Pick<JekyllSite, 'configFile' | 'settings' | 'taken'>): string {
  const file = configFile ? basename(configFile) : undefined;
  const took = taken.map(({ key, value }) => (SHOWN.has(key) && value !== undefined ? `${key} ${value}` : key));
  const parts = [!file ? "no _config.yml: Jekyll's defaults" : took.length > 0 ? `took ${took.join(', ')} from ${file}` : `took nothing from ${file}`];
  if (!settings.timeZone) parts.push("no timezone: dates without an offset are read in the importer's zone");
  if (!taken.some((t) => t.key === 'permalink' || t.key === 'collections.posts.permalink')) parts.push(`permalink ${settings.permalink} (Jekyll's default)`);
  return parts.join('; ');
}
