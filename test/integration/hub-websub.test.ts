import { createHmac } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/concurrency.js';
import { hubKeys } from '../../lib/hub/keys.js';
import { eventually, HUB_URL, startTestHub, Subscriber, topicUrl } from './hub-support.js';

const RSS = 'feeds/rss.xml';
const JSON_FEED = 'feeds/categories/emnews/feed.json';
const rss = (n: number) => `<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>Test News</title><item><title>Post ${n} — 东财</title></item></channel></rss>\n`;

let hub: Awaited<ReturnType<typeof startTestHub>>;
let subscriber: Subscriber;

beforeAll(async () => {
  hub = await startTestHub();
  subscriber = await Subscriber.start();
});
afterAll(async () => {
  await hub?.stop();
  await subscriber?.stop();
});

/** Subscribes a callback path and waits until the hub has verified it and stored it. */
async function subscribe(path: string, key = RSS, extra: Record<string, string> = {}) {
  // Counted before the request: the hub may verify before the request is answered.
  const verifications = subscriber.verifications(path).length;
  const before = JSON.stringify(await hub.subscriptions.get(key, subscriber.url(path)));
  const response = await hub.request({ 'hub.mode': 'subscribe', 'hub.topic': topicUrl(key), 'hub.callback': subscriber.url(path), ...extra });
  expect(response.status).toBe(202);
  await eventually(() => subscriber.verifications(path).length > verifications, 5000, `the verification of ${path}`);
  // The hub stores the subscription once the verification is answered: a re-subscription shows as a changed item.
  return eventually(async () => {
    const stored = await hub.subscriptions.get(key, subscriber.url(path));
    return stored && JSON.stringify(stored) !== before ? stored : undefined;
  }, 5000, `the subscription of ${path}`);
}

/** Announces a version and waits until the sentinel callback (subscribed to the same topic) has it. */
async function announceAndSettle(key: string, body: string, sentinel: string) {
  const before = subscriber.deliveries(sentinel).length;
  await hub.announce(key, body);
  await eventually(() => subscriber.deliveries(sentinel).length > before, 5000, 'the sentinel delivery');
  await hub.queue.drained();
}

describe('the W3C WebSub hub cases (websub.rocks/hub/1xx), against a real subscriber', () => {
  it('100: a typical subscription is verified with a GET and receives the topic as a fat ping', async () => {
    await subscribe('/100');
    const [verification] = subscriber.verifications('/100');
    expect(verification!.query.get('hub.mode')).toBe('subscribe');
    expect(verification!.query.get('hub.topic')).toBe(topicUrl(RSS));
    expect(verification!.query.get('hub.challenge')!.length).toBeGreaterThanOrEqual(32);
    expect(verification!.query.get('hub.lease_seconds')).toBe('86400');

    await hub.announce(RSS, rss(100));
    const [delivery] = await eventually(() => subscriber.deliveries('/100').length > 0 && subscriber.deliveries('/100'));
    expect(delivery!.headers['content-type']).toBe('application/rss+xml; charset=utf-8');
    expect(delivery!.headers.link).toBe(`<${HUB_URL}>; rel="hub", <${topicUrl(RSS)}>; rel="self"`);
    expect(delivery!.headers['x-hub-signature']).toBeUndefined();
    expect(delivery!.body.equals(Buffer.from(rss(100), 'utf8'))).toBe(true);
  });

  it('101: a subscription with a secret receives deliveries signed with it', async () => {
    const secret = 'a subscriber secret: 秘密';
    await subscribe('/101', RSS, { 'hub.secret': secret });
    await hub.announce(RSS, rss(101));
    const [delivery] = await eventually(() => subscriber.deliveries('/101').length > 0 && subscriber.deliveries('/101'));
    const expected = createHmac('sha256', secret).update(delivery!.body).digest('hex');
    expect(delivery!.headers['x-hub-signature']).toBe(`sha256=${expected}`);
    expect(delivery!.body.toString('utf8')).toBe(rss(101));
  });

  it('102: additional parameters are ignored', async () => {
    await subscribe('/102', RSS, { foo: 'bar', 'hub.unknown': 'x' });
    expect([...subscriber.verifications('/102')[0]!.query.keys()].sort()).toEqual(['hub.challenge', 'hub.lease_seconds', 'hub.mode', 'hub.topic']);
  });

  it('103: a re-subscription updates the subscription (lease, secret), never duplicates it', async () => {
    await subscribe('/103', RSS, { 'hub.lease_seconds': '3600' });
    const renewed = await subscribe('/103', RSS, { 'hub.lease_seconds': '7200', 'hub.secret': 'new secret' });
    expect(subscriber.verifications('/103').map((v) => v.query.get('hub.lease_seconds'))).toEqual(['3600', '7200']);
    expect(renewed).toMatchObject({ leaseSeconds: 7200, secret: 'new secret' });
    const items = await hub.doc.send(new QueryCommand({ TableName: hub.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': hubKeys.subscription(RSS, '').PK } }));
    expect(items.Items!.filter((item) => item.callback === subscriber.url('/103') && item.topicKey === RSS)).toHaveLength(1);

    await announceAndSettle(RSS, rss(103), '/100');
    const deliveries = subscriber.deliveries('/103');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.headers['x-hub-signature']).toBe(`sha256=${createHmac('sha256', 'new secret').update(deliveries[0]!.body).digest('hex')}`);
  });

  it('104: an unsubscription is verified, and ends the deliveries', async () => {
    await subscribe('/104');
    expect((await hub.request({ 'hub.mode': 'unsubscribe', 'hub.topic': topicUrl(RSS), 'hub.callback': subscriber.url('/104') })).status).toBe(202);
    await eventually(() => subscriber.verifications('/104').length === 2);
    const unsubscription = subscriber.verifications('/104')[1]!;
    expect(unsubscription.query.get('hub.mode')).toBe('unsubscribe');
    expect(unsubscription.query.get('hub.topic')).toBe(topicUrl(RSS));
    expect(unsubscription.query.has('hub.lease_seconds')).toBe(false);
    await eventually(async () => (await hub.subscriptions.get(RSS, subscriber.url('/104'))) === undefined);

    await announceAndSettle(RSS, rss(104), '/100');
    expect(subscriber.deliveries('/104')).toEqual([]);
  });

  it('106: a JSON Feed topic is delivered as application/feed+json, exactly its bytes', async () => {
    await subscribe('/106', JSON_FEED);
    const body = JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'emnews', items: [{ id: '1', content_text: '东财滚动新闻' }] });
    await hub.announce(JSON_FEED, body);
    const [delivery] = await eventually(() => subscriber.deliveries('/106').length > 0 && subscriber.deliveries('/106'));
    expect(delivery!.headers['content-type']).toBe('application/feed+json; charset=utf-8');
    expect(delivery!.headers.link).toBe(`<${HUB_URL}>; rel="hub", <${topicUrl(JSON_FEED)}>; rel="self"`);
    expect(JSON.parse(delivery!.body.toString('utf8'))).toEqual(JSON.parse(body));
  });
});

