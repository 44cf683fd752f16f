import { createHash } from 'node:crypto';
import { POST_ID_PATTERN } from './post.js';

const READABLE_MAX = 60;

/**
 * The post id a Jekyll file name's slug gives (`2021-12-08-<slug>.md`). Jekyll accepts any slug, Unicode and
 * spaces included; ids are path segments and S3 key parts (POST_ID_PATTERN), so:
 * - a slug that is already an id is the id, unchanged ("202112082206672930", "init"): ids of earlier imports stay;
 * - any other slug gets a readable ASCII part and "-" and 8 hex digits of the SHA-256 of the slug
 *   ("hello world" -> "hello-world-…", "Ünïcödé" -> "Unicode-…"), or "p-" and the digits when nothing ASCII is
 *   left ("离岸人民币升值" -> "p-…"). The digits keep two slugs apart that read the same in ASCII.
 *
 * The readable part is the slug decomposed (NFKD: full-width letters become ASCII, accents come apart and are
 * dropped), every run of other characters "-", trimmed, at most 60 characters. The digest is taken of the slug
 * in NFC, because macOS file systems may hand out the same name decomposed: one name, one id, wherever the file
 * was checked out. The same slug therefore always gives the same id; only a slug written to be another's hashed
 * id ("hello-world-1a2b3c4d" itself) could meet one, which no real site does.
 */
export function postIdFromSlug(slug: string): string {
  if (POST_ID_PATTERN.test(slug)) return slug;
  const readable = slug
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .slice(0, READABLE_MAX)
    .replace(/^-+|-+$/g, '');
  const digest = createHash('sha256').update(slug.normalize('NFC'), 'utf8').digest('hex').slice(0, 8);
  return readable === '' ? `p-${digest}` : `${readable}-${digest}`;
}
