import { createHmac } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FEED_FORMATS } from '../../lib/feeds/feed-ref.js';
import { feedFormatOfKey } from '../../lib/hub/feed-topics.js';
import { announce } from '../../lib/hub/announce.js';
import type { SingleTopicNotifyJob } from '../../lib/hub/jobs.js';
import { HOST_PREFIX, hubKeys, subscriptionId, SUBSCRIPTION_PREFIX } from '../../lib/hub/keys.js';
import { createDocumentClient } from '../../lib/store/clients.js';
import { ensureTable } from '../../lib/local/provision.js';
import { DynamoSubscriptionStore } from '../../lib/hub/dynamo-subscriptions.js';
import { moveLegacySubscription, moveSubscriptions } from '../../lib/hub/move-subscriptions.js';
import { keys, SCHEMA_VERSION } from '../../lib/store/table.js';
import { eventually, startTestHub, Subscriber, topicUrl } from './hub-support.js';

const [RSS, ATOM, JSON_FEED] = ['feeds/categories/emnews/rss.xml', 'feeds/categories/emnews/atom.xml', 'feeds/categories/emnews/feed.json'];
const OTHER = 'feeds/tags/hk/rss.xml';
const file = (key: string, body: string) => ({ key, contentType: FEED_FORMATS[feedFormatOfKey(key)!].contentType, body });

let hub: Awaited<ReturnType<typeof startTestHub>>;
let subscriber: Subscriber;
/** The Queries of subscription partitions the hub's store sends, counted on its client as DynamoDB receives them. */
const subscriptionQueries: string[] = [];
/** Called once a Query of a subscription partition has been answered, before the store sees the answer. */
let afterSubscriptionQuery: ((pk: string) => Promise<void>) | undefined;

beforeAll(async () => {
  hub = await startTestHub();
  subscriber = await Subscriber.start();
  hub.doc.middlewareStack.add(
    (next) => async (args) => {
      const input = (args as { input: { ExpressionAttributeValues?: Record<string, unknown> } }).input;
      const pk = input.ExpressionAttributeValues?.[':pk'];
      if (typeof pk !== 'string' || !pk.startsWith(SUBSCRIPTION_PREFIX)) return next(args);
      subscriptionQueries.push(pk);
      const result = await next(args);
      await afterSubscriptionQuery?.(pk);
      return result;
    },
    { step: 'initialize', name: 'countSubscriptionQueries' },
  );
});
afterAll(async () => {
  await hub?.stop();
  await subscriber?.stop();
});

/** A subscription as feedpub before layout 4 stored it: a partition per topic, the callback as sort key; with its host twin. */
function legacySubscription(key: string, path: string, secret?: string) {
  const now = Date.now();
  const callback = subscriber.url(path);
  const id = subscriptionId(key, callback);
  const item = { PK: `${SUBSCRIPTION_PREFIX}${key}`, SK: callback, id, topicKey: key, topic: topicUrl(key), host: '127.0.0.1', leaseSeconds: 86_400, expiresAt: now + 86_400_000, ttl: Math.ceil(now / 1000) + 86_400, verifiedAt: new Date(now).toISOString(), subscribedAt: new Date(now - 1000).toISOString(), ...(secret ? { secret } : {}) };
  return [item, { PK: `${HOST_PREFIX}127.0.0.1`, SK: id, topicKey: key, callback, expiresAt: item.expiresAt, ttl: item.ttl }] as const;
}

const itemAt = async (Key: { PK: string; SK: string }) => (await hub.doc.send(new GetCommand({ TableName: hub.tableName, Key, ConsistentRead: true }))).Item;

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
    const render = async (n: number) => {
      subscriptionQueries.length = 0;
      const jobs = await announce(hub.queue, [file(RSS, `<rss>${n}</rss>`), file(ATOM, `<feed>${n}</feed>`), file(JSON_FEED, `{"n":${n}}`)], { inlineBodyMaxBytes: Infinity });
      expect(jobs).toHaveLength(1);
      await eventually(() => subscriber.deliveries('/rss').length >= n && subscriber.deliveries('/atom').length >= n, 5000, 'both deliveries');
      await hub.queue.drained();
      return [...subscriptionQueries];
    };
    // The test hub is wired as in AWS, where subscriptions of before layout 4 may be left: the first fan-out of a
    // feed looks at its topics' old partitions too (first), and finding them empty, no later one does.
    expect(await render(1)).toEqual([`${SUBSCRIPTION_PREFIX}${RSS}`, `${SUBSCRIPTION_PREFIX}${ATOM}`, `${SUBSCRIPTION_PREFIX}${JSON_FEED}`, `${SUBSCRIPTION_PREFIX}feeds/categories/emnews/`]);
    expect(await render(2)).toEqual([`${SUBSCRIPTION_PREFIX}feeds/categories/emnews/`]);
    expect(subscriber.deliveries('/rss').map((d) => d.body.toString())).toEqual(['<rss>1</rss>', '<rss>2</rss>']);
    expect(subscriber.deliveries('/atom').map((d) => d.body.toString())).toEqual(['<feed>1</feed>', '<feed>2</feed>']);
    expect(subscriber.deliveries('/atom')[0]!.headers.link).toContain(`<${topicUrl(ATOM)}>; rel="self"`);
    expect(subscriber.deliveries('/other')).toEqual([]);
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
    expect(subscriber.deliveries('/atom').map((d) => d.body.toString())).toEqual(['<feed>1</feed>', '<feed>2</feed>']);
  });
});

