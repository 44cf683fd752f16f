import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

const required = { FEEDPUB_TABLE: 'feedpub', FEEDPUB_BUCKET: 'feeds-bucket', FEEDPUB_SITE_URL: 'https://site.example/' };

describe('loadConfig', () => {
  it('applies defaults and trims the trailing slash of URLs', () => {
    const config = loadConfig(required);
    expect(config.site).toMatchObject({ url: 'https://site.example', feedsUrl: 'https://site.example', feedItems: 50, timeZone: 'UTC', language: 'en' });
  });

  it('fails fast naming every bad variable', () => {
    expect(() => loadConfig({ ...required, FEEDPUB_TIMEZONE: 'Mars/Olympus', FEEDPUB_FEED_ITEMS: 'many', FEEDPUB_TABLE: undefined })).toThrow(ConfigError);
    try {
      loadConfig({ ...required, FEEDPUB_TIMEZONE: 'Mars/Olympus', FEEDPUB_FEED_ITEMS: 'many', FEEDPUB_TABLE: undefined });
    } catch (error) {
      expect((error as Error).message).toMatch(/FEEDPUB_TABLE/);
      expect((error as Error).message).toMatch(/FEEDPUB_TIMEZONE: must be an IANA time zone/);
      expect((error as Error).message).toMatch(/FEEDPUB_FEED_ITEMS/);
    }
  });
});
