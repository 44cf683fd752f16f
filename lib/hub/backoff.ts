/** How a failed job is retried: exponential backoff, then the dead-letter list. */
export interface RetryPolicy {
  /** Wait after the first failure; each further failure doubles it, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Attempts in all (the first one included); a job that failed this many times is dead-lettered. */
  maxAttempts: number;
  /** A job first sent longer ago than this is dead-lettered at its next failure, whatever its attempts. */
  maxAgeMs?: number;
}

/**
 * 10 s doubling up to 15 min, 12 attempts: 10, 20, 40, ... 640 s, then 900 s four times, about 81 minutes in all,
 * so a subscriber that is down for an hour still receives every version once it is back.
 */
export const DEFAULT_RETRY: RetryPolicy = { firstDelayMs: 10_000, maxDelayMs: 900_000, maxAttempts: 12 };

/** The wait before the next attempt, after `failures` failed attempts (1 after the first). */
export function retryDelayMs(failures: number, policy: RetryPolicy): number {
  return Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** Math.max(0, failures - 1));
}

/** Whether a job that has now failed `failures` times, first sent at `sentAt`, goes to the dead letters. */
export function isExhausted(failures: number, sentAt: number, now: number, policy: RetryPolicy): boolean {
  return failures >= policy.maxAttempts || (policy.maxAgeMs !== undefined && now - sentAt >= policy.maxAgeMs);
}

/** Every wait of a job that always fails, from its first failure to its dead-lettering. */
export function retrySchedule(policy: RetryPolicy): number[] {
  return Array.from({ length: policy.maxAttempts - 1 }, (_, i) => retryDelayMs(i + 1, policy));
}
