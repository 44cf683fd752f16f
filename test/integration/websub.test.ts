import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory } from '../../lib/feeds/feed-ref.js';
import { notifiedTopics } from '../../lib/hub/jobs.js';
import { readFeed, titles } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { eventually, Subscriber } from './hub-support.js';

/**
 * The hub as a subscriber meets it through the whole local stack: discovery in a feed, a subscription verified with
 * the callback, then every version a publisher's writes produce delivered, signed, in order, byte for byte.
 */
let fp: TestFeedpub;
let subscriber: Subscriber;
beforeAll(async () => {
  [fp, subscriber] = await Promise.all([startTestFeedpub(), Subscriber.start()]);
});
afterAll(async () => {
  await Promise.all([fp?.stop(), subscriber?.stop()]);
});

/** The stack's public URLs (https://news.example.com/...) are served here by the local front. */
const local = (url: string) => url.replace(fp.config.site.feedsUrl, fp.url);
const atomKey = (category: string) => `${feedDirectory({ kind: 'category', name: category }, encodeURIComponent)}/atom.xml`;

async function discover(key: string): Promise<{ hub: string; self: string }> {
  const response = await fetch(`${fp.url}/${key}`);
  expect(response.status).toBe(200);
  const link = response.headers.get('link') ?? '';
  const hub = /<([^>]+)>;\s*rel="hub"/.exec(link)?.[1];
  const self = /<([^>]+)>;\s*rel="self"/.exec(link)?.[1];
  const body = await response.text();
  // The document says the same as its headers (WebSub 4: either is enough; feedpub gives both).
  expect(body).toContain(`<link rel="hub" href="${hub}"/>`);
  expect(body).toContain(`href="${self}"`);
  return { hub: hub!, self: self! };
}

async function subscribe(hub: string, topic: string, callback: string, secret: string, mode = 'subscribe') {
  const answer = await fetch(local(hub), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ 'hub.mode': mode, 'hub.topic': topic, 'hub.callback': callback, 'hub.secret': secret, 'hub.lease_seconds': '3600' }).toString(),
  });
  expect(answer.status).toBe(202);
}

const signed = (body: Buffer, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('WebSub through the local stack', () => {
  it('discovers the hub, subscribes, and receives each version of the feed, signed, in order, byte for byte', async () => {
    // The feed exists once it has a post; its documents name the hub and themselves.
    expect((await fp.api('POST', '/posts', { title: 'Before anyone subscribed', content: '<p>0</p>', categories: ['hubbed'] }, { prefer: 'wait=5' })).status).toBe(201);
    const { hub, self } = await discover(atomKey('hubbed'));
    expect(hub).toBe(fp.config.site.hubUrl);

    const secret = 'a secret shared with the hub';
    await subscribe(hub, self, subscriber.url('/cb'), secret);
    const [verification] = await eventually(() => subscriber.verifications('/cb').length > 0 && subscriber.verifications('/cb'), 5000, 'the verification of intent');
    expect(verification!.query.get('hub.mode')).toBe('subscribe');
    expect(verification!.query.get('hub.topic')).toBe(self);

    // A burst of writes: every post reaches the subscriber, and the last delivery is what the feed serves.
    const titlesSent = Array.from({ length: 12 }, (_, i) => `Delivered ${i}`);
    for (const title of titlesSent) expect((await fp.api('POST', '/posts', { title, content: `<p>${title}</p>`, categories: ['hubbed'] })).status).toBe(201);
    const served = await eventually(async () => {
      const response = await fetch(`${fp.url}/${atomKey('hubbed')}`);
      const body = Buffer.from(await response.arrayBuffer());
      return titlesSent.every((t) => body.includes(t)) && body;
    }, 5000, 'the feed to hold the burst');
    const deliveries = await eventually(() => {
      const got = subscriber.deliveries('/cb');
      return got.length > 0 && got.at(-1)!.body.equals(served) && got;
    }, 10_000, 'the last delivery to equal the served document');

    const seen = new Set<string>();
    let previous = -1;
    for (const delivery of deliveries) {
      expect(delivery.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
      expect(delivery.headers['x-hub-signature']).toBe(signed(delivery.body, secret));
      expect(delivery.headers.link).toContain(`<${hub}>; rel="hub"`);
      expect(delivery.headers.link).toContain(`<${self}>; rel="self"`);
      const got = titles(readFeed('atom', delivery.body.toString('utf8'))).filter((t) => t.startsWith('Delivered '));
      for (const t of got) seen.add(t);
      // Versions arrive in the order they were published: each holds at least the burst posts of the one before.
      expect(got.length).toBeGreaterThanOrEqual(previous);
      previous = got.length;
    }
    expect([...seen].sort()).toEqual([...titlesSent].sort());
  });

  it('an unsubscribed callback, once verified, receives nothing more', async () => {
    const { hub, self } = await discover(atomKey('hubbed'));
    expect(subscriber.deliveries('/cb').length).toBeGreaterThan(0);
    await subscribe(hub, self, subscriber.url('/cb'), 'ignored', 'unsubscribe');
    await eventually(() => subscriber.verifications('/cb').some((v) => v.query.get('hub.mode') === 'unsubscribe'), 5000, 'the unsubscription to be verified');
    await fp.hubQueue.drained();
    const before = subscriber.deliveries('/cb').length;
    expect((await fp.api('POST', '/posts', { title: 'After unsubscribing', content: '<p>u</p>', categories: ['hubbed'] }, { prefer: 'wait=5' })).status).toBe(201);
    await fp.hubQueue.drained();
    expect(subscriber.deliveries('/cb').length).toBe(before);
  });

  it('refuses a subscription to a topic that is not one of its feeds, naming the field', async () => {
    const answer = await fetch(`${fp.url}/hub`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': 'https://elsewhere.example.org/feed.xml', 'hub.callback': subscriber.url('/other') }).toString(),
    });
    expect(answer.status).toBe(400);
    expect(JSON.stringify(await answer.json())).toContain('hub.topic');
  });
});

describe('a render whose announcement fails', () => {
  it('fails, is rendered again and announces again: the subscriber gets the version (no version is published unannounced)', async () => {
    const failing = await startTestFeedpub();
    try {
      expect((await failing.api('POST', '/posts', { title: 'Flaky 0', content: '<p>0</p>', categories: ['flaky'] }, { prefer: 'wait=5' })).status).toBe(201);
      const key = atomKey('flaky');
      const answer = await fetch(`${failing.url}/hub`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': `${failing.config.site.feedsUrl}/${key}`, 'hub.callback': subscriber.url('/flaky') }).toString(),
      });
      expect(answer.status).toBe(202);
      await eventually(() => subscriber.verifications('/flaky').length > 0, 5000, 'the verification');
      await failing.hubQueue.drained();

      // The queue refuses the next notifications once (SQS unavailable for a moment).
      const queue = failing.hubQueue;
      const send = queue.send.bind(queue);
      let refused = 0;
      queue.send = async (jobs) => {
        if (refused === 0 && jobs.some((j) => j.kind === 'notify' && notifiedTopics(j).some((topic) => topic.topicKey === key))) {
          refused++;
          throw new Error('injected: the hub queue is unavailable');
        }
        return send(jobs);
      };
      expect((await failing.api('POST', '/posts', { title: 'Flaky 1', content: '<p>1</p>', categories: ['flaky'] })).status).toBe(201);
      const served = await eventually(async () => {
        const body = Buffer.from(await (await fetch(`${failing.url}/${key}`)).arrayBuffer());
        return body.includes('Flaky 1') && body;
      }, 5000, 'the feed to hold the post');
      const delivered = await eventually(() => subscriber.deliveries('/flaky').find((d) => d.body.equals(served)), 10_000, 'the version to be delivered');
      expect(refused).toBe(1);
      expect(delivered.body.toString('utf8')).toContain('Flaky 1');
    } finally {
      await failing.stop();
    }
  });
});

