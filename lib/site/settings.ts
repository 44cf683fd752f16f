import * as z from 'zod/mini';
import '../zod-locale.js';
import { httpUrl, isTimeZone, LANGUAGE_RULE, LANGUAGE_TAG, TIME_ZONE_RULE, type SiteConfig } from '../config.js';
import { ValidationError } from '../errors.js';
import { toFieldIssues } from '../field-issues.js';
import { hasXmlForbidden } from '../text.js';

/**
 * What a site says about itself, stored in the table (PUT /site; `feedpub import` takes it from _config.yml) and
 * used by every render over the deployment's defaults (FEEDPUB_SITE_TITLE and the others). Each is optional: what is
 * not stored is the default's. The rest of SiteConfig (feeds URL, hub, feed sizes, icon) belongs to the deployment.
 */
export interface SiteSettings {
  title?: string;
  description?: string;
  /** The site's home page (Jekyll's url + baseurl): the feeds' <link>; relative links resolve against it. */
  url?: string;
  /** BCP 47 language of the feeds and pages. */
  language?: string;
  author?: string;
  /** IANA zone of Jekyll dates written without an offset, and of dates shown on pages. */
  timeZone?: string;
}

/** The settings as the table keeps them: a version that each change moves on, and how far the fan-out got. */
export interface StoredSettings {
  settings: SiteSettings;
  /** 1 for the first stored settings; each change adds one. No settings stored: version 0. */
  version: number;
  changedAt: string;
  /** The last version whose change has been announced to every feed (lib/regen/site-restyle.ts). */
  announced?: number;
}

const text = (max: number) =>
  z.string().check(
    z.trim(),
    z.minLength(1, 'must not be empty (leave the field out for the default)'),
    z.maxLength(max, `must be at most ${max} characters`),
    z.refine((s: string) => !hasXmlForbidden(s), 'must not contain control characters'),
  );

/** The body of PUT /site: every setting at once (one left out goes back to the default). */
export const siteSettingsSchema = z.strictObject({
  title: z.optional(text(200)),
  description: z.optional(text(1000)),
  url: z.optional(z.pipe(z.string().check(z.maxLength(2048, 'must be at most 2048 characters')), httpUrl)),
  language: z.optional(z.string().check(z.regex(LANGUAGE_TAG, LANGUAGE_RULE))),
  author: z.optional(text(200)),
  timeZone: z.optional(z.string().check(z.refine(isTimeZone, TIME_ZONE_RULE))),
});

export function parseSiteSettings(body: unknown): SiteSettings {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ValidationError.of('body', 'json_object', 'must be a JSON object');
  const result = siteSettingsSchema.safeParse(body, { reportInput: true });
  if (!result.success) throw new ValidationError(toFieldIssues(result.error));
  return canonical(result.data);
}

const NAMES = ['title', 'description', 'url', 'language', 'author', 'timeZone'] as const;

/** The settings with their fields in one order and no undefined ones: equal settings give equal JSON. */
export function canonical(settings: SiteSettings): SiteSettings {
  return Object.fromEntries(NAMES.flatMap((name) => (settings[name] !== undefined ? [[name, settings[name]]] : []))) as SiteSettings;
}

export const sameSettings = (a: SiteSettings, b: SiteSettings) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/**
 * The site as renders see it: the deployment's configuration with the stored settings over it. The author follows
 * a stored title when the deployment's author is its own title (FEEDPUB_SITE_AUTHOR unset).
 */
export function applySettings(base: SiteConfig, stored: StoredSettings | undefined): SiteConfig {
  if (!stored) return base;
  const { title, description, url, language, author, timeZone } = stored.settings;
  return {
    ...base,
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    ...(url ? { url } : {}),
    ...(language ? { language } : {}),
    ...(timeZone ? { timeZone } : {}),
    author: author ?? (title && base.author === base.title ? title : base.author),
    settingsVersion: stored.version,
  };
}

/** The settings a site has now, field by field (GET /site): what renders use. */
export function effectiveSettings(site: SiteConfig): Required<SiteSettings> {
  return { title: site.title, description: site.description, url: site.url, language: site.language, author: site.author, timeZone: site.timeZone };
}
