import type { SiteConfig } from '../config.js';
import { WriteConflict } from '../errors.js';
import type { DynamoSiteSettings } from '../store/dynamo-site-settings.js';
import { applySettings, effectiveSettings, sameSettings, type SiteSettings, type StoredSettings } from './settings.js';
import type { CachedSiteSource, SiteSource } from './site-source.js';

/** What GET /site and PUT /site answer. */
export interface SiteSettingsView {
  /** The settings stored ({} while none are). */
  settings: SiteSettings;
  /** Every setting as renders use it: the stored one, else the deployment's default. */
  effective: Required<SiteSettings>;
  /** Moves on with each change; 0 while none are stored. */
  version: number;
}

const ATTEMPTS = 5;

/**
 * The site's settings for the API: read (GET /site) and replaced (PUT /site, last writer wins), and the site as
 * requests see it (SiteSource). A change is stored with the next version; its stream record has every feed told
 * (lib/regen/settings-fan-out.ts). This process uses a change it stored at once; others within a second.
 */
export class SiteSettingsService implements SiteSource {
  constructor(
    private readonly store: Pick<DynamoSiteSettings, 'get' | 'replace'>,
    private readonly source: CachedSiteSource,
    private readonly base: SiteConfig,
    private readonly now: () => Date = () => new Date(),
  ) {}

  current(atLeast?: number): Promise<SiteConfig> {
    return this.source.current(atLeast);
  }

  async get(): Promise<SiteSettingsView> {
    return this.view(await this.store.get());
  }

  /** Stores `settings` in place of whatever is stored; `changed` is false when they are the stored ones already. */
  async replace(settings: SiteSettings): Promise<SiteSettingsView & { changed: boolean }> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const stored = await this.store.get();
      if (sameSettings(stored?.settings ?? {}, settings)) return { ...this.view(stored), changed: false };
      const next = await this.store.replace(stored, settings, this.now());
      if (next) {
        this.source.remember(next);
        return { ...this.view(next), changed: true };
      }
      // Another change was stored between our read and our write: read it, and write over it.
    }
    throw new WriteConflict('site', { what: "The site's settings" });
  }

  private view(stored: StoredSettings | undefined): SiteSettingsView {
    return { settings: stored?.settings ?? {}, effective: effectiveSettings(applySettings(this.base, stored)), version: stored?.version ?? 0 };
  }
}
