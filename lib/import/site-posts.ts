import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { PayloadTooLarge, ValidationError } from '../errors.js';
import { parseJekyllPost } from '../posts/jekyll.js';
import type { JekyllPostFile, JekyllSettings, JekyllSite } from '../posts/jekyll-site.js';
import { LIMITS } from '../posts/post.js';
import type { SiteSettings } from '../site/settings.js';

/** A file read as Jekyll reads it: a post to send, a draft Jekyll does not publish, or the reason it is no post. */
export type ReadFile =
  | { kind: 'post'; file: JekyllPostFile; id: string; json: string; scheduled: boolean }
  | { kind: 'draft'; file: JekyllPostFile }
  | { kind: 'refused'; file: JekyllPostFile; reason: string };

export interface ReadContext {
  settings: JekyllSettings;
  /** Zone of dates without an offset when the site names none. */
  timeZone: string;
  /** URL relative front-matter links resolve against when the site has none. */
  siteUrl: string;
  /** The moment of the import: a post dated after it is scheduled. */
  now: Date;
}

const reasonOf = (error: ValidationError) => error.issues.map((i) => `${i.field}: ${i.message}`).join('; ');

/**
 * Reads one post file with the site's settings, as Jekyll would build it, into the JSON the API stores as it is:
 * the date written out with its offset (in the site's zone), so that no server or client zone can move it. The
 * same function serves a dry run and a real one, which therefore agree on every file.
 */
export function readPostFile(file: JekyllPostFile, { settings, timeZone, siteUrl, now }: ReadContext): ReadFile {
  try {
    const post = parseJekyllPost(readFileSync(file.path, 'utf8'), { timeZone, siteUrl, fileName: file.relativePath, site: settings, now, onUnpublished: 'report' });
    if (post.publish === 'draft') return { kind: 'draft', file };
    const zone = settings.timeZone ?? timeZone;
    const { postId, slug: _slug, publish: _publish, url: _url, id: _id, date, ...fields } = post;
    const json = JSON.stringify({ id: postId, ...fields, ...(date ? { date: DateTime.fromJSDate(date, { zone }).toISO({ suppressMilliseconds: true }) } : {}) });
    // The API refuses a larger post in a batch; a dry run says so too.
    if (Buffer.byteLength(json) > LIMITS.bodyBytes) throw new PayloadTooLarge(LIMITS.bodyBytes);
    // Dated later than now: the API stores it scheduled, and publishes it at its date (even where `future: true`).
    return { kind: 'post', file, id: postId!, json, scheduled: date !== undefined && date.getTime() > now.getTime() };
  } catch (error) {
    if (error instanceof ValidationError) return { kind: 'refused', file, reason: reasonOf(error) };
    if (error instanceof PayloadTooLarge) return { kind: 'refused', file, reason: `body: ${error.issues[0]!.message}` };
    // A file the system would not read (gone since the listing, no permission): that file fails, the import goes on.
    if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall) return { kind: 'refused', file, reason: `file: could not be read (${(error as NodeJS.ErrnoException).code})` };
    throw error;
  }
}

/**
 * Posts whose file names give the same id (`2020-01-01-news.md`, `2021-06-01-news.md`): Jekyll publishes both, at
 * two URLs; feedpub's id comes from the name without its date, so one would replace the other at every import. The
 * last by path (the newest date) is imported; the others are refused, saying which one took their id.
 */
export function settleSameIds(read: ReadFile[]): { read: ReadFile[]; sameId: { id: string; files: string[] }[] } {
  const byId = new Map<string, Extract<ReadFile, { kind: 'post' }>[]>();
  for (const r of read) if (r.kind === 'post') byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const losers = new Map<ReadFile, string>();
  const sameId: { id: string; files: string[] }[] = [];
  for (const [id, posts] of byId) {
    if (posts.length < 2) continue;
    const kept = posts.at(-1)!;
    sameId.push({ id, files: posts.map((p) => p.file.relativePath) });
    for (const p of posts.slice(0, -1)) losers.set(p, `same_id: its name gives the id '${id}', as ${kept.file.relativePath} does, which is imported instead`);
  }
  return { read: read.map((r) => (losers.has(r) ? { kind: 'refused', file: r.file, reason: losers.get(r)! } : r)), sameId };
}

/** The settings of _config.yml that are the site's settings in feedpub (PUT /site). */
export function siteSettingsOf(site: Pick<JekyllSite, 'settings'>): SiteSettings {
  const { title, description, url, baseUrl, lang, author, timeZone } = site.settings;
  return {
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    ...(url ? { url: `${url}${baseUrl}` } : {}),
    ...(lang ? { language: lang } : {}),
    ...(author ? { author: author.name } : {}),
    ...(timeZone ? { timeZone } : {}),
  };
}
