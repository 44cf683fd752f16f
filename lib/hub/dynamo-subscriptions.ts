import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { feedOfTopic, hubKeys, ttlOf } from './keys.js';
import type { Subscription, SubscriptionStore } from './subscriptions.js';

function toSubscription(item: Record<string, unknown>): Subscription {
  return {
    id: String(item.id),
    topicKey: String(item.topicKey),
    topic: String(item.topic),
    // Before layout 4 the sort key was the callback, and no attribute held it.
    callback: String(item.callback ?? item.SK),
    host: String(item.host),
    ...(typeof item.secret === 'string' ? { secret: item.secret } : {}),
    leaseSeconds: Number(item.leaseSeconds),
    expiresAt: Number(item.expiresAt),
    subscribedAt: String(item.subscribedAt),
    verifiedAt: String(item.verifiedAt),
  };
}

/**
 * SET of every attribute (names aliased: some, like `ttl`, are reserved words), `subscribedAt` only when absent,
 * and the secret set or removed.
 */
function updateOf(values: Record<string, unknown>, ifAbsent: Record<string, unknown>, secret: string | undefined) {
  const names: Record<string, string> = {};
  const vals: Record<string, unknown> = {};
  const sets: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    [names[`#${name}`], vals[`:${name}`]] = [name, value];
    sets.push(`#${name} = :${name}`);
  }
  for (const [name, value] of Object.entries(ifAbsent)) {
    [names[`#${name}`], vals[`:${name}`]] = [name, value];
    sets.push(`#${name} = if_not_exists(#${name}, :${name})`);
  }
  names['#secret'] = 'secret';
  if (secret !== undefined) {
    vals[':secret'] = secret;
    sets.push('#secret = :secret');
  }
  const remove = secret === undefined ? ' REMOVE #secret' : '';
  return { UpdateExpression: `SET ${sets.join(', ')}${remove}`, ExpressionAttributeNames: names, ExpressionAttributeValues: vals };
}

/**
 * Subscriptions in the one table (lib/hub/keys.ts): an item per (topic, callback) under the topic's feed, and its twin
 * under the callback's host, written and deleted together in one transaction. Expired items stay until DynamoDB's
 * TTL deletes them (never, in DynamoDB Local), so every read filters on `expiresAt`.
 *
 * `legacyLayout`: whether subscriptions stored before layout 4 (a partition per topic) may still be in the table, as
 * in AWS until `feedpub hub move-subscriptions` has marked it (`hubKeys.layout`, looked at every five minutes until
 * seen); the local stack moves them when it opens the table, and passes false. Reads then look at a topic's old
 * partition too, before its new one (a move between the two reads is atomic: the second finds what the first
 * missed); once a topic's old partition holds no active subscription, this process no longer reads it; writes
 * delete the old item in their transaction. Reads never move what they find: a function of the old version still
 * running during the deploy may unsubscribe it, deleting only the old item, which the move would have left behind
 * (the move is `feedpub hub move-subscriptions`, once those functions have stopped).
 */
