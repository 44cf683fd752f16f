import fc from 'fast-check';
import { readXssCorpus } from './xss.js';

/**
 * The fuzz suites' budget. Seeded, so a run can be repeated; bounded, so CI stays quick. By hand:
 * FEEDPUB_FUZZ_RUNS=2000 FEEDPUB_FUZZ_SECONDS=600 FEEDPUB_FUZZ_SEED=$RANDOM npx vitest run test/integration/fuzz.test.ts
 * A failure prints its seed and path: FEEDPUB_FUZZ_SEED and FEEDPUB_FUZZ_PATH replay it.
 */
export function fuzzParameters(defaultRuns: number): fc.Parameters<unknown> {
  const seed = Number(process.env.FEEDPUB_FUZZ_SEED ?? 20261111);
  const numRuns = Number(process.env.FEEDPUB_FUZZ_RUNS ?? defaultRuns);
  const seconds = Number(process.env.FEEDPUB_FUZZ_SECONDS ?? 10);
  return {
    seed,
    numRuns,
    ...(process.env.FEEDPUB_FUZZ_PATH ? { path: process.env.FEEDPUB_FUZZ_PATH } : {}),
    // Past the budget, the runs done so far decide (fast-check reports how many ran).
    plugins: [fc.interruptAfterTimeLimit(seconds * 1000)],
    // A counterexample against a live stack is shrunk a little, not for minutes.
    endOnFailure: false,
    timeout: 20_000,
  };
}

/** Test timeout for a property under fuzzParameters: its time budget plus room for the last run and the checks. */
export const fuzzTestTimeout = () => Number(process.env.FEEDPUB_FUZZ_SECONDS ?? 10) * 1000 + 60_000;

const corpus = readXssCorpus();

/** Characters that show nothing or reorder text, and ones XML cannot carry. */
const INVISIBLE = ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD', '\u3164', '\u2800', '\u115F', '\u180E', '\uFE0F', '\u{E0041}'];
const BIDI = ['\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069', '\u200E', '\u200F', '\u061C'];
const CONTROL = ['\u0000', '\u0001', '\u0007', '\u0008', '\u000B', '\u000C', '\u001B', '\u001F', '\u007F', '\u0085', '\u009F', '\uFFFE', '\uFFFF', '\t', '\n', '\r', '\u2028', '\u2029'];

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const oddChar = fc.oneof(fc.constantFrom(...INVISIBLE, ...BIDI, ...CONTROL), loneSurrogate);

/** Text as hostile as text gets: any code point, lone surrogates, invisible, bidi and control characters, markup vectors, CJK. */
export const hostileText = (maxLength = 60) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: fc.oneof({ weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }, oddChar), maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 2, arbitrary: fc.constantFrom(...corpus.html) },
    { weight: 1, arbitrary: fc.array(oddChar, { minLength: 1, maxLength: 6 }).map((cs) => cs.join('')) },
    { weight: 1, arbitrary: fc.constantFrom('离岸人民币升至6.3512', '東財滾動新聞', 'عربي', 'עברית', 'ok', '', ' ', 'x'.repeat(501)) },
  );

/** Names a feed may have, some of them odd: spaces, dots, slashes, markup, CJK at the length limit, compatibility forms. */
const ACCEPTED_NAMES = ['emnews', '东财滚动新闻', 'TechWeb', 'Reuters (China)', 'a b', '..', '.', 'a/b', '../../etc', '%2F', '%00', 'CON', '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', ']]>', '中'.repeat(100), 'Ｆｕｌｌ　Ｗｉｄｔｈ', 'ﬁ ligature', 'עברית\u200F', '👩\u200D💻'];
/** Names that are refused: nothing visible, bidi controls, controls, lone surrogates, empty, too long. */
const REFUSED_NAMES = ['\u200B', '\u202E\u202C', 'news\u202Eevil', '\u0007', '\uD800', ' ', '', 'x'.repeat(101)];

/** A small pool of names (a feed per name, so the number of feeds stays bounded), mostly accepted ones. */
export const nameArb = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ACCEPTED_NAMES) }, { weight: 1, arbitrary: fc.constantFrom(...REFUSED_NAMES) });

/** Post ids: a few valid ones (so writes, reads and deletes meet), and what must never be one. */
export const idArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('p1', 'p2', 'p3', 'p-4', 'p_5', 'P.6', '2021-12-08-a') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', '.', '..', '../x', 'a/b', '-a', '.hidden', 'a b', '东财', 'x'.repeat(129), '\u0000', 'a%00', '%2E%2E', 'a%2Fb', 'con', 'p1\n', 'p1 '),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

