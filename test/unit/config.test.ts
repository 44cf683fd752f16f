import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, localSettings } from '../../lib/config.js';

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

describe('localSettings', () => {
  it('gives the local port, render slots of each lane and slow-request threshold, 3000, 8 and 4, and 1000 ms by default', () => {
    expect(localSettings({})).toEqual({ port: 3000, renderSlots: 8, backgroundRenderSlots: 4, slowMs: 1000 });
    expect(localSettings({ PORT: '8080', FEEDPUB_LOCAL_RENDER_SLOTS: '2', FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS: '1', FEEDPUB_LOCAL_SLOW_MS: '0' })).toEqual({ port: 8080, renderSlots: 2, backgroundRenderSlots: 1, slowMs: 0 });
  });

  it('refuses a port or a number of slots that is not one, naming each', () => {
    expect(() => localSettings({ PORT: 'eighty', FEEDPUB_LOCAL_RENDER_SLOTS: '0' })).toThrow(ConfigError);
    expect(() => localSettings({ PORT: 'eighty', FEEDPUB_LOCAL_RENDER_SLOTS: '0' })).toThrow(/PORT: [^\n]+\n\s+FEEDPUB_LOCAL_RENDER_SLOTS: /);
    expect(() => localSettings({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => localSettings({ PORT: '0' })).toThrow(/PORT/);
    expect(() => localSettings({ PORT: '80.5' })).toThrow(/PORT/);
    expect(() => localSettings({ FEEDPUB_LOCAL_SLOW_MS: '-1' })).toThrow(/FEEDPUB_LOCAL_SLOW_MS: /);
    expect(() => localSettings({ FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS: '65' })).toThrow(/FEEDPUB_LOCAL_BACKGROUND_RENDER_SLOTS: /);
  });
});
