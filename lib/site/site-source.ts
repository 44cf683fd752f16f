import type { SiteConfig } from '../config.js';
import { logger } from '../log.js';
import { applySettings, type StoredSettings } from './settings.js';

/**
 * The site as renders and the API see it: the deployment's configuration with the stored settings over it. Renders
 * take it when they start; the API when it reads a post (Jekyll dates, relative links).
 */
export interface SiteSource {
  /** The site now, no older than settings version `atLeast` (a render told of a change asks for it). */
  current(atLeast?: number): Promise<SiteConfig>;
}

/** A site whose settings never change (tests, tools that only render). */
export const fixedSite = (site: SiteConfig): SiteSource => ({ current: async () => site });

/** How long a process keeps the settings it read: at most about one read a second, whatever the traffic. */
export const SETTINGS_CACHE_MS = 1_000;

const versionOf = (site: SiteConfig) => site.settingsVersion ?? 0;

/**
 * The stored settings, read consistently at most once per SETTINGS_CACHE_MS per process (concurrent callers share
 * one read), applied to the deployment's configuration. A caller that knows of a newer version than the cached one
 * (a render whose inbox names it) gets a fresh read at once. A process that stores settings remembers them.
 */
export class CachedSiteSource implements SiteSource {
  private cached?: { readAt: number; site: SiteConfig };
  private reading?: Promise<SiteConfig>;

  constructor(
    private readonly base: SiteConfig,
    private readonly store: { get(): Promise<StoredSettings | undefined> },
    private readonly ttlMs = SETTINGS_CACHE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async current(atLeast = 0): Promise<SiteConfig> {
    const hit = this.cached;
    if (hit && this.now() - hit.readAt < this.ttlMs && versionOf(hit.site) >= atLeast) return hit.site;
    try {
      const site = await this.read(false);
      // A read already in flight may have started before the change the caller knows of: one more, started now.
      return versionOf(site) >= atLeast ? site : await this.read(true);
    } catch (error) {
      // The settings could not be read (throttled, say): the last ones known still do, unless a newer one is asked for.
      if (!hit || versionOf(hit.site) < atLeast) throw error;
      logger.warn('site settings not read; using the last ones read', { error: error as Error });
      return hit.site;
    }
  }

  /** Settings this process stored itself (PUT /site): used at once, without waiting for the cache to expire. */
  remember(stored: StoredSettings): void {
    this.keep(this.now(), applySettings(this.base, stored));
  }

  private read(fresh: boolean): Promise<SiteConfig> {
    if (this.reading && !fresh) return this.reading;
    const startedAt = this.now();
    const reading = this.store
      .get()
      .then((stored) => this.keep(startedAt, applySettings(this.base, stored)))
      .finally(() => {
        if (this.reading === reading) this.reading = undefined;
      });
    this.reading = reading;
    return reading;
  }

  /** Versions only grow: an older read that answers late never replaces a newer one. */
  private keep(readAt: number, site: SiteConfig): SiteConfig {
    const kept = this.cached;
    if (!kept || versionOf(site) > versionOf(kept.site) || (versionOf(site) === versionOf(kept.site) && readAt >= kept.readAt)) this.cached = { readAt, site };
    return site;
  }
}