describe('a subscriber that fails 30% of its deliveries during a burst of 50 posts', () => {
  it('receives every version the hub announced for its feed, in order, and ends with the served bytes', async () => {
    // Retries after 100 ms, then 200 ms (the environment's whole seconds would make this test wait most of a minute).
    const flaky = await startTestFeedpub({}, { hubRetry: { firstDelayMs: 100, maxDelayMs: 200 } });
    try {
      expect((await flaky.api('POST', '/posts', { title: 'Burst 0', content: '<p>0</p>', categories: ['burst'] }, { prefer: 'wait=5' })).status).toBe(201);
      const key = atomKey('burst');
      // Every version announced for the topic, as the renders handed them to the queue (observed, not changed).
      const announced: Buffer[] = [];
      const queue = flaky.hubQueue;
      const send = queue.send.bind(queue);
      queue.send = async (jobs) => {
        for (const job of jobs) {
          if (job.kind !== 'notify') continue;
          for (const topic of notifiedTopics(job)) if (topic.topicKey === key && 'inline' in topic.body) announced.push(Buffer.from(topic.body.inline, 'base64'));
        }
        return send(jobs);
      };
      // 30% of its answers are 503: the 1st, 4th and 7th of every 10 (retries count as answers too).
      let answers = 0;
      subscriber.on('/burst', { deliver: () => ([0, 3, 6].includes(answers++ % 10) ? 503 : 200) });
      const answer = await fetch(`${flaky.url}/hub`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': `${flaky.config.site.feedsUrl}/${key}`, 'hub.callback': subscriber.url('/burst') }).toString(),
      });
      expect(answer.status).toBe(202);
      await eventually(() => subscriber.verifications('/burst').length > 0, 5000, 'the verification');
      await flaky.hubQueue.drained();

      const posts = Array.from({ length: 50 }, (_, i) => ({ title: `Burst post ${i}`, content: `<p>${i}</p>`, categories: ['burst'] }));
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < posts.length) expect((await flaky.api('POST', '/posts', posts[next++])).status).toBe(201);
      }));
      await flaky.lanes.feeds.idle();
      await eventually(async () => {
        await flaky.hubQueue.drained();
        const ok = subscriber.deliveries('/burst').filter((d) => d.status === 200);
        return ok.length === announced.length;
      }, 60_000, 'every announced version to be delivered');

      const delivered = subscriber.deliveries('/burst').filter((d) => d.status === 200).map((d) => d.body);
      const failed = subscriber.deliveries('/burst').filter((d) => d.status === 503).length;
      expect(failed).toBeGreaterThan(0);
      expect(announced.length).toBeGreaterThan(1);
      // About one version per render, not one per post.
      expect(announced.length).toBeLessThan(posts.length);
      expect(delivered.map((b) => b.toString('utf8'))).toEqual(announced.map((b) => b.toString('utf8')));
      const served = Buffer.from(await (await fetch(`${flaky.url}/${key}`)).arrayBuffer());
      expect(delivered.at(-1)!.equals(served)).toBe(true);
    } finally {
      await flaky.stop();
    }
  }, 90_000);
});
