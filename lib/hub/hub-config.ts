import * as z from 'zod/mini';
import { ConfigError } from '../config.js';
import '../zod-locale.js';
import type { RetryPolicy } from './backoff.js';

export interface HubConfig {
  /** Public URL of the hub (`POST /hub`): the Link rel="hub" of every delivery. */
  hubUrl: string;
  /** Lease granted when a subscriber asks for none; asked-for leases are clamped to [min, max]. */
  leaseDefaultSeconds: number;
  leaseMinSeconds: number;
  leaseMaxSeconds: number;
  /** Callbacks on private, loopback or link-local addresses: true locally (tests, development), false in AWS. */
  allowPrivateCallbacks: boolean;
  maxSubscribersPerTopic: number;
  maxSubscriptionsPerHost: number;
  /** Longest a verification or delivery request may take, connection included. */
  requestTimeoutMs: number;
  /** Deliveries in flight at once in one process (the local queue; Lambda's concurrency in AWS). */
  deliveryConcurrency: number;
  /**
   * A notification's bodies (a feed's documents of one render) travel inside its queue message up to this size in
   * all, smallest first; the others by S3 key and VersionId. A delivery carries one body, inline if it was.
   */
  inlineBodyMaxBytes: number;
  retry: RetryPolicy;
}

const seconds = (fallback: number, max: number) => z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(max)), fallback);
const count = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1_000_000)), fallback);
const DAY = 86_400;

const envSchema = z.object({
  FEEDPUB_HUB_URL: z.optional(z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })),
  FEEDPUB_HUB_LEASE_DEFAULT: seconds(DAY, 365 * DAY),
  FEEDPUB_HUB_LEASE_MIN: seconds(60, 365 * DAY),
  FEEDPUB_HUB_LEASE_MAX: seconds(10 * DAY, 365 * DAY),
  FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS: z._default(z.enum(['true', 'false'], 'must be true or false'), 'false'),
  FEEDPUB_HUB_MAX_SUBSCRIBERS_PER_TOPIC: count(1_000),
  FEEDPUB_HUB_MAX_SUBSCRIPTIONS_PER_HOST: count(100),
  FEEDPUB_HUB_TIMEOUT: seconds(10, 60),
  FEEDPUB_HUB_CONCURRENCY: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(256)), 16),
  // SQS takes 256 KB per message, and base64 adds a third: 150 KB of feed fits with room for the rest of the job;
  // at most 180 KB (240 KB in base64) leaves 14 KB for the rest of a notification (its three topic keys and types).
  FEEDPUB_HUB_INLINE_BODY_BYTES: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(180_000)), 150_000),
  FEEDPUB_HUB_RETRY_FIRST: seconds(10, 3600),
  FEEDPUB_HUB_RETRY_MAX_DELAY: seconds(900, 12 * 3600),
  FEEDPUB_HUB_RETRY_ATTEMPTS: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 12),
  // Local queue only: in AWS the redrive policy counts receives, and the queue's retention bounds age.
  FEEDPUB_HUB_RETRY_MAX_AGE: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(14 * DAY))),
});

/**
 * Reads the hub's configuration once, failing fast with every bad variable named. `fallbackHubUrl` is where the
 * runner serves `POST /hub` when FEEDPUB_HUB_URL does not say (the local runner's own URL).
 */
export function loadHubConfig(env: Record<string, string | undefined> = process.env, fallbackHubUrl?: string): HubConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const e = parsed.data;
  if (e && !(e.FEEDPUB_HUB_LEASE_MIN <= e.FEEDPUB_HUB_LEASE_DEFAULT && e.FEEDPUB_HUB_LEASE_DEFAULT <= e.FEEDPUB_HUB_LEASE_MAX)) {
    problems.push('FEEDPUB_HUB_LEASE_DEFAULT: must lie between FEEDPUB_HUB_LEASE_MIN and FEEDPUB_HUB_LEASE_MAX');
  }
  const hubUrl = e?.FEEDPUB_HUB_URL ?? fallbackHubUrl;
  if (e && !hubUrl) problems.push('FEEDPUB_HUB_URL: is required (the public URL of POST /hub)');
  if (!e || problems.length > 0) throw new ConfigError(`Invalid feedpub hub configuration:\n  ${problems.join('\n  ')}`);
  return {
    hubUrl: hubUrl!,
    leaseDefaultSeconds: e.FEEDPUB_HUB_LEASE_DEFAULT,
    leaseMinSeconds: e.FEEDPUB_HUB_LEASE_MIN,
    leaseMaxSeconds: e.FEEDPUB_HUB_LEASE_MAX,
    allowPrivateCallbacks: e.FEEDPUB_HUB_ALLOW_PRIVATE_CALLBACKS === 'true',
    maxSubscribersPerTopic: e.FEEDPUB_HUB_MAX_SUBSCRIBERS_PER_TOPIC,
    maxSubscriptionsPerHost: e.FEEDPUB_HUB_MAX_SUBSCRIPTIONS_PER_HOST,
    requestTimeoutMs: e.FEEDPUB_HUB_TIMEOUT * 1000,
    deliveryConcurrency: e.FEEDPUB_HUB_CONCURRENCY,
    inlineBodyMaxBytes: e.FEEDPUB_HUB_INLINE_BODY_BYTES,
    retry: {
      firstDelayMs: e.FEEDPUB_HUB_RETRY_FIRST * 1000,
      maxDelayMs: e.FEEDPUB_HUB_RETRY_MAX_DELAY * 1000,
      maxAttempts: e.FEEDPUB_HUB_RETRY_ATTEMPTS,
      ...(e.FEEDPUB_HUB_RETRY_MAX_AGE !== undefined ? { maxAgeMs: e.FEEDPUB_HUB_RETRY_MAX_AGE * 1000 } : {}),
    },
  };
}
