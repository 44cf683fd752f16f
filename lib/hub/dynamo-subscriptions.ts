import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { feedOfTopic, hubKeys, ttlOf } from './keys.js';
import type { Subscription, SubscriptionStore } from './subscriptions.js';

function toSubscription(item: Record<string, unknown>): Subscription {
  return {
    id: String(item.id),
    topicKey: String(item.topicKey),
    topic: String(item.topic),
    callback: String(item.callback),
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
 */
export class DynamoSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(topicKey: string, callback: string): Promise<Subscription | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: hubKeys.subscription(topicKey, callback), ConsistentRead: true }));
    return out.Item && Number(out.Item.expiresAt) > this.now() ? toSubscription(out.Item) : undefined;
  }

  async listActive(topicKeys: string[]): Promise<Subscription[]> {
    const feeds = new Set(topicKeys.map((key) => feedOfTopic(key).feed));
    if (feeds.size !== 1) throw new Error(`listActive takes the topics of one feed, not ${[...feeds].join(', ') || 'none'}`);
    const items: Record<string, unknown>[] = [];
    await this.queryActive(hubKeys.feedPartition([...feeds][0]!), undefined, false, (page) => items.push(...page));
    const wanted = new Set(topicKeys);
    return items.filter((item) => wanted.has(String(item.topicKey))).map(toSubscription);
  }

  countActive(topicKey: string): Promise<number> {
    return this.count(hubKeys.feedPartition(feedOfTopic(topicKey).feed), topicKey);
  }

  countActiveForHost(host: string): Promise<number> {
    return this.count(hubKeys.hostPartition(host));
  }

  async save(subscription: Omit<Subscription, 'subscribedAt'> & { subscribedAt?: string }): Promise<void> {
    const { id, topicKey, topic, callback, host, secret, leaseSeconds, expiresAt, verifiedAt } = subscription;
    const ttl = ttlOf(expiresAt);
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
        ],
      }),
    );
  }

  async remove({ topicKey, callback, host, id }: Pick<Subscription, 'topicKey' | 'callback' | 'host' | 'id'>): Promise<void> {
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.tableName, Key: hubKeys.subscription(topicKey, callback) } },
          { Delete: { TableName: this.tableName, Key: hubKeys.hostSubscription(host, id) } },
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
