import { z } from 'zod';
import { ValidationError, type FieldIssue } from '../errors.js';
import { hasXmlForbidden } from '../text.js';
import { parseIsoDate } from './dates.js';
import { LIMITS, POST_ID_PATTERN, type PostDraft } from './post.js';

const noControlChars = (s: string) => !hasXmlForbidden(s);

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(LIMITS.nameLength, `must be at most ${LIMITS.nameLength} characters`)
  .refine(noControlChars, 'must not contain control characters');

const nameList = (max: number) =>
  z
    .array(name)
    .max(max, `must have at most ${max} entries`)
    .transform((names) => [...new Set(names)]);

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).max(LIMITS.urlLength);

export const postIdSchema = z
  .string()
  .regex(POST_ID_PATTERN, 'must be 1-128 characters: letters, digits, ".", "_" or "-", starting with a letter or digit');

const isoDate = z.string().transform((value, ctx) => {
  const parsed = parseIsoDate(value);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed, params: { rule: 'iso8601_with_offset' } });
    return z.NEVER;
  }
  return parsed;
});

/** The JSON body of POST /posts and PUT /posts/{id}. Unknown fields are an error, not ignored. */
export const postInputSchema = z.strictObject({
  id: postIdSchema.optional(),
  title: z
    .string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string') })
    .trim()
    .min(1, 'must not be empty')
    .max(LIMITS.titleLength, `must be at most ${LIMITS.titleLength} characters`),
  content: z.string({ error: (i) => (i.input === undefined ? 'is required' : 'must be a string of HTML') }),
  date: isoDate.optional(),
  categories: nameList(LIMITS.categories).default([]),
  tags: nameList(LIMITS.tags).default([]),
  summary: z.string().trim().max(LIMITS.summaryLength, `must be at most ${LIMITS.summaryLength} characters`).optional(),
  link: httpUrl.optional(),
  authors: z
    .array(
      z.strictObject({
        name,
        email: z.email('must be an email address').optional(),
        url: httpUrl.optional(),
      }),
    )
    .max(LIMITS.authors, `must have at most ${LIMITS.authors} entries`)
    .default([]),
});

/** Maps zod's issues to ours: the dotted field path, a stable rule name, and zod's sentence. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const field = issue.path.join('.') || 'body';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: field === 'body' ? key : `${field}.${key}`,
        rule: 'unknown_field',
        message: 'is not a known field',
      }));
    }
    const rule =
      issue.code === 'custom'
        ? String((issue.params as { rule?: string } | undefined)?.rule ?? 'custom')
        : issue.code === 'invalid_type' && issue.input === undefined
          ? 'required'
          : issue.code;
    return [{ field, rule, message: issue.message }];
  });
}

export function parsePostInput(body: unknown): PostDraft {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ValidationError.of('body', 'json_object', 'must be a JSON object');
  }
  const result = postInputSchema.safeParse(body);
  if (!result.success) throw new ValidationError(toFieldIssues(result.error));
  return result.data;
}
