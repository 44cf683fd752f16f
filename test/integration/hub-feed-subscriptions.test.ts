import { createHmac } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_FORMATS } from '../../lib/feeds/feed-ref.js';
import { feedFormatOfKey } from '../../lib/hub/feed-topics.js';
import { announce } from '../../lib/hub/announce.js';
import type { SingleTopicNotifyJob } from '../../lib/hub/jobs.js';
import { HOST_PREFIX, subscriptionId, SUBSCRIPTION_PREFIX } from '../../lib/hub/keys.js';
import { ensureTable } from '../../lib/local/provision.js';
import { keys, SCHEMA_VERSION } from '../../lib/store/table.js';
import { eventually, startTestHub, Subscriber, topicUrl } from './hub-support.js';

const [RSS, ATOM, JSON_FEED] = ['feeds/categories/emnews/rss.xml', 'feeds/categories/emnews/atom.xml', 'feeds/categories/emnews/feed.json'];
const OTHER = 'feeds/tags/hk/rss.xml';
const file = (key: string, body: string) => ({ key, contentType: FEED_FORMATS[feedFormatOfKey(key)!].contentType, body });

let hub: Awaited<ReturnType<typeof startTestHub>>;
let subscriber: Subscriber;
/** The Queries of subscription partitions the hub's store sends, counted on its client as DynamoDB receives them. */
const subscriptionQueries: string[] = [];

beforeAll(async () => {
  hub = await startTestHub();
  subscriber = await Subscriber.start();
  hub.doc.middlewareStack.add(
    (next) => async (args) => {
      const input = (args as { input: { ExpressionAttributeValues?: Record<string, unknown> } }).input;
      const pk = input.ExpressionAttributeValues?.[':pk'];
      if (typeof pk === 'string' && pk.startsWith(SUBSCRIPTION_PREFIX)) subscriptionQueries.push(pk);
      return next(args);
    },
    { step: 'initialize', name: 'countSubscriptionQueries' },
  );
});
afterAll(async () => {
  await hub?.stop();
  await subscriber?.stop();
});

async function subscribe(path: string, key: string) {
  expect((await hub.request({ 'hub.mode': 'subscribe', 'hub.topic': topicUrl(key), 'hub.callback': subscriber.url(path) })).status).toBe(202);
  await eventually(() => hub.subscriptions.get(key, subscriber.url(path)), 5000, `the subscription of ${path}`);
}

describe("a feed's subscriptions, one partition per feed", () => {
  it("one render's documents of a feed are one notification, fanned out by one Query, each subscriber receiving its format's bytes", async () => {
    await subscribe('/rss', RSS);
    await subscribe('/atom', ATOM);
    await subscribe('/other', OTHER);
    await hub.queue.drained();
    subscriptionQueries.length = 0;
    const jobs = await announce(hub.queue, [file(RSS, '<rss>1</rss>'), file(ATOM, '<feed>1</feed>'), file(JSON_FEED, '{"n":1}')], { inlineBodyMaxBytes: Infinity });
    expect(jobs).toHaveLength(1);
    await eventually(() => subscriber.deliveries('/rss').length > 0 && subscriber.deliveries('/atom').length > 0, 5000, 'both deliveries');
    await hub.queue.drained();
    expect(subscriber.deliveries('/rss').map((d) => d.body.toString())).toEqual(['<rss>1</rss>']);
    expect(subscriber.deliveries('/atom').map((d) => d.body.toString())).toEqual(['<feed>1</feed>']);
    expect(subscriber.deliveries('/atom')[0]!.headers.link).toContain(`<${topicUrl(ATOM)}>; rel="self"`);
    expect(subscriber.deliveries('/other')).toEqual([]);
    expect(subscriptionQueries).toEqual([`${SUBSCRIPTION_PREFIX}feeds/categories/emnews/`]);
  });

  it('a topic counts only its own subscribers toward its limit, not its feed\'s other formats', async () => {
    expect(await hub.subscriptions.countActive(RSS)).toBe(1);
    expect(await hub.subscriptions.countActive(JSON_FEED)).toBe(0);
    expect((await hub.subscriptions.listActive([RSS, ATOM, JSON_FEED])).map((s) => s.topicKey).sort()).toEqual([ATOM, RSS]);
  });

  it('a notification queued by feedpub before layout 4 (one topic, no feed) is still fanned out', async () => {
    const old: SingleTopicNotifyJob = { kind: 'notify', id: 'queued-before-the-upgrade', topicKey: RSS, contentType: FEED_FORMATS.rss.contentType, body: { inline: Buffer.from('<rss>old</rss>').toString('base64') }, announcedAt: Date.now() };
    await hub.queue.send([old]);
    await eventually(() => subscriber.deliveries('/rss').some((d) => d.body.toString() === '<rss>old</rss>'), 5000, 'the delivery');
    expect(subscriber.deliveries('/atom').map((d) => d.body.toString())).toEqual(['<feed>1</feed>']);
  });
});

