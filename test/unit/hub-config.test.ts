import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.js';
import { loadHubConfig } from '../../lib/hub/hub-config.js';

describe('loadHubConfig', () => {
  it('applies the defaults: leases of a day (at most ten), private callbacks refused, 12 attempts from 10 s', () => {
    expect(loadHubConfig({ FEEDPUB_HUB_URL: 'https://api.example.com/hub' })).toEqual({
      hubUrl: 'https://api.example.com/hub',
      leaseDefaultSeconds: 86_400,
      leaseMinSeconds: 60,
      leaseMaxSeconds: 864_000,
      allowPrivateCallbacks: false,
      maxSubscribersPerTopic: 1000,
      maxSubscriptionsPerHost: 100,
      requestTimeoutMs: 10_000,
      deliveryConcurrency: 16,
      inlineBodyMaxBytes: 150_000,
      retry: { firstDelayMs: 10_000, maxDelayMs: 900_000, maxAttempts: 12 },
    });
  });

  it('dead-letters by age too when FEEDPUB_HUB_RETRY_MAX_AGE is set', () => {
    expect(loadHubConfig({ FEEDPUB_HUB_URL: 'https://a.example/hub', FEEDPUB_HUB_RETRY_MAX_AGE: '7200' }).retry).toEqual({ firstDelayMs: 10_000, maxDelayMs: 900_000, maxAttempts: 12, maxAgeMs: 7_200_000 });
  });

  it('takes the runner URL when FEEDPUB_HUB_URL is absent', () => {
    expect(loadHubConfig({ FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: 'true' }, 'http://127.0.0.1:3000/hub')).toMatchObject({ hubUrl: 'http://127.0.0.1:3000/hub', allowPrivateCallbacks: true });
  });

  it('fails fast naming every bad variable', () => {
    const load = () => loadHubConfig({ FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: 'yes', FEEDPUB_HUB_LEASE_MAX: '0', FEEDPUB_HUB_TIMEOUT: 'soon' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: must be true or false/);
    expect(load).toThrow(/FEEDPUB_HUB_LEASE_MAX/);
    expect(load).toThrow(/FEEDPUB_HUB_TIMEOUT/);
  });

  it('refuses a default lease outside its bounds, and a missing hub URL', () => {
    expect(() => loadHubConfig({ FEEDPUB_HUB_URL: 'https://a.example/hub', FEEDPUB_HUB_LEASE_DEFAULT: '100', FEEDPUB_HUB_LEASE_MIN: '200' })).toThrow(/FEEDPUB_HUB_LEASE_DEFAULT: must lie between/);
    expect(() => loadHubConfig({})).toThrow(/FEEDPUB_HUB_URL: is required/);
  });
});