describe('verification of intent', () => {
  it.each([
    ['a wrong challenge', { status: 200, body: 'not the challenge' }],
    ['the challenge with a newline', { status: 200, body: '\n' }],
    ['404', { status: 404, body: '' }],
    ['500', { status: 500, body: '' }],
  ])('does not activate a subscription whose callback answers %s, and asks only once', async (_what, answer) => {
    const path = `/refuses-${answer.status}-${answer.body.length}`;
    subscriber.on(path, { verify: (q) => ({ status: answer.status, body: answer.body === '\n' ? `${q.get('hub.challenge')}\n` : answer.body }) });
    expect((await hub.request({ 'hub.mode': 'subscribe', 'hub.topic': topicUrl(RSS), 'hub.callback': subscriber.url(path) })).status).toBe(202);
    await eventually(() => subscriber.verifications(path).length === 1);
    await hub.queue.drained();
    await sleep(100);
    expect(subscriber.verifications(path)).toHaveLength(1);
    expect(await hub.subscriptions.get(RSS, subscriber.url(path))).toBeUndefined();
  });

  it('refuses an unknown topic with 400 naming hub.topic, and verifies nothing', async () => {
    const response = await hub.request({ 'hub.mode': 'subscribe', 'hub.topic': `${topicUrl(RSS)}.bak`, 'hub.callback': subscriber.url('/unknown') });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { issues: [{ field: 'hub.topic', rule: 'published_topic' }] } });
    await sleep(100);
    expect(subscriber.verifications('/unknown')).toEqual([]);
  });

  it('grants at most the maximum lease, and says so in the verification', async () => {
    const subscription = await subscribe('/long-lease', RSS, { 'hub.lease_seconds': '99999999' });
    expect(subscriber.verifications('/long-lease')[0]!.query.get('hub.lease_seconds')).toBe(String(hub.config.leaseMaxSeconds));
    expect(subscription.leaseSeconds).toBe(hub.config.leaseMaxSeconds);
  });
});

describe('the end of a subscription', () => {
  it('a lease expires by itself: the subscription is no longer read, nor delivered to', async () => {
    const key = 'feeds/tags/lease/rss.xml';
    await subscribe('/lease-sentinel', key);
    const subscription = await subscribe('/short-lease', key, { 'hub.lease_seconds': '30' });
    expect(subscriber.verifications('/short-lease')[0]!.query.get('hub.lease_seconds')).toBe('30');
    expect(subscription.expiresAt - Date.now()).toBeGreaterThan(25_000);

    // 31 seconds later (the store's and the handlers' clock): DynamoDB Local still holds the item, reads leave it out.
    hub.clock.skewMs = 31_000;
    try {
      expect(await hub.subscriptions.get(key, subscriber.url('/short-lease'))).toBeUndefined();
      await subscribe('/lease-sentinel', key); // the sentinel renews its own lease on the moved clock
      await announceAndSettle(key, rss(1), '/lease-sentinel');
      expect(subscriber.deliveries('/short-lease')).toEqual([]);
      expect((await hub.subscriptions.listActive([key])).map((s) => s.callback)).toEqual([subscriber.url('/lease-sentinel')]);
    } finally {
      hub.clock.skewMs = 0;
    }
  });

  it('a callback answering 410 Gone to a delivery ends its subscription', async () => {
    const key = 'feeds/tags/gone/rss.xml';
    await subscribe('/gone-sentinel', key);
    await subscribe('/gone', key);
    subscriber.on('/gone', { deliver: () => 410 });
    await announceAndSettle(key, rss(1), '/gone-sentinel');
    expect(subscriber.deliveries('/gone')).toHaveLength(1);
    expect(await hub.subscriptions.get(key, subscriber.url('/gone'))).toBeUndefined();

    await announceAndSettle(key, rss(2), '/gone-sentinel');
    expect(subscriber.deliveries('/gone')).toHaveLength(1);
  });
});
