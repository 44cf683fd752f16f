import { UnreadablePost, type FieldIssue } from '../errors.js';
import { postIdFromSlug } from './post-id.js';

// What a post file's name and place tell Jekyll (lib/jekyll/document.rb).

// Document::DATE_FILENAME_MATCHER: YYYY-MM-DD-slug.ext, where the year may have 2 to 4 digits and the slug is
// anything but "/", spaces and Unicode included. Files in _posts whose names do not match are not posts.
const POST_FILE_NAME = /^(\d{2,4}-\d{1,2}-\d{1,2})-(.*)(\.[^.]+)$/s;

export interface JekyllFileName {
  date: string;
  /** The slug exactly as in the name. */
  slug: string;
  /** The extension with its dot, as written: ".md". */
  ext: string;
  isHtml: boolean;
}

export const baseName = (path: string) => path.split(/[\\/]/).pop() ?? path;

export function parseJekyllFileName(fileName: string): JekyllFileName | undefined {
  const m = POST_FILE_NAME.exec(baseName(fileName));
  if (!m) return undefined;
  return { date: m[1]!, slug: m[2]!, ext: m[3]!, isHtml: /^\.html?$/i.test(m[3]!) };
}

export const notAPostName = (fileName: string): FieldIssue => ({
  field: 'file_name',
  rule: 'jekyll_post_name',
  message: `'${fileName}' is not YYYY-MM-DD-title.ext, so Jekyll does not read it as a post`,
});

/** The post id of a Jekyll post file (postIdFromSlug); a name Jekyll does not read as a post is an UnreadablePost. */
export function postIdFromFileName(fileName: string): string {
  const file = parseJekyllFileName(fileName);
  if (!file) throw new UnreadablePost([notAPostName(fileName)]);
  return postIdFromSlug(file.slug);
}

const isAbsolute = (path: string) => /^(?:[\\/]|[A-Za-z]:)/.test(path);

/**
 * The file's path as Jekyll knows it (`relative_path`, from the site's source): the path given when it is relative
 * and goes through a `_posts` folder (`news/_posts/…`), else `_posts/<name>`.
 */
export function jekyllRelativePath(fileName: string): string {
  const path = fileName.replace(/\\/g, '/');
  const folders = path.split('/').slice(0, -1);
  return !isAbsolute(fileName) && folders.includes('_posts') ? path : `_posts/${baseName(path)}`;
}

/**
 * Categories from the folders above `_posts` (`es/_posts/…` is in "es"; `_posts/es/…` is not), as
 * Document#categories_from_path takes them: everything before the first "_posts" of the relative path.
 */
export function categoriesFromPath(fileName: string): string[] {
  const path = jekyllRelativePath(fileName);
  if (path.startsWith('_posts')) return [];
  return path.replace(/_posts.*$/s, '').split('/').filter((c) => c !== '');
}
