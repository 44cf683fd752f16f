import { createHash } from 'node:crypto';

/**
 * The hub's items in the one table (lib/store/table.ts holds the rest):
 *   SUB#<topicKey>     <callback>          a subscription: all subscribers of a topic are one Query
 *   SUBHOST#<host>     <subscriptionId>    the same subscription seen from its callback's host: the per-host limit is
 *                                         one Query (COUNT) of this partition, never a Scan
 *   HUBJOB#<jobId>     CLAIM               a verification job that has sent (or is sending) its one request
 * Each carries `expiresAt` (epoch ms, filtered on every read: DynamoDB Local never deletes expired items) and `ttl`
 * (epoch seconds, the table's TTL attribute in AWS, which deletes them within a few days of expiry).
 */
export const hubKeys = {
  subscription: (topicKey: string, callback: string) => ({ PK: `${SUBSCRIPTION_PREFIX}${topicKey}`, SK: callback }),
  topicPartition: (topicKey: string) => `${SUBSCRIPTION_PREFIX}${topicKey}`,
  hostSubscription: (host: string, subscriptionId: string) => ({ PK: `${HOST_PREFIX}${host}`, SK: subscriptionId }),
  hostPartition: (host: string) => `${HOST_PREFIX}${host}`,
  verificationClaim: (jobId: string) => ({ PK: `HUBJOB#${jobId}`, SK: 'CLAIM' }),
};

export const SUBSCRIPTION_PREFIX = 'SUB#';
export const HOST_PREFIX = 'SUBHOST#';
/** The attribute DynamoDB's TTL reads (epoch seconds); the CDK table must name it. */
export const TTL_ATTRIBUTE = 'ttl';

export const ttlOf = (expiresAt: number) => Math.ceil(expiresAt / 1000);

/**
 * A subscription's stable id: the same (topic, callback) always has the same one, so re-subscribing updates it.
 * It is the FIFO group of its deliveries (SQS MessageGroupId: at most 128 characters of a restricted set).
 */
export function subscriptionId(topicKey: string, callback: string): string {
  return createHash('sha256').update(`${topicKey}\n${callback}`, 'utf8').digest('base64url').slice(0, 32);
}

/** A topic's FIFO group: its notifications fan out in the order they were announced. */
export function topicGroup(topicKey: string): string {
  return `t-${createHash('sha256').update(topicKey, 'utf8').digest('base64url').slice(0, 32)}`;
}