describe('a table of layout 3', () => {
  it('has its subscriptions moved when the local stack opens it: they receive the next version, signed, and keep their limits', async () => {
    // As feedpub before layout 4 stored two subscriptions: a partition per topic, the callback as sort key, with their host twins.
    const now = Date.now();
    const legacy = (key: string, path: string, secret?: string) => {
      const callback = subscriber.url(path);
      const id = subscriptionId(key, callback);
      const item = { PK: `${SUBSCRIPTION_PREFIX}${key}`, SK: callback, id, topicKey: key, topic: topicUrl(key), host: '127.0.0.1', leaseSeconds: 86_400, expiresAt: now + 86_400_000, ttl: Math.ceil(now / 1000) + 86_400, verifiedAt: new Date(now).toISOString(), subscribedAt: new Date(now - 1000).toISOString(), ...(secret ? { secret } : {}) };
      return [item, { PK: `${HOST_PREFIX}127.0.0.1`, SK: id, topicKey: key, callback, expiresAt: item.expiresAt, ttl: item.ttl }];
    };
    const items = [...legacy(JSON_FEED, '/legacy-json', 'old secret'), ...legacy(OTHER, '/legacy-other'), ...legacy(RSS, '/rss')];
    for (const Item of items) await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item }));
    await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item: { ...keys.schema, version: 3 } }));

    await ensureTable(new DynamoDBClient({}), hub.tableName);

    const schema = await hub.doc.send(new GetCommand({ TableName: hub.tableName, Key: keys.schema, ConsistentRead: true }));
    expect(schema.Item?.version).toBe(SCHEMA_VERSION);
    for (const { PK, SK } of items.filter((i) => i.PK.startsWith(SUBSCRIPTION_PREFIX))) {
      expect((await hub.doc.send(new GetCommand({ TableName: hub.tableName, Key: { PK, SK }, ConsistentRead: true }))).Item, `${PK} ${SK} left behind`).toBeUndefined();
    }
    const moved = await hub.subscriptions.get(JSON_FEED, subscriber.url('/legacy-json'));
    expect(moved).toMatchObject({ topicKey: JSON_FEED, callback: subscriber.url('/legacy-json'), secret: 'old secret', subscribedAt: new Date(now - 1000).toISOString() });
    // The /rss subscription had been stored anew meanwhile (its verification above): that newer one is kept.
    expect((await hub.subscriptions.get(RSS, subscriber.url('/rss')))?.verifiedAt).not.toBe(new Date(now).toISOString());
    expect(await hub.subscriptions.countActive(OTHER)).toBe(2);

    await announce(hub.queue, [file(JSON_FEED, '{"n":2}'), file(OTHER, '<rss>hk</rss>')], { inlineBodyMaxBytes: Infinity });
    const [json] = await eventually(() => subscriber.deliveries('/legacy-json').length > 0 && subscriber.deliveries('/legacy-json'), 5000, 'the delivery to a moved subscription');
    expect(json!.body.toString()).toBe('{"n":2}');
    expect(json!.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', 'old secret').update(json!.body).digest('hex')}`);
    await eventually(() => subscriber.deliveries('/legacy-other').length > 0, 5000, 'the delivery to the other moved subscription');
  });
});