export class DynamoSubscriptionStore implements SubscriptionStore {
  /** Topics whose old partition this process found without an active subscription. */
  private readonly movedTopics = new Set<string>();
  private layoutMoved = false;
  private layoutCheckedAt = -Infinity;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
    private readonly legacyLayout = true,
  ) {}

  async get(topicKey: string, callback: string): Promise<Subscription | undefined> {
    const read = async (Key: Record<string, string>) => (await this.doc.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true }))).Item;
    const legacy = (await this.readsLegacy(topicKey)) ? await read(hubKeys.legacySubscription(topicKey, callback)) : undefined;
    const item = (await read(hubKeys.subscription(topicKey, callback))) ?? legacy;
    return item && this.active(item) ? toSubscription(item) : undefined;
  }

  async listActive(topicKeys: string[]): Promise<Subscription[]> {
    const feeds = new Set(topicKeys.map((key) => feedOfTopic(key).feed));
    if (feeds.size !== 1) throw new Error(`listActive takes the topics of one feed, not ${[...feeds].join(', ') || 'none'}`);
    const legacyTopics: string[] = [];
    for (const key of topicKeys) if (await this.readsLegacy(key)) legacyTopics.push(key);
    const legacyOf = new Map<string, Record<string, unknown>[]>();
    for (const key of legacyTopics) legacyOf.set(key, await this.list(hubKeys.legacyTopicPartition(key)));
    const items = await this.list(hubKeys.feedPartition([...feeds][0]!));
    const wanted = new Set(topicKeys);
    const found = new Map(items.filter((item) => wanted.has(String(item.topicKey))).map((item) => [String(item.id), toSubscription(item)]));
    // One in both layouts (stored anew since: a renewal) is the newer one, read in its feed's partition.
    for (const item of [...legacyOf.values()].flat()) if (!found.has(String(item.id))) found.set(String(item.id), toSubscription(item));
    // Nothing writes an old partition any more (but the old version's functions during a deploy, before the topic is
    // read here): one found without an active subscription is not read again by this process.
    for (const [key, legacy] of legacyOf) if (legacy.length === 0) this.movedTopics.add(key);
    return [...found.values()];
  }

  async countActive(topicKey: string): Promise<number> {
    const legacy = (await this.readsLegacy(topicKey)) ? await this.count(hubKeys.legacyTopicPartition(topicKey)) : 0;
    return legacy + (await this.count(hubKeys.feedPartition(feedOfTopic(topicKey).feed), topicKey));
  }

  countActiveForHost(host: string): Promise<number> {
    return this.count(hubKeys.hostPartition(host));
  }

  async save(subscription: Omit<Subscription, 'subscribedAt'> & { subscribedAt?: string }): Promise<void> {
    const { id, topicKey, topic, callback, host, secret, leaseSeconds, expiresAt, verifiedAt } = subscription;
    const ttl = ttlOf(expiresAt);
    const legacyDelete = await this.legacyDelete(topicKey, callback);
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            // An update, not a put: a re-subscription keeps its first subscribedAt, and a secret it no longer gives is removed.
            Update: {
              TableName: this.tableName,
              Key: hubKeys.subscription(topicKey, callback),
              ...updateOf({ id, topicKey, topic, callback, host, leaseSeconds, expiresAt, ttl, verifiedAt }, { subscribedAt: subscription.subscribedAt ?? verifiedAt }, secret),
            },
          },
          { Put: { TableName: this.tableName, Item: { ...hubKeys.hostSubscription(host, id), topicKey, callback, expiresAt, ttl } } },
          ...legacyDelete,
        ],
      }),
    );
  }

  async remove({ topicKey, callback, host, id }: Pick<Subscription, 'topicKey' | 'callback' | 'host' | 'id'>): Promise<void> {
    const legacyDelete = await this.legacyDelete(topicKey, callback);
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.tableName, Key: hubKeys.subscription(topicKey, callback) } },
          { Delete: { TableName: this.tableName, Key: hubKeys.hostSubscription(host, id) } },
          ...legacyDelete,
        ],
      }),
    );
  }

  async claimVerification(jobId: string, untilMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...hubKeys.verificationClaim(jobId), expiresAt: untilMs, ttl: ttlOf(untilMs) },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private async readsLegacy(topicKey: string): Promise<boolean> {
    return this.legacyLayout && !this.movedTopics.has(topicKey) && !(await this.allMoved());
  }

  /** Whether `feedpub hub move-subscriptions` has marked the table: read at most every five minutes until it has. */
  private async allMoved(): Promise<boolean> {
    if (!this.layoutMoved && Date.now() - this.layoutCheckedAt >= 300_000) {
      this.layoutCheckedAt = Date.now();
      const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: hubKeys.layout, ConsistentRead: true }));
      this.layoutMoved = Number(out.Item?.version) >= 4;
    }
    return this.layoutMoved;
  }

  private active(item: Record<string, unknown>): boolean {
    return Number(item.expiresAt) > this.now();
  }

  /** A write's deletion of the subscription's item of before layout 4, while one may be there. */
  private async legacyDelete(topicKey: string, callback: string) {
    return this.legacyLayout && !(await this.allMoved()) ? [{ Delete: { TableName: this.tableName, Key: hubKeys.legacySubscription(topicKey, callback) } }] : [];
  }

  private async list(partition: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    await this.queryActive(partition, undefined, false, (page) => items.push(...page));
    return items;
  }

  private async count(partition: string, topicKey?: string): Promise<number> {
    let count = 0;
    await this.queryActive(partition, topicKey, true, (_page, n) => (count += n));
    return count;
  }

  /**
   * Every active item of a partition, or of one topic's range of its feed's partition, page by page (a feed's 1,000
   * subscribers are a few hundred KB: one or two pages).
   */
  private async queryActive(partition: string, topicKey: string | undefined, countOnly: boolean, onPage: (items: Record<string, unknown>[], count: number) => void): Promise<void> {
    const query = {
      TableName: this.tableName,
      KeyConditionExpression: topicKey === undefined ? 'PK = :pk' : 'PK = :pk AND begins_with(SK, :topic)',
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeValues: { ':pk': partition, ':now': this.now(), ...(topicKey === undefined ? {} : { ':topic': hubKeys.topicPrefix(topicKey) }) },
      ConsistentRead: true,
      ...(countOnly ? { Select: 'COUNT' as const } : {}),
    };
    for await (const out of paginateQuery({ client: this.doc }, query)) onPage(out.Items ?? [], out.Count ?? 0);
  }
}
