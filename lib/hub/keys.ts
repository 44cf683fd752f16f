import { createHash } from 'node:crypto';

export const SUBSCRIPTION_PREFIX = 'SUB#';
export const HOST_PREFIX = 'SUBHOST#';

/**
 * The hub's items in the one table (lib/store/table.ts holds the rest):
 *   SUB#<feed>         <file> <callback>   a subscription, under its feed's directory (`feeds/`, `feeds/tags/x/`):
 *                                         all subscribers of a feed's three formats are one Query, those of one
 *                                         format the Query's `begins_with(SK, "<file> ")` (before layout 4:
 *                                         `SUB#<topicKey>  <callback>`, a partition per topic, which
 *                                         moveSubscriptions moves; a feed's directory ends with a slash and a
 *                                         topic key never does, so the two never share a partition)
 *   SUB#               LAYOUT              `version: 4` once moveSubscriptions has moved every older one
 *   SUBHOST#<host>     <subscriptionId>    the same subscription seen from its callback's host: the per-host limit is
 *                                         one Query (COUNT) of this partition, never a Scan
 *   HUBJOB#<jobId>     CLAIM               a verification job that has sent (or is sending) its one request
 * Each carries `expiresAt` (epoch ms, filtered on every read: DynamoDB Local never deletes expired items) and `ttl`
 * (epoch seconds, the table's TTL attribute in AWS, which deletes them within a few days of expiry).
 */
export const hubKeys = {
  subscription: (topicKey: string, callback: string) => {
    const { feed, file } = feedOfTopic(topicKey);
    return { PK: `${SUBSCRIPTION_PREFIX}${feed}`, SK: `${file} ${callback}` };
  },
  feedPartition: (feed: string) => `${SUBSCRIPTION_PREFIX}${feed}`,
  /** The sort-key prefix of a topic's subscriptions in its feed's partition. */
  topicPrefix: (topicKey: string) => `${feedOfTopic(topicKey).file} `,
  /** A subscription where feedpub before layout 4 stored it, and that topic's partition. */
  legacySubscription: (topicKey: string, callback: string) => ({ PK: `${SUBSCRIPTION_PREFIX}${topicKey}`, SK: callback }),
  legacyTopicPartition: (topicKey: string) => `${SUBSCRIPTION_PREFIX}${topicKey}`,
  /** Present, with `version: 4`, once every subscription of before layout 4 is moved (moveSubscriptions). */
  layout: { PK: SUBSCRIPTION_PREFIX, SK: 'LAYOUT' },
  hostSubscription: (host: string, subscriptionId: string) => ({ PK: `${HOST_PREFIX}${host}`, SK: subscriptionId }),
  hostPartition: (host: string) => `${HOST_PREFIX}${host}`,
  verificationClaim: (jobId: string) => ({ PK: `HUBJOB#${jobId}`, SK: 'CLAIM' }),
};

/** A topic key's feed (its directory, with the trailing slash) and file name: `feeds/tags/x/` and `atom.xml`. */
export function feedOfTopic(topicKey: string): { feed: string; file: string } {
  const slash = topicKey.lastIndexOf('/');
  return { feed: topicKey.slice(0, slash + 1), file: topicKey.slice(slash + 1) };
}

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

/** A FIFO group of notifications (a feed's, or a topic's for the jobs of before layout 4), in announcement order. */
export function topicGroup(feedOrTopicKey: string): string {
  return `t-${createHash('sha256').update(feedOrTopicKey, 'utf8').digest('base64url').slice(0, 32)}`;
}
