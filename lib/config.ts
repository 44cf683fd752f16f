import * as z from 'zod/mini';
import './zod-locale.js';

/** What a feed says about the site it belongs to. */
export interface SiteConfig {
  title: string;
  description: string;
  /** Home page of the site; item links that are relative resolve against it. */
  url: string;
  /** Public base URL under which `feeds/...` keys are served (CloudFront in AWS, the local runner locally). */
  feedsUrl: string;
  /** The WebSub hub that every feed document names (rel="hub"): the API's /hub. */
  hubUrl: string;
  language: string;
  /** How many of the newest posts each feed holds. */
  feedItems: number;
  /** IANA zone in which a Jekyll date without offset is read. */
  timeZone: string;
  /** Who the feeds are by (Atom requires an author for the feed or each entry); defaults to the title. */
  author: string;
  /** Absolute URL of a square icon. */
  icon?: string;
  copyright?: string;
  /**
   * Host of the `tag:` URIs that name items: the deployment's own site URL (FEEDPUB_SITE_URL), never the stored
   * settings' URL, so that a new site URL does not rename every item for the readers (default: `url`'s host).
   */
  idHost?: string;
  /** The version of the stored site settings applied (lib/site/settings.ts); absent or 0: none stored. */
  settingsVersion?: number;
}

export interface FeedpubConfig {
  tableName: string;
  bucketName: string;
  site: SiteConfig;
  /**
   * The directory (feeds/index.html, feeds/opml.xml) lists every feed and is hundreds of KB on a large site: it is
   * not rendered on writes but by the periodic tick, every this many ms locally (the schedule runs it once a
   * minute in AWS), and at the end of each import.
   */
  directoryIntervalMs: number;
  /** Posts per archive page of every feed (RFC 5005): a page is sealed once the current document has `feedItems` + this. */
  archivePageSize: number;
}

export const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

export const TIME_ZONE_RULE = 'must be an IANA time zone such as Asia/Shanghai';
export const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
export const LANGUAGE_RULE = 'must be a BCP 47 language tag such as en or zh-CN';

/** An absolute http(s) URL, without its trailing slashes. */
export const httpUrl = z.pipe(
  z.url({ protocol: /^https?$/ }),
  z.transform((url: string) => url.replace(/\/+$/, '')),
);

const envSchema = z.object({
  FEEDPUB_TABLE: z.string().check(z.minLength(3)),
  FEEDPUB_BUCKET: z.string().check(z.minLength(3)),
  FEEDPUB_SITE_URL: httpUrl,
  FEEDPUB_FEEDS_URL: z.optional(httpUrl),
  FEEDPUB_HUB_URL: z.optional(httpUrl),
  FEEDPUB_SITE_TITLE: z._default(z.string().check(z.minLength(1)), 'feedpub'),
  FEEDPUB_SITE_DESCRIPTION: z._default(z.string(), ''),
  FEEDPUB_SITE_LANGUAGE: z._default(
    z.string().check(z.regex(LANGUAGE_TAG, LANGUAGE_RULE)),
    'en',
  ),
  FEEDPUB_FEED_ITEMS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(500)), 50),
  FEEDPUB_SITE_AUTHOR: z.optional(z.string().check(z.minLength(1))),
  FEEDPUB_SITE_ICON: z.optional(z.url({ protocol: /^https?$/ })),
  FEEDPUB_SITE_COPYRIGHT: z.optional(z.string().check(z.minLength(1))),
  FEEDPUB_ARCHIVE_PAGE_SIZE: z._default(z.coerce.number().check(z.int(), z.minimum(10), z.maximum(90)), 50),
  FEEDPUB_DIRECTORY_INTERVAL: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(3600)), 60),
  FEEDPUB_TIMEZONE: z._default(z.string().check(z.refine(isTimeZone, TIME_ZONE_RULE)), 'UTC'),
});

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** `env` read by `schema`, or a ConfigError naming every bad variable and its rule. */
function parseEnv<T>(schema: z.ZodMiniType<T>, env: Record<string, string | undefined>): T {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid feedpub configuration:\n  ${problems.join('\n  ')}`);
}

const localSchema = z.object({
  PORT: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(65535)), 3000),
  FEEDPUB_LOCAL_RENDER_SLOTS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(64)), 8),
  FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(64)), 4),
  FEEDPUB_LOCAL_SLOW_MS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 1000),
});

/**
 * What only the local stack reads: its HTTP port, how many feed renders it runs at once in the feeds lane (live
 * writes) and in the background lane (held writes of a released import, apart from the release's own renders), and
 * over how many ms the local front and the local S3 server log a request as slow.
 */
export function localSettings(env: Record<string, string | undefined> = process.env): { port: number; renderSlots: number; backgroundRenderSlots: number; slowMs: number } {
  const e = parseEnv(localSchema, env);
  return { port: e.PORT, renderSlots: e.FEEDPUB_LOCAL_RENDER_SLOTS, backgroundRenderSlots: e.FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS, slowMs: e.FEEDPUB_LOCAL_SLOW_MS };
}

/** Reads the configuration once, failing fast with every bad or missing variable named. */
export function loadConfig(env: Record<string, string | undefined> = process.env): FeedpubConfig {
  const e = parseEnv(envSchema, env);
  return {
    tableName: e.FEEDPUB_TABLE,
    bucketName: e.FEEDPUB_BUCKET,
    directoryIntervalMs: e.FEEDPUB_DIRECTORY_INTERVAL * 1000,
    archivePageSize: e.FEEDPUB_ARCHIVE_PAGE_SIZE,
    site: {
      title: e.FEEDPUB_SITE_TITLE,
      description: e.FEEDPUB_SITE_DESCRIPTION,
      url: e.FEEDPUB_SITE_URL,
      feedsUrl: e.FEEDPUB_FEEDS_URL ?? e.FEEDPUB_SITE_URL,
      // The hub is served next to the feeds (CloudFront routes /hub to the API; locally the one front does).
      hubUrl: e.FEEDPUB_HUB_URL ?? `${e.FEEDPUB_FEEDS_URL ?? e.FEEDPUB_SITE_URL}/hub`,
      language: e.FEEDPUB_SITE_LANGUAGE,
      feedItems: e.FEEDPUB_FEED_ITEMS,
      timeZone: e.FEEDPUB_TIMEZONE,
      author: e.FEEDPUB_SITE_AUTHOR ?? e.FEEDPUB_SITE_TITLE,
      idHost: new URL(e.FEEDPUB_SITE_URL).hostname,
      ...(e.FEEDPUB_SITE_ICON ? { icon: e.FEEDPUB_SITE_ICON } : {}),
      ...(e.FEEDPUB_SITE_COPYRIGHT ? { copyright: e.FEEDPUB_SITE_COPYRIGHT } : {}),
    },
  };
}