/** Dates: with offsets in and out of range, without offsets, impossible days, not dates at all. */
export const dateArb = fc.oneof(
  fc
    .tuple(
      fc.integer({ min: 1, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.constantFrom('Z', 'z', '+08:00', '-12:00', '+14:00', '+05:45', '+99:99', '+15:00', '-14:01', '+0800', '+08', '', ' +0800', '+24:00', '-00:00'),
    )
    .map(([y, mo, d, h, mi, off]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:00${off}`),
  fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2021-02-29T00:00:00Z', '2021-12-08', 'yesterday', '', '2021-12-08T10:46:18.123456789+08:00', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-12:00'),
);

export const urlArb = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constantFrom(...corpus.url), hostileText(40), fc.constant(`https://example.com/${'a'.repeat(2100)}`));

/** A JSON value nested 15 to 1,000 levels deep (a value: JSON.stringify, which the tests use, recurses too). */
export const deeplyNested = fc.integer({ min: 15, max: 1000 }).map((depth) => JSON.parse(`${'['.repeat(depth)}1${']'.repeat(depth)}`) as unknown);

/** Nesting depths around the limit and far past it (generated integers lean small: the deep ones are named). */
const depthArb = fc.oneof(fc.integer({ min: 15, max: 40 }), fc.constantFrom(1000, 5000, 20_000));

/** JSON text nested up to 100,000 levels: `{"key": [[[…1…]]]}` or the arrays alone. */
export const deepJsonText = fc.tuple(fc.oneof(depthArb, fc.constant(100_000)), fc.constantFrom(undefined, 'posts', 'title', 'seconds')).map(([depth, key]) => {
  const arrays = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
  return key === undefined ? arrays : `{"${key}":${arrays}}`;
});

/** The JSON of a post, valid or not: every field maybe present, maybe of the wrong type, maybe hostile. */
export const postJsonArb = fc.record(
  {
    id: fc.oneof(idArb, fc.integer()),
    title: fc.oneof({ weight: 5, arbitrary: hostileText() }, fc.constant(null), fc.integer(), deeplyNested),
    content: fc.oneof({ weight: 5, arbitrary: fc.oneof(hostileText(200), fc.constantFrom(...corpus.html).map((v) => `<p>text</p>${v}`)) }, fc.constant(''), fc.array(fc.string())),
    date: fc.oneof({ weight: 5, arbitrary: dateArb }, fc.integer()),
    categories: fc.oneof({ weight: 5, arbitrary: fc.array(nameArb, { maxLength: 12 }) }, nameArb, deeplyNested),
    tags: fc.oneof({ weight: 5, arbitrary: fc.array(nameArb, { maxLength: 12 }) }, fc.constant({})),
    summary: fc.oneof(hostileText(), fc.constant(null)),
    link: urlArb,
    authors: fc.oneof(fc.array(fc.record({ name: nameArb, email: fc.oneof(fc.emailAddress(), hostileText(20)), url: urlArb }, { requiredKeys: ['name'] }), { maxLength: 11 }), fc.constant('someone')),
    unknown: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

const acceptedNameArb = fc.constantFrom(...ACCEPTED_NAMES);

/** A date the API takes: an instant written with an offset in range. */
const validDateArb = fc
  .tuple(fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), fc.constantFrom('Z', '+08:00', '-05:00', '+05:45', '+14:00', '-12:00'))
  .map(([d, offset]) => `${d.toISOString().slice(0, 19)}${offset}`);

/** Posts the API takes, odd but valid (markup vectors in the content, odd names), with now and then one hostile field. */
export const nearlyValidPostArb = fc
  .tuple(
    fc.record({
      title: fc.oneof(fc.constantFrom('快讯', 'Breaking', 'A <b>bold</b> claim', 'Ünïcödé', '"quoted" & <escaped>'), fc.string({ unit: 'grapheme', maxLength: 30 }).map((t) => `T ${t}`)),
      content: fc.oneof(fc.constant('<p>Body</p>'), fc.constantFrom(...corpus.html).map((v) => `<p>text</p>${v}`)),
      categories: fc.array(acceptedNameArb, { maxLength: 3 }),
      tags: fc.array(acceptedNameArb, { maxLength: 3 }),
      date: validDateArb,
      summary: fc.string({ unit: 'grapheme', maxLength: 40 }),
    }),
    fc.oneof(
      { weight: 2, arbitrary: fc.constant({}) },
      fc.oneof(
        fc.record({ title: hostileText() }),
        fc.record({ content: hostileText(200) }),
        fc.record({ categories: fc.array(nameArb, { maxLength: 3 }) }),
        fc.record({ date: dateArb }),
        fc.record({ summary: hostileText() }),
        fc.record({ link: urlArb }),
      ),
    ),
  )
  .map(([post, hostile]) => ({ ...post, ...hostile }));

/** A Jekyll file: front matter (well-formed, broken, bombs, deep) and a Markdown body. */
export const jekyllFileArb = fc
  .tuple(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .record({ title: hostileText(), categories: fc.array(nameArb, { maxLength: 3 }), tags: fc.array(nameArb, { maxLength: 3 }), date: dateArb })
          .map(({ title, categories, tags, date }) => `title: ${JSON.stringify(title)}\ncategories: ${JSON.stringify(categories)}\ntags: ${JSON.stringify(tags)}\ndate: ${date}\n`),
      },
      { weight: 2, arbitrary: fc.dictionary(fc.constantFrom('title', 'date', 'categories', 'category', 'tags', 'tag', 'author', 'authors', 'summary', 'excerpt', 'published', 'permalink', 'link', 'canonical_url', 'slug', 'layout'), yamlValueArb(), { maxKeys: 8 }).map(frontMatterText) },
      { weight: 1, arbitrary: yamlBombArb() },
      { weight: 1, arbitrary: depthArb.map((n) => `title: deep\ntags: ${'['.repeat(n)}x${']'.repeat(n)}\n`) },
      { weight: 1, arbitrary: depthArb.map((n) => `title: deep\ntags:\n  ${'- '.repeat(n)}x\n`) },
      { weight: 1, arbitrary: hostileText(80) },
    ),
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...corpus.markdown, ...corpus.html).map((v) => `A paragraph.\n\n${v}`) }, hostileText(200), fc.constantFrom(...corpus.markdown, ...corpus.html)),
    fc.oneof({ weight: 6, arbitrary: fc.constant('---\n') }, fc.constantFrom('---\r\n', '\uFEFF---\n', '\n---\n', '', '--- \n')),
  )
  .map(([front, body, opening]) => `${opening}${front}${front.endsWith('\n') ? '' : '\n'}---\n${body}\n`);

function yamlValueArb() {
  return fc.oneof(
    hostileText(40).map((s) => JSON.stringify(s)),
    hostileText(40),
    dateArb,
    fc.array(nameArb.map((s) => JSON.stringify(s)), { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`),
    fc.constantFrom('true', 'false', 'yes', 'no', 'null', '~', '', '&a x', '*a', '!!binary aGVsbG8=', '!!js/function "function(){}"', '{a: 1}', '[1, [2, [3]]]', "'unclosed", '"\\x01\\x02"', '|\n  block\n  text', '>-\n  folded'),
  );
}

function frontMatterText(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
}

/** Billion laughs: each anchor a list of aliases to the one before; 9^levels nodes if anything expanded it. */
function yamlBombArb() {
  return fc.integer({ min: 3, max: 12 }).map((levels) => {
    const lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(',')}]`);
    const last = `*a${levels - 1}`;
    return `${lines.join('\n')}\ntitle: ${last}\ntags: ${last}\ncategories: ${last}\nauthor: ${last}\nsummary: ${last}`;
  });
}

/** The Slug header of a Jekyll file (RFC 5023: percent-encoded UTF-8), valid or not. */
export const slugArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('p1', 'p2', 'p3', 'p-4', 'j-1', 'j-2').map((id) => `2021-12-08-${id}.md`) },
  fc.constantFrom('2021-12-08-title.md', '2021-12-08-%E4%B8%9C%E8%B4%A2.md', '2021-13-45-x.md', 'x.md', '%', '%E0%A4%A', '../../_posts/2021-12-08-x.md', '2021-12-08-..md', '2021-12-08-.md', `2021-12-08-${'a'.repeat(300)}.md`, '2021-12-08-a%2Fb.md', '2021-12-08-a%00.md'),
  hostileText(30).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, ''))),
);

/** Header values as an HTTP client can send them (no CR, LF or NUL): printable Latin-1 and tab. */
export const headerValueArb = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xa0, max: 0xff }), fc.constant(9)).map((c) => String.fromCharCode(c)), maxLength: 80 });

export const contentTypeArb = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON; charset="UTF-8"', 'application/json; charset=latin1', 'text/markdown', 'text/markdown; charset=utf-8', 'text/x-markdown', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ';', ''),
  headerValueArb,
);

/** A path segment as a client sends it: percent-encoded text, or one of the spellings of "/", "..", NUL. */
export const segmentArb = fc.oneof(
  { weight: 3, arbitrary: idArb.map((id) => encodeURIComponent(id)) },
  { weight: 2, arbitrary: fc.constantFrom('..', '.', '%2E%2E', '%2e%2e', '.%2E', '%2F', 'a%2Fb', '..%2F..%2Fetc%2Fpasswd', '%5C..%5C', '%00', 'a%00b', '%ZZ', '%', '%C0%AE%C0%AE', '%E0%80%AF', '', 'x'.repeat(10_000), '%E4%B8%9C'.repeat(500)) },
  { weight: 1, arbitrary: hostileText(20).map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))) },
);