describe('a table of layout 3', () => {
  it('has its subscriptions moved when the local stack opens it: they receive the next version, signed, and keep their limits', async () => {
    const [jsonOld, renewed] = [legacySubscription(JSON_FEED, '/legacy-json', 'old secret'), legacySubscription(RSS, '/rss')];
    const items = [...jsonOld, ...legacySubscription(OTHER, '/legacy-other'), ...renewed];
    for (const Item of items) await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item }));
    await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item: { ...keys.schema, version: 3 } }));

    await ensureTable(new DynamoDBClient({}), hub.tableName);
    // Marked moved: a hub built as in AWS reads only the new layout from then on.
    subscriptionQueries.length = 0;
    await new DynamoSubscriptionStore(hub.doc, hub.tableName).listActive([JSON_FEED]);
    expect(subscriptionQueries).toEqual([`${SUBSCRIPTION_PREFIX}feeds/categories/emnews/`]);
    // The next tests are of a deployment not yet marked.
    await hub.doc.send(new DeleteCommand({ TableName: hub.tableName, Key: hubKeys.layout }));

    const schema = await hub.doc.send(new GetCommand({ TableName: hub.tableName, Key: keys.schema, ConsistentRead: true }));
    expect(schema.Item?.version).toBe(SCHEMA_VERSION);
    for (const { PK, SK } of items.filter((i) => i.PK.startsWith(SUBSCRIPTION_PREFIX))) expect(await itemAt({ PK, SK }), `${PK} ${SK} left behind`).toBeUndefined();
    const moved = await hub.subscriptions.get(JSON_FEED, subscriber.url('/legacy-json'));
    expect(moved).toMatchObject({ topicKey: JSON_FEED, callback: subscriber.url('/legacy-json'), secret: 'old secret', subscribedAt: jsonOld[0].subscribedAt });
    // The /rss subscription had been stored anew meanwhile (its verification above): that newer one is kept.
    expect((await hub.subscriptions.get(RSS, subscriber.url('/rss')))?.verifiedAt).not.toBe(renewed[0].verifiedAt);
    expect(await hub.subscriptions.countActive(OTHER)).toBe(2);

    await announce(hub.queue, [file(JSON_FEED, '{"n":2}'), file(OTHER, '<rss>hk</rss>')], { inlineBodyMaxBytes: Infinity });
    const [json] = await eventually(() => subscriber.deliveries('/legacy-json').length > 0 && subscriber.deliveries('/legacy-json'), 5000, 'the delivery to a moved subscription');
    expect(json!.body.toString()).toBe('{"n":2}');
    expect(json!.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', 'old secret').update(json!.body).digest('hex')}`);
    await eventually(() => subscriber.deliveries('/legacy-other').length > 0, 5000, 'the delivery to the other moved subscription');
  });
});

