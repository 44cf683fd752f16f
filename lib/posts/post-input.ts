import { ValidationError, type FieldIssue } from '../errors.js';
import { toFieldIssues } from '../field-issues.js';
import { hasBidiControls, hasVisible, hasXmlForbidden } from '../text.js';
import { plainTitle } from './build-post.js';
import { sanitizeContent, showsSomething } from './html.js';
import * as z from 'zod/mini';
import '../zod-locale.js';
import { parseIsoDate } from './dates.js';
import { LIMITS, POST_ID_PATTERN, type PostDraft } from './post.js';

const atMost = (n: number, what = 'characters') => z.maxLength(n, `must be at most ${n} ${what}`);

const rule = (name: string, test: (s: string) => boolean, message: string, abort = false) => z.refine<string>(test, { message, params: { rule: name }, abort });
// An empty value is only said to be empty.
const notEmpty = z.minLength(1, { message: 'must not be empty', abort: true });

const VISIBLE = 'must contain a visible character, not only white space, control, zero-width or bidi characters';

// Names identify feeds (and their URLs) and authors, so they are never altered: what a feed could not carry, what
// shows nothing, and what reorders the text around it are refused rather than removed.
/** A category, tag or author name. */
export const nameSchema = z.string().check(
  z.trim(),
  notEmpty,
  atMost(LIMITS.nameLength),
  rule('control_characters', (s: string) => !hasXmlForbidden(s), 'must not contain control characters, U+FFFE, U+FFFF or unpaired surrogates', true),
  rule('visible', hasVisible, VISIBLE, true),
  rule('bidi_controls', (s: string) => !hasBidiControls(s), 'must not contain bidi embedding, override or isolate characters (U+202A-U+202E, U+2066-U+2069)'),
);

/** A category or tag name, as posts give them (and as key scopes name them). */
export const feedNameSchema = nameSchema;

const nameList = (max: number) =>
  z._default(
    z.pipe(z.array(nameSchema).check(atMost(max, 'entries')), z.transform((names: string[]) => [...new Set(names)])),
    [],
  );

// What RFC 3986 allows nowhere in a URI: controls, space, these ASCII marks, a "%" that starts no escape; and what it
// allows in one place only: "[" and "]" around an IPv6 host, "#" once. Browsers percent-encode them as they parse the
// URL; stored and published that way, a link means what a browser makes of it and is a valid URI in every feed
// (non-ASCII characters stay: feeds carry IRIs).
const NOT_IN_URIS = /[\u0000-\u0020"<>\\^`{|}\u007F[\]]|%(?![0-9A-Fa-f]{2})/g;

function asUri(url: string): string {
  // Scheme and host are case-insensitive (RFC 3986 6.2.2.1): written in lower case, the normal form.
  const [, scheme = '', userinfo = '', host = ''] = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*@)?([^/?#]*)/i.exec(url) ?? [];
  const authority = `${scheme.toLowerCase()}${userinfo}${host.toLowerCase()}`.replace(/[^[\]]+/g, (part) => part.replace(NOT_IN_URIS, encodeURIComponent));
  const rest = url.slice(scheme.length + userinfo.length + host.length);
  const hash = rest.indexOf('#');
  const tail = hash < 0 ? rest : `${rest.slice(0, hash + 1)}${rest.slice(hash + 1).replaceAll('#', '%23')}`;
  return `${authority}${tail.replace(NOT_IN_URIS, encodeURIComponent)}`;
}

const httpUrl = z.pipe(z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).check(atMost(LIMITS.urlLength)), z.transform(asUri));

export const postIdSchema = z
  .string()
  .check(z.regex(POST_ID_PATTERN, 'must be 1-128 characters: letters, digits, ".", "_" or "-", starting with a letter or digit'));

const isoDate = z.pipe(
  z.string(),
  z.transform((value: string, ctx) => {
    const parsed = parseIsoDate(value);
    if (typeof parsed !== 'string') return parsed;
    ctx.issues.push({ code: 'custom', message: parsed, input: value, params: { rule: 'iso8601_with_offset' } });
    return z.NEVER;
  }),
);

const required = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });

/** The JSON body of POST /posts and PUT /posts/{id}. Unknown fields are an error, not ignored. */
export const postInputSchema = z.strictObject({
  id: z.optional(postIdSchema),
  title: z.string(required('a string')).check(
    z.trim(),
    notEmpty,
    atMost(LIMITS.titleLength),
    // What readers see: the title as stored (entities decoded, what XML cannot carry removed) must show something.
    rule('visible', (s: string) => hasVisible(plainTitle(s)), VISIBLE),
  ),
  // What is left once scripts, styles, frames and handlers are gone must show something: a post of only
  // `<script>…</script>` would otherwise be stored and published empty.
  content: z.string(required('a string of HTML')).check(
    rule('visible', (s: string) => showsSomething(sanitizeContent(s, 'https://feedpub.invalid/')), 'must show something once sanitized: text, an image or other media (scripts, styles, frames and event handlers are removed)'),
  ),
  date: z.optional(isoDate),
  categories: nameList(LIMITS.categories),
  tags: nameList(LIMITS.tags),
  summary: z.optional(z.string().check(z.trim(), atMost(LIMITS.summaryLength))),
  link: z.optional(httpUrl),
  authors: z._default(
    z.array(z.strictObject({ name: nameSchema, email: z.optional(z.email('must be an email address')), url: z.optional(httpUrl) })).check(atMost(LIMITS.authors, 'entries')),
    [],
  ),
});

export { toFieldIssues } from '../field-issues.js';

export function parsePostInput(body: unknown): PostDraft {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ValidationError.of('body', 'json_object', 'must be a JSON object');
  }
  const result = postInputSchema.safeParse(body, { reportInput: true });
  if (!result.success) throw new ValidationError(toFieldIssues(result.error));
  return result.data;
}
