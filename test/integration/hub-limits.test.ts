import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sleep } from '../../lib/concurrency.js';
import type { Resolver } from '../../lib/hub/callback-address.js';
import type { VerifyJob } from '../../lib/hub/jobs.js';
import { eventually, startTestHub, Subscriber, topicUrl } from './hub-support.js';

// Every *.test host name is the subscriber's loopback server: host names are what the per-host limit counts.
const loopback: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
const LIMITS = { maxSubscribersPerTopic: 2, maxSubscriptionsPerHost: 3, resolve: loopback };

let subscriber: Subscriber;
const hubs: Awaited<ReturnType<typeof startTestHub>>[] = [];

beforeAll(async () => {
  subscriber = await Subscriber.start();
});
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.stop()));
});
afterAll(async () => {
  await subscriber?.stop();
});

const startHub = async (options: Parameters<typeof startTestHub>[0] = {}) => {
  const hub = await startTestHub({ ...LIMITS, ...options });
  hubs.push(hub);
  return hub;
};
/** The subscriber's URL under another host name. */
const on = (host: string, path: string) => subscriber.url(path).replace('127.0.0.1', host);
const form = (key: string, callback: string, mode = 'subscribe') => ({ 'hub.mode': mode, 'hub.topic': topicUrl(key), 'hub.callback': callback });

async function subscribed(hub: Awaited<ReturnType<typeof startHub>>, key: string, callback: string) {
  expect((await hub.request(form(key, callback))).status).toBe(202);
  await eventually(() => hub.subscriptions.get(key, callback), 5000, `${callback} subscribed`);
}

describe('subscription limits', () => {
  it('refuses a subscriber beyond the topic limit (409, hub.topic), but renews one it has', async () => {
    const hub = await startHub();
    const key = 'feeds/tags/full/rss.xml';
    await subscribed(hub, key, on('a.test', '/full-a'));
    await subscribed(hub, key, on('b.test', '/full-b'));
    const refused = await hub.request(form(key, on('c.test', '/full-c')));
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { code: 'subscription_limit', issues: [{ field: 'hub.topic', rule: 'max_subscribers' }] } });
    expect((await hub.request(form(key, on('a.test', '/full-a')))).status).toBe(202);
  });

  it('refuses a subscription beyond the callback host limit (409, hub.callback), not other hosts', async () => {
    const hub = await startHub();
    for (const tag of ['x', 'y', 'z']) await subscribed(hub, `feeds/tags/${tag}/rss.xml`, on('busy.test', `/busy-${tag}`));
    const refused = await hub.request(form('feeds/tags/w/rss.xml', on('busy.test', '/busy-w')));
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: { issues: [{ field: 'hub.callback', rule: 'max_per_host' }] } });
    expect((await hub.request(form('feeds/tags/w/rss.xml', on('quiet.test', '/quiet-w')))).status).toBe(202);
  });

  it('denies, with its one request, a subscription that the limit was reached for after it was accepted', async () => {
    // The worker starts after all three are accepted, and verifies one at a time.
    const hub = await startHub({ startWorker: false, controlConcurrency: 1 });
    const key = 'feeds/tags/race/rss.xml';
    const paths = ['/race-1', '/race-2', '/race-3'];
    for (const [i, path] of paths.entries()) expect((await hub.request(form(key, on(`r${i}.test`, path)))).status).toBe(202);
    hub.startWorker();
    await eventually(() => paths.every((path) => subscriber.verifications(path).length === 1));
    await hub.queue.drained();
    expect(paths.map((path) => subscriber.verifications(path)[0]!.query.get('hub.mode'))).toEqual(['subscribe', 'subscribe', 'denied']);
    const denial = subscriber.verifications('/race-3')[0]!.query;
    expect(denial.get('hub.topic')).toBe(topicUrl(key));
    expect(denial.get('hub.reason')).toMatch(/most subscribers/);
    expect(denial.has('hub.challenge')).toBe(false);
    expect((await hub.subscriptions.listActive([key])).length).toBe(2);
  });

  it('sends one verification request for a job the queue hands over twice', async () => {
    const hub = await startHub({ startWorker: false });
    const callback = on('twice.test', '/twice');
    const job: VerifyJob = { kind: 'verify', id: 'duplicate-delivery', mode: 'subscribe', topic: topicUrl('feeds/rss.xml'), topicKey: 'feeds/rss.xml', callback, leaseSeconds: 600, requestedAt: Date.now() };
    await Promise.all([hub.handler(job, { attempt: 1, sentAt: job.requestedAt }), hub.handler(job, { attempt: 1, sentAt: job.requestedAt })]);
    await hub.handler(job, { attempt: 2, sentAt: job.requestedAt });
    await sleep(50);
    expect(subscriber.verifications('/twice')).toHaveLength(1);
    expect(await hub.subscriptions.get('feeds/rss.xml', callback)).toMatchObject({ leaseSeconds: 600 });
  });
});
