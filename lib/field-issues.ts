import type * as z from 'zod/mini';
import type { FieldIssue } from './errors.js';

// Apart from the post schemas, so that what validates other input (the site's settings) does not bring the post
// parsers, the sanitizer and Markdown into every bundle that reads settings.
/**
 * Maps zod's issues to ours: the dotted field path, a stable rule name, and zod's sentence. Parse with
 * `reportInput: true`, which is how a missing field ('required') is told from a wrong type.
 */
export function toFieldIssues(error: z.core.$ZodError): FieldIssue[] {
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