describe('a deployment between its upgrade and `feedpub hub move-subscriptions`', () => {
  const [W_RSS, W_ATOM] = ['feeds/categories/window/rss.xml', 'feeds/categories/window/atom.xml'];

  it('finds the old subscriptions and pushes to them, never moving them; an unsubscription before the move, or between its Scan and its transaction, or by a function of the old version, is not brought back', async () => {
    const [kept, keptTwin] = legacySubscription(W_RSS, '/window-rss', 'kept secret');
    const [oldVersion, oldVersionTwin] = legacySubscription(W_RSS, '/window-old-version');
    const [leaving, leavingTwin] = legacySubscription(W_ATOM, '/window-leaving');
    const [racing, racingTwin] = legacySubscription(W_ATOM, '/window-racing');
    for (const Item of [kept, keptTwin, oldVersion, oldVersionTwin, leaving, leavingTwin, racing, racingTwin]) await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item }));

    // Read where they are (POST /hub's limits, a delivery's lookup).
    expect(await hub.subscriptions.get(W_RSS, subscriber.url('/window-rss'))).toMatchObject({ callback: subscriber.url('/window-rss'), secret: 'kept secret' });
    expect(await hub.subscriptions.countActive(W_ATOM)).toBe(2);
    expect(await itemAt({ PK: kept!.PK, SK: kept!.SK })).toBeDefined();

    // An unsubscription verified before any move deletes the old item with the new key's (absent) one.
    expect((await hub.request({ 'hub.mode': 'unsubscribe', 'hub.topic': topicUrl(W_ATOM), 'hub.callback': subscriber.url('/window-leaving') })).status).toBe(202);
    await eventually(async () => (await itemAt({ PK: leaving!.PK, SK: leaving!.SK })) === undefined, 5000, 'the unsubscription');
    expect(await itemAt({ PK: leavingTwin!.PK, SK: leavingTwin!.SK })).toBeUndefined();

    // One removed between the move's read of it and its transaction (the Scan of move-subscriptions) stays removed.
    await hub.subscriptions.remove({ topicKey: W_ATOM, callback: subscriber.url('/window-racing'), host: '127.0.0.1', id: String(racing!.id) });
    expect(await moveLegacySubscription(hub.doc, hub.tableName, racing!)).toBe('gone');
    expect(await hub.subscriptions.get(W_ATOM, subscriber.url('/window-racing'))).toBeUndefined();

    await announce(hub.queue, [file(W_RSS, '<rss>w</rss>'), file(W_ATOM, '<feed>w</feed>')], { inlineBodyMaxBytes: Infinity });
    const [delivery] = await eventually(() => subscriber.deliveries('/window-rss').length > 0 && subscriber.deliveries('/window-rss'), 5000, 'the delivery to an old subscription');
    expect(delivery!.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', 'kept secret').update(delivery!.body).digest('hex')}`);
    await hub.queue.drained();
    expect(subscriber.deliveries('/window-old-version')).toHaveLength(1);
    expect(subscriber.deliveries('/window-leaving')).toEqual([]);
    expect(subscriber.deliveries('/window-racing')).toEqual([]);
    // The fan-out moved nothing, so a function of the old version (the deploy still under way) that unsubscribes a
    // callback, deleting its old items only, ends it.
    expect(await itemAt({ PK: kept!.PK, SK: kept!.SK })).toBeDefined();
    for (const { PK, SK } of [oldVersion!, oldVersionTwin!]) await hub.doc.send(new DeleteCommand({ TableName: hub.tableName, Key: { PK, SK } }));
    await announce(hub.queue, [file(W_RSS, '<rss>w2</rss>')], { inlineBodyMaxBytes: Infinity });
    await eventually(() => subscriber.deliveries('/window-rss').length > 1, 5000, 'the next delivery');
    await hub.queue.drained();
    expect(subscriber.deliveries('/window-old-version')).toHaveLength(1);

    // move-subscriptions, once the old version's functions have stopped, moves what is left.
    expect(await moveSubscriptions(hub.doc, hub.tableName)).toBe(1);
    expect(await itemAt({ PK: kept!.PK, SK: kept!.SK })).toBeUndefined();
    expect(await itemAt(hubKeys.subscription(W_RSS, subscriber.url('/window-rss')))).toMatchObject({ secret: 'kept secret' });
    expect(await hub.subscriptions.countActive(W_ATOM)).toBe(0);
    await hub.doc.send(new DeleteCommand({ TableName: hub.tableName, Key: hubKeys.layout }));
  });

  it('finds a subscription moved between the fan-out\'s reads of the old and the new partition (move-subscriptions running beside the hub)', async () => {
    const [racing, twin] = legacySubscription('feeds/categories/race/atom.xml', '/race-atom');
    for (const Item of [racing, twin]) await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item }));
    // After the fan-out's first read of the feed's subscriptions, and before its next, the move commits.
    const mover = createDocumentClient();
    afterSubscriptionQuery = async (pk) => {
      if (!pk.startsWith(`${SUBSCRIPTION_PREFIX}feeds/categories/race/`)) return;
      afterSubscriptionQuery = undefined;
      expect(await moveLegacySubscription(mover, hub.tableName, racing)).toBe('moved');
    };
    try {
      await announce(hub.queue, [file('feeds/categories/race/atom.xml', '<feed>race</feed>')], { inlineBodyMaxBytes: Infinity });
      await eventually(() => subscriber.deliveries('/race-atom').length > 0, 5000, 'the delivery to the subscription moved meanwhile');
    } finally {
      afterSubscriptionQuery = undefined;
    }
  });

  it('delivers once to a subscription found in both layouts, and a renewal deletes its old item', async () => {
    const key = 'feeds/categories/both/rss.xml';
    await subscribe('/both', key);
    // A function of the old version stored it again in the old layout meanwhile.
    const [again] = legacySubscription(key, '/both');
    await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item: again }));
    await announce(hub.queue, [file(key, '<rss>both</rss>')], { inlineBodyMaxBytes: Infinity });
    await eventually(() => subscriber.deliveries('/both').length > 0, 5000, 'the delivery');
    await hub.queue.drained();
    expect(subscriber.deliveries('/both')).toHaveLength(1);

    const renewing = 'feeds/categories/renew/rss.xml';
    const [old, oldTwin] = legacySubscription(renewing, '/renewing');
    for (const Item of [old, oldTwin]) await hub.doc.send(new PutCommand({ TableName: hub.tableName, Item }));
    const before = subscriber.verifications('/renewing').length;
    expect((await hub.request({ 'hub.mode': 'subscribe', 'hub.topic': topicUrl(renewing), 'hub.callback': subscriber.url('/renewing') })).status).toBe(202);
    await eventually(() => subscriber.verifications('/renewing').length > before, 5000, 'the verification');
    await eventually(async () => (await itemAt(hubKeys.subscription(renewing, subscriber.url('/renewing')))) !== undefined, 5000, 'the renewal');
    expect(await itemAt({ PK: old.PK, SK: old.SK })).toBeUndefined();
  });
});
