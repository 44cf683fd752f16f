/** An active WebSub subscription (https://www.w3.org/TR/websub/#subscribing). */
export interface Subscription {
  /** subscriptionId(topicKey, callback): stable across re-subscriptions. */
  id: string;
  /** The document's key in the bucket (what topicOf mapped the topic URL to). */
  topicKey: string;
  /** The topic URL as the subscriber gave it. */
  topic: string;
  callback: string;
  /** The callback's host name, lower case: the per-host limit counts by it. */
  host: string;
  secret?: string;
  leaseSeconds: number;
  /** Epoch ms; past it, the subscription is gone whether or not its item is. */
  expiresAt: number;
  /** First verified (ISO 8601); kept by re-subscriptions. */
  subscribedAt: string;
  /** Last verified (ISO 8601). */
  verifiedAt: string;
}

/** Where subscriptions live. Every read leaves out expired subscriptions; nothing here scans. */
export interface SubscriptionStore {
  /** The active subscription of this callback to this topic. */
  get(topicKey: string, callback: string): Promise<Subscription | undefined>;
  /** Every active subscriber of these topics, all documents of one feed (one Query, whatever their number). */
  listActive(topicKeys: string[]): Promise<Subscription[]>;
  countActive(topicKey: string): Promise<number>;
  countActiveForHost(host: string): Promise<number>;
  /** Creates or renews (same topic and callback: same subscription, updated). */
  save(subscription: Omit<Subscription, 'subscribedAt'> & { subscribedAt?: string }): Promise<void>;
  remove(subscription: Pick<Subscription, 'topicKey' | 'callback' | 'host' | 'id'>): Promise<void>;
  /**
   * Claims a verification job before its one request goes out: false when it was claimed already (the queue
   * handed the job over twice), so that a hub request never causes two verification requests.
   */
  claimVerification(jobId: string, untilMs: number): Promise<boolean>;
}
