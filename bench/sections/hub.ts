import { Worker } from 'node:worker_threads';
import { feedId, feedUrl, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { benchPost, inParallel, type BenchContext } from '../lib/context.js';
import { delta, quiet } from '../lib/meters.js';
import { now, send } from '../lib/publish.js';
import { printTable, summarize } from '../lib/stack.js';

/** The subscribers' thread (subscribers.worker.mjs): an HTTP server with one callback path per subscriber. */
class Subscribers {
  private nextId = 0;
  private readonly waiting = new Map<number, (value: Record<string, unknown>) => void>();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (message: { id: number }) => {
      this.waiting.get(message.id)?.(message as Record<string, unknown>);
      this.waiting.delete(message.id);
    });
  }

  static async start(): Promise<{ subscribers: Subscribers; port: number }> {
    const subscribers = new Subscribers(new Worker(new URL('../lib/subscribers.worker.mjs', import.meta.url)));
    const { port } = (await subscribers.ask({ type: 'listen' })) as { port: number };
    return { subscribers, port };
  }

  ask(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ ...message, id });
    });
  }

  async stop(): Promise<void> {
    await this.ask({ type: 'close' });
    await this.worker.terminate();
  }
}

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (now() > deadline) throw new Error(`hub benchmark: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The WebSub hub with 100 subscribers of one category feed (Atom), each a real HTTP callback in a thread of its own:
 * (1) single posts one after the other, from the API's answer until each subscriber has received a version holding
 * the post; (2) a burst of 100 posts from 16 publishers: deliveries each subscriber received for it, renders of the
 * feed meanwhile, and whether every subscriber ended with the bytes the feed serves.
 */
export async function hubDeliveries({ stack, m, generated, quick }: BenchContext) {
  const { url } = stack.feedpub;
  const { feedsUrl } = stack.config.site;
  const ref: FeedRef = { kind: 'category', name: 'hub-bench' };
  const topic = feedUrl(ref, 'atom', feedsUrl);
  const local = topic.replace(feedsUrl, url);
  const count = 100;
  const paths = Array.from({ length: count }, (_, i) => `/cb/${i}`);
  const post = (i: number, tag: string) => ({ ...benchPost(i, generated[i % generated.length]!, tag), categories: [ref.name] });
  const { subscribers, port } = await Subscribers.start();
  try {
    const first = await send(url, stack.key, 'POST', '/posts', post(0, 'hub-first'));
    if (first.status !== 201) throw new Error(`POST answered ${first.status}`);
    await until('the feed', 10_000, async () => ((await fetch(local)).status === 200 ? true : undefined));
    for (const path of paths) {
      const answer = await fetch(`${url}/hub`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ 'hub.mode': 'subscribe', 'hub.topic': topic, 'hub.callback': `http://127.0.0.1:${port}${path}`, 'hub.secret': `secret-${path}` }).toString(),
      });
      if (answer.status !== 202) throw new Error(`POST /hub answered ${answer.status}: ${await answer.text()}`);
    }
    await until('100 verified subscriptions', 30_000, async () => ((await subscribers.ask({ type: 'verified' })).count === count ? true : undefined));
    await stack.feedpub.hubQueue.drained();
    await quiet(m);

    // (1) Write to delivery, per subscriber.
    const singles = quick ? 10 : 30;
    const toDelivery: number[] = [];
    for (let i = 0; i < singles; i++) {
      const p = post(i, 'hub-single');
      const response = await send(url, stack.key, 'POST', '/posts', p);
      const answered = now();
      if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
      const firsts = await until(`deliveries of post ${i}`, 30_000, async () => {
        const { firsts: at } = (await subscribers.ask({ type: 'first', paths, markers: [p.title] })) as { firsts: (number | undefined)[] };
        return at.every((t) => t !== undefined) ? (at as number[]) : undefined;
      });
      toDelivery.push(...firsts.map((t) => t - answered));
    }
    await stack.feedpub.hubQueue.drained();
    await quiet(m);

    // (2) A burst: deliveries per subscriber, against renders of the feed.
    const before = m.snapshot();
    const since = now();
    const burst = Array.from({ length: 100 }, (_, i) => post(i, 'hub-burst'));
    await inParallel(burst, 16, async (p) => {
      const response = await send(url, stack.key, 'POST', '/posts', p);
      if (response.status !== 201) throw new Error(`POST answered ${response.status}`);
      await response.body?.cancel();
    });
    const answered = now();
    const served = await until('the feed to hold the burst', 30_000, async () => {
      const body = await (await fetch(local)).text();
      return burst.slice(-10).every((p) => body.includes(p.title)) ? body : undefined;
    });
    const finalAt = await until('every subscriber to hold the served bytes', 60_000, async () => {
      const { bodies } = (await subscribers.ask({ type: 'last', paths })) as { bodies: (string | undefined)[] };
      return bodies.every((b) => b === served) ? now() : undefined;
    });
    await stack.feedpub.hubQueue.drained();
    const { counts } = (await subscribers.ask({ type: 'count', paths, since })) as { counts: number[] };
    const renders = delta(m.snapshot(), before).renders.get(feedId(ref)) ?? 0;
    const perSubscriber = summarize(counts);

    const result = {
      subscribers: count,
      writeToDeliveryMs: summarize(toDelivery),
      burst: { posts: burst.length, rendersOfTheFeed: renders, deliveriesPerSubscriber: perSubscriber, lastAnswerToEverySubscriberCurrentMs: Math.round(finalAt - answered) },
    };
    printTable(`WebSub: write -> delivery, ${count} subscribers of one feed (ms, from the API's answer to each subscriber's delivery)`, [
      { measure: `${singles} single posts x ${count} subscribers`, ...result.writeToDeliveryMs },
    ]);
    printTable(`WebSub: a burst of ${burst.length} posts (16 publishers) to a feed with ${count} subscribers`, [
      { 'renders of the feed': renders, 'deliveries per subscriber (min)': Math.min(...counts), 'p50': perSubscriber.p50, 'max': perSubscriber.max, 'last answer -> every subscriber current (ms)': result.burst.lastAnswerToEverySubscriberCurrentMs },
    ]);
    return result;
  } finally {
    await subscribers.stop();
  }
}
