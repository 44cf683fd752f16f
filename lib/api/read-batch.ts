import type { SiteConfig } from '../config.js';
import { PayloadTooLarge, PublicError, ValidationError, type FieldIssue } from '../errors.js';
import { parseJekyllPost } from '../posts/jekyll.js';
import { parsePostInput, postIdSchema, toFieldIssues } from '../posts/post-input.js';
import { LIMITS, type PostDraft } from '../posts/post.js';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { parseJson } from './read-draft.js';

const batchSchema = z.strictObject({
  posts: z.array(z.unknown()).check(z.minLength(1, 'must hold at least one post'), z.maxLength(LIMITS.batchPosts, `must hold at most ${LIMITS.batchPosts} posts`)),
});

/** A Jekyll file in a batch: its name (which gives the id, as the Slug header does) and its text. */
const jekyllItemSchema = z.strictObject({ file: z.string().check(z.minLength(1)), jekyll: z.string() });

/** Prefixes the field of an item's issue with its place in the batch: `posts.3.title`. */
const placed = (prefix: string, issue: FieldIssue): FieldIssue => ({ ...issue, field: `${prefix}${issue.field === 'body' ? '' : issue.field}`.replace(/\.$/, '') });

function within(prefix: string, error: PublicError): PublicError {
  if (!(error instanceof ValidationError)) return error;
  return new ValidationError(error.issues.map((issue) => placed(prefix, issue)));
}

function readItem(item: unknown, prefix: string, site: SiteConfig): { id: string; draft: PostDraft } | PublicError {
  try {
    if (Buffer.byteLength(JSON.stringify(item) ?? '') > LIMITS.bodyBytes) throw new PayloadTooLarge(LIMITS.bodyBytes);
    if (typeof item === 'object' && item !== null && 'jekyll' in item) {
      const parsed = jekyllItemSchema.safeParse(item, { reportInput: true });
      if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
      const { slug, ...draft } = parseJekyllPost(parsed.data.jekyll, { timeZone: site.timeZone, siteUrl: site.url, fileName: parsed.data.file });
      const id = draft.id ?? slug;
      if (id === undefined || !postIdSchema.safeParse(id).success) {
        throw ValidationError.of('file', 'post_id', `the file name's slug '${slug ?? ''}' is not a post id: letters, digits, ".", "_" or "-"`);
      }
      return { id, draft };
    }
    const draft = parsePostInput(item);
    if (draft.id === undefined) throw ValidationError.of('id', 'required', 'is required in a batch (each post is stored as PUT /posts/{id} would)');
    return { id: draft.id, draft };
  } catch (error) {
    if (error instanceof PublicError) return within(prefix, error);
    throw error;
  }
}

/**
 * The body of POST /posts/batch: `{"posts": [...]}`, each post either the JSON of PUT /posts/{id} with its `id`,
 * or a Jekyll file as `{"file": "2021-12-08-title.md", "jekyll": "---\n..."}`. A malformed request is refused
 * whole; a post that breaks a rule is refused alone, in its place in the results.
 */
export function readBatch(text: string, site: SiteConfig): ({ id: string; draft: PostDraft } | PublicError)[] {
  const parsed = batchSchema.safeParse(parseJson(text), { reportInput: true });
  if (!parsed.success) throw new ValidationError(toFieldIssues(parsed.error));
  const seen = new Map<string, number>();
  return parsed.data.posts.map((item, index) => {
    const read = readItem(item, `posts.${index}.`, site);
    if (read instanceof PublicError) return read;
    const first = seen.get(read.id);
    if (first !== undefined) return ValidationError.of(`posts.${index}.id`, 'unique', `'${read.id}' is already posts.${first} of this batch`);
    seen.set(read.id, index);
    return read;
  });
}

/** A refused post in the results: its status, and the error as the API gives any error. */
export function errorJson(error: PublicError, prefix = '') {
  const prefixed = prefix ? within(prefix, error) : error;
  // A validation error's message names its fields, so it is rebuilt; others (out of scope) keep their sentence.
  const issues = prefixed === error && prefix ? error.issues.map((issue) => placed(prefix, issue)) : prefixed.issues;
  return {
    status: prefixed.status,
    error: { code: prefixed.code, message: prefixed.message, ...(issues.length > 0 ? { issues } : {}) },
  };
}
