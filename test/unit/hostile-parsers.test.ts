import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, tooDeepAt } from '../../lib/api/json-depth.js';
import { readBatch } from '../../lib/api/read-batch.js';
import { loadConfig } from '../../lib/config.js';
import { PublicError } from '../../lib/errors.js';
import { parseJekyllPost } from '../../lib/posts/jekyll.js';
import { parsePostInput } from '../../lib/posts/post-input.js';
import { deepJsonText, fuzzParameters, jekyllFileArb, postJsonArb, slugArb } from '../support/hostile.js';

// The parsers under the API, driven with generated input (issue 11): whatever they are given, they return a draft or
// refuse it with a PublicError (a 4xx), quickly, and never throw anything else (a RangeError, a YAMLException).

const site = loadConfig({ FEEDPUB_TABLE: 'table', FEEDPUB_BUCKET: 'bucket', FEEDPUB_SITE_URL: 'https://news.example.com' }).site;

/** Runs `parse`, which may refuse with a PublicError naming fields, and must not throw anything else or take long. */
function refusesOrReads(parse: () => unknown): void {
  const started = performance.now();
  try {
    parse();
  } catch (error) {
    if (!(error instanceof PublicError)) throw error;
    for (const issue of error.issues) expect(issue.field).not.toBe('');
    // A stack overflow caught and reported as a refusal is still a recursion that was not bounded.
    expect(error.message).not.toMatch(/call stack|RangeError/i);
  }
  expect(performance.now() - started).toBeLessThan(1000);
}

const decoded = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(depthOf));
}

describe('parsers, with generated input', () => {
  it('reads a Jekyll file or refuses it with the reason: front matter of every kind, alias bombs, deep nesting', () => {
    fc.assert(
      fc.property(jekyllFileArb, fc.option(slugArb), fc.constantFrom('UTC', 'Asia/Shanghai', 'America/St_Johns'), (text, slug, timeZone) => {
        refusesOrReads(() => parseJekyllPost(text, { timeZone, siteUrl: site.url, ...(slug !== null ? { fileName: decoded(slug) } : {}) }));
      }),
      fuzzParameters(300),
    );
  });

  it('reads a post body or refuses it naming the field', () => {
    fc.assert(
      fc.property(postJsonArb, (body) => refusesOrReads(() => parsePostInput(body))),
      fuzzParameters(300),
    );
  });

  it('reads a batch or refuses it, whole or post by post, however deep its text nests', () => {
    const text = fc.oneof(deepJsonText, fc.array(postJsonArb, { maxLength: 5 }).map((posts) => JSON.stringify({ posts })));
    fc.assert(
      fc.property(text, (body) => refusesOrReads(() => readBatch(body, site))),
      fuzzParameters(100),
    );
  });

  it('finds nesting past the limit exactly, in one pass, and names the member that nests', () => {
    const { node } = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 5 }), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('a', 'b"c', 'title', 'posts'), tie('node'), { maxKeys: 3 })),
    }));
    // Wrapped in up to 30 more arrays and objects, to cross the limit often.
    const value = fc.tuple(node, fc.array(fc.constantFrom('[', 'a', 'posts'), { maxLength: 30 })).map(([v, wraps]) => wraps.reduce<unknown>((inner, w) => (w === '[' ? [inner] : { [w]: inner }), v));
    fc.assert(
      fc.property(value, (value) => {
        const text = JSON.stringify(value);
        const field = tooDeepAt(text);
        expect(field !== undefined, text.slice(0, 200)).toBe(depthOf(value) > MAX_JSON_DEPTH);
        if (field === undefined || field === 'body') return;
        // The named member is there, and nests past the limit from the top.
        let at: unknown = value;
        for (const part of field.split('.')) at = (at as Record<string, unknown>)[part];
        expect(depthOf(at) + field.split('.').length).toBeGreaterThan(MAX_JSON_DEPTH);
      }),
      fuzzParameters(300),
    );
  });
});
