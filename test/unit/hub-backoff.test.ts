import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, isExhausted, retryDelayMs, retrySchedule } from '../../lib/hub/backoff.js';

describe('the retry policy', () => {
  it('waits 10 s after the first failure and doubles up to 15 minutes', () => {
    expect(retrySchedule(DEFAULT_RETRY).map((ms) => ms / 1000)).toEqual([10, 20, 40, 80, 160, 320, 640, 900, 900, 900, 900]);
  });

  it('keeps trying for more than an hour before dead-lettering', () => {
    const total = retrySchedule(DEFAULT_RETRY).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(3600_000);
    expect(total).toBe(4870_000);
  });

  it('dead-letters at the 12th failure, not before', () => {
    expect(isExhausted(11, 0, 0, DEFAULT_RETRY)).toBe(false);
    expect(isExhausted(12, 0, 0, DEFAULT_RETRY)).toBe(true);
  });

  it('dead-letters a job older than the maximum age at its next failure', () => {
    const policy = { ...DEFAULT_RETRY, maxAgeMs: 60_000 };
    expect(isExhausted(1, 1_000, 60_999, policy)).toBe(false);
    expect(isExhausted(1, 1_000, 61_000, policy)).toBe(true);
  });

  it('never waits more than the maximum delay', () => {
    expect(retryDelayMs(40, DEFAULT_RETRY)).toBe(900_000);
  });
});
