import type { Context } from 'hono';
import type { SiteConfig } from '../config.js';
import { UnsupportedMediaType, ValidationError } from '../errors.js';
import { parseJekyllPost } from '../posts/jekyll.js';
import { parsePostInput } from '../posts/post-input.js';
import type { PostDraft } from '../posts/post.js';
import { MAX_JSON_DEPTH, tooDeepAt } from './json-depth.js';

const JSON_TYPE = 'application/json';
const MARKDOWN_TYPES = ['text/markdown', 'text/x-markdown'];
const ACCEPTED = [JSON_TYPE, 'text/markdown'];

function decodeUtf8(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw ValidationError.of('body', 'utf8', 'must be UTF-8 text');
  }
}

/** A JSON body, or a 400 that says why it is not one. Nesting is bounded before anything walks the value. */
export function parseJson(text: string): unknown {
  const deep = tooDeepAt(text);
  if (deep !== undefined) throw ValidationError.of(deep, 'max_depth', `nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ValidationError.of('body', 'json', `is not valid JSON (${(error as Error).message})`);
  }
}

/** RFC 5023 Slug header: percent-encoded UTF-8. For text/markdown it carries the Jekyll file name. */
function slugHeader(c: Context): string | undefined {
  const raw = c.req.header('slug');
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw ValidationError.of('Slug', 'percent_encoding', 'must be percent-encoded UTF-8');
  }
}

/**
 * Decodes a post body: JSON by the API's schema, or a Jekyll file (front matter + Markdown/HTML).
 * Returns the draft and, for a Jekyll file named in a Slug header, the id its file name gives.
 */
export async function readDraft(c: Context, site: SiteConfig): Promise<PostDraft & { slug?: string }> {
  const header = c.req.header('content-type');
  const [media = '', ...params] = (header ?? '').split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new UnsupportedMediaType(header, ACCEPTED.map((t) => `${t}; charset=utf-8`));

  if (media === JSON_TYPE) {
    return parsePostInput(parseJson(decodeUtf8(await c.req.arrayBuffer())));
  }
  if (MARKDOWN_TYPES.includes(media)) {
    const text = decodeUtf8(await c.req.arrayBuffer());
    return parseJekyllPost(text, { timeZone: site.timeZone, siteUrl: site.url, fileName: slugHeader(c) });
  }
  throw new UnsupportedMediaType(header, ACCEPTED);
}
