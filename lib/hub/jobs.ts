import { subscriptionId, topicGroup } from './keys.js';

/** A version's bytes: inside the job (base64, exactly the bytes), or where a BodySource finds them. */
export type JobBody = { inline: string } | { ref: BodyRef };

/** A version of an object in the bucket (versioned in AWS: the VersionId names exactly those bytes). */
export interface BodyRef {
  key: string;
  versionId: string;
}

/** Verify the intent of one hub request: at most one request to the callback (or none, if refused by then). */
export interface VerifyJob {
  kind: 'verify';
  id: string;
  mode: 'subscribe' | 'unsubscribe';
  /** The topic URL as the subscriber gave it (the hub.topic of the verification, the Link rel="self"). */
  topic: string;
  topicKey: string;
  callback: string;
  leaseSeconds: number;
  secret?: string;
  requestedAt: number;
  /**
   * Set on a job re-sent after its verification succeeded but storing the outcome failed: it only stores,
   * so that a hub request never causes a second request to the callback.
   */
  confirmedAt?: number;
}

/** A new version of one topic (a feed document), as a notification carries it. */
export interface NotifiedTopic {
  topicKey: string;
  contentType: string;
  body: JobBody;
}

/**
 * New versions of one feed's documents (what one render wrote of it: up to its three formats): fans out one
 * DeliverJob per active subscriber of each, the subscribers of all of them read by one Query.
 */
export interface NotifyJob {
  kind: 'notify';
  id: string;
  /** The feed's directory (`feeds/`, `feeds/categories/x/`): every topic below is in it. */
  feed: string;
  topics: NotifiedTopic[];
  announcedAt: number;
}

/** A notification as feedpub before layout 4 sent it, one per topic: handled still, as a deploy finds some queued. */
export interface SingleTopicNotifyJob extends NotifiedTopic {
  kind: 'notify';
  id: string;
  announcedAt: number;
}

/** The topics a notification announces, whichever its shape. */
export const notifiedTopics = (job: NotifyJob | SingleTopicNotifyJob): NotifiedTopic[] =>
  'topics' in job ? job.topics : [{ topicKey: job.topicKey, contentType: job.contentType, body: job.body }];

/** One version to one subscriber. The subscription (secret, topic URL) is read when delivering, not copied here. */
export interface DeliverJob {
  kind: 'deliver';
  id: string;
  subscriptionId: string;
  topicKey: string;
  callback: string;
  contentType: string;
  body: JobBody;
  announcedAt: number;
}

export type HubJob = VerifyJob | NotifyJob | SingleTopicNotifyJob | DeliverJob;

/**
 * Control: verifications and notifications, few and quick. Delivery: the fan-out, where slow subscribers wait; in
 * a lane of its own so that they never hold up a verification or another topic's fan-out.
 */
export type HubLane = 'control' | 'delivery';

export const laneOf = (job: HubJob): HubLane => (job.kind === 'deliver' ? 'delivery' : 'control');

/**
 * The FIFO group a job is ordered in: a feed's notifications in announcement order (so its deliveries are queued in
 * that order; a single-topic notification of before layout 4 in its topic's group), a subscription's deliveries one at a time in that order, a (topic, callback)'s verifications in the
 * order they were requested (subscribe then unsubscribe stays so).
 */
export function groupOf(job: HubJob): string {
  if (job.kind === 'notify') return topicGroup('topics' in job ? job.feed : job.topicKey);
  if (job.kind === 'deliver') return job.subscriptionId;
  return subscriptionId(job.topicKey, job.callback);
}

export const inlineBody = (bytes: Uint8Array): JobBody => ({ inline: Buffer.from(bytes).toString('base64') });
