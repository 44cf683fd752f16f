import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory, type FeedRef } from '../../lib/feeds/feed-ref.js';
import type { Post } from '../../lib/posts/post.js';
import { buildPost } from '../../lib/posts/build-post.js';
import { PostService } from '../../lib/posts/post-service.js';
import { Scheduler } from '../../lib/regen/schedule.js';
import { fetchFeedSet, titles, waitForFeedSet } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';

let fp: TestFeedpub;
beforeAll(async () => {
  fp = await startTestFeedpub();
});
afterAll(async () => {
  await fp?.stop();
});

const category = (name: string): FeedRef => ({ kind: 'category', name });
const dir = (ref: FeedRef) => feedDirectory(ref, encodeURIComponent);
const inOneSecond = (ms: number) => new Date(Date.now() + ms).toISOString();

/** Everything a reader could see of a post: its feeds (site, category, tag), its page, the API's lists. */
async function visibility(id: string, title: string, cat: string, tag: string) {
  const feeds = await Promise.all([{ kind: 'site', name: '' } as FeedRef, category(cat), { kind: 'tag', name: tag } as FeedRef].map((ref) => fetchFeedSet(fp.url, dir(ref))));
  const inFeeds = feeds.map((set) => (set ? (['rss', 'atom', 'json'] as const).some((f) => titles(set[f]).includes(title)) : false));
  const page = (await fetch(`${fp.url}/posts/${id}.html`)).status;
  const listed = ((await (await fp.api('GET', `/posts?category=${encodeURIComponent(cat)}`)).json()) as { posts: { id: string }[] }).posts.some((p) => p.id === id);
  return { inFeeds, page, listed, anywhere: inFeeds.some(Boolean) || page === 200 || listed };
}

/** Polls what readers see until the post shows; returns when it first showed, and whether it ever showed earlier than `notBefore`. */
async function watchUntilVisible(id: string, title: string, cat: string, tag: string, notBefore: number, timeoutMs: number) {
  const deadline = notBefore + timeoutMs;
  for (;;) {
    const seen = await visibility(id, title, cat, tag);
    // Seen by a poll that ended before the date: shown early (a poll that spans the date proves nothing either way).
    const polled = Date.now();
    if (seen.anywhere) {
      if (polled < notBefore) throw new Error(`${id} was visible ${notBefore - polled} ms before its date: ${JSON.stringify(seen)}`);
      return { seen, at: Date.now() };
    }
    if (Date.now() > deadline) throw new Error(`${id} not visible ${timeoutMs} ms after its date`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('scheduled posts', () => {
  it('a post dated in the future is accepted as scheduled, shows nowhere until its date, then everywhere within 5 s of it', async () => {
    const date = inOneSecond(2500);
    const created = await fp.api('POST', '/posts', { id: 'embargo', title: 'Embargoed results', content: '<p>Q3</p>', categories: ['sched'], tags: ['earnings'], date });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { status: string }).status).toBe('scheduled');
    const stored = (await (await fp.api('GET', '/posts/embargo')).json()) as { status: string; date: string };
    expect(stored).toMatchObject({ status: 'scheduled', date });
    // Publishers see the schedule; readers' lists do not.
    const schedule = (await (await fp.api('GET', '/posts?status=scheduled&category=sched')).json()) as { posts: { id: string; status: string }[] };
    expect(schedule.posts.map((p) => [p.id, p.status])).toEqual([['embargo', 'scheduled']]);
    expect((await fp.api('GET', '/posts?status=soon')).status).toBe(400);

    const { seen, at } = await watchUntilVisible('embargo', 'Embargoed results', 'sched', 'earnings', Date.parse(date), 5000);
    expect(at - Date.parse(date)).toBeLessThan(5000);
    // Every feed it belongs to, not one of them.
    await waitForFeedSet(fp.url, dir(category('sched')), (f) => titles(f).includes('Embargoed results'), Date.parse(date) + 5000);
    await waitForFeedSet(fp.url, dir({ kind: 'tag', name: 'earnings' }), (f) => titles(f).includes('Embargoed results'), Date.parse(date) + 5000);
    await waitForFeedSet(fp.url, 'feeds', (f) => titles(f).includes('Embargoed results'), Date.parse(date) + 5000);
    expect(seen.anywhere).toBe(true);
    const published = (await (await fp.api('GET', '/posts/embargo')).json()) as { status: string; date: string };
    expect(published).toMatchObject({ status: 'published', date });
  });

  it('editing a scheduled post moves its time; its content is the edited one', async () => {
    const first = inOneSecond(1500);
    const second = inOneSecond(3500);
    expect((await fp.api('PUT', '/posts/moved', { title: 'Moved', content: '<p>v1</p>', categories: ['sched-moved'], tags: ['m'], date: first })).status).toBe(201);
    const edited = await fp.api('PUT', '/posts/moved', { title: 'Moved', content: '<p>v2</p>', categories: ['sched-moved'], tags: ['m'], date: second });
    expect(edited.status).toBe(200);
    expect(((await edited.json()) as { status: string }).status).toBe('scheduled');
    // Not at the first date: the watch fails if it shows before the second.
    await watchUntilVisible('moved', 'Moved', 'sched-moved', 'm', Date.parse(second), 5000);
    const feed = await waitForFeedSet(fp.url, dir(category('sched-moved')), (f) => f.items.length === 1, Date.parse(second) + 5000);
    expect(feed.json.items[0]!.content).toContain('v2');
  });

  it('deleting a scheduled post cancels it', async () => {
    const date = inOneSecond(1500);
    expect((await fp.api('PUT', '/posts/cancelled', { title: 'Cancelled', content: '<p>x</p>', categories: ['sched-cancel'], tags: ['c'], date })).status).toBe(201);
    expect((await fp.api('DELETE', '/posts/cancelled')).status).toBe(204);
    // Two scheduler runs after the date: nothing published, nothing left in the schedule.
    await new Promise((r) => setTimeout(r, Date.parse(date) - Date.now() + 2500));
    expect((await visibility('cancelled', 'Cancelled', 'sched-cancel', 'c')).anywhere).toBe(false);
    expect((await fp.api('GET', '/posts/cancelled')).status).toBe(404);
    expect((await fp.regeneration.posts.scheduledUntil(new Date(Date.now() + 3_600_000).toISOString())).map((s) => s.postId)).not.toContain('cancelled');
  });

  it('a published post re-dated into the future leaves its feeds and page until then', async () => {
    expect((await fp.api('PUT', '/posts/redated', { title: 'Redated', content: '<p>r</p>', categories: ['sched-redate'], tags: ['r'], date: '2024-01-01T00:00:00Z' })).status).toBe(201);
    await waitForFeedSet(fp.url, dir(category('sched-redate')), (f) => titles(f).includes('Redated'), Date.now() + 2000);
    // Its page too: otherwise the first version's page, still to be written, could pass the 404 check below.
    for (const until = Date.now() + 2000; (await fetch(`${fp.url}/posts/redated.html`)).status !== 200; await new Promise((r) => setTimeout(r, 25))) {
      expect(Date.now(), 'the page of the published post is written within 2 s').toBeLessThan(until);
    }
    const date = inOneSecond(4000);
    expect((await fp.api('PUT', '/posts/redated', { title: 'Redated', content: '<p>r</p>', categories: ['sched-redate'], tags: ['r'], date })).status).toBe(200);
    const answered = Date.now();
    // Gone from every feed it was in (each its own render), not only the first to drop it, and its page gone (the
    // pages lane, which gives way to feeds), all within 2 s of the answer; then nowhere until its date.
    for (const feed of [dir(category('sched-redate')), dir({ kind: 'tag', name: 'r' }), 'feeds']) {
      await waitForFeedSet(fp.url, feed, (f) => !titles(f).includes('Redated'), answered + 2000);
    }
    while ((await fetch(`${fp.url}/posts/redated.html`)).status !== 404) {
      expect(Date.now() - answered, 'the page of a post re-dated into the future is gone within 2 s').toBeLessThan(2000);
      await new Promise((r) => setTimeout(r, 25));
    }
    await watchUntilVisible('redated', 'Redated', 'sched-redate', 'r', Date.parse(date), 5000);
  });
});

describe('a publication and a publisher write of the same post at the same moment', () => {
  // Dated an hour ahead, so that the stack's own scheduler leaves them alone; the test's scheduler and service
  // run on a clock two hours ahead, for which they are due.
  const clock = () => Date.now() + 2 * 3_600_000;
  const inAnHour = () => new Date(Date.now() + 3_600_000);
  const draft = (title: string, content: string, date: Date) => ({ title, content, categories: ['sched-race'], tags: [], authors: [], date });
  const scheduler = (repo: ConstructorParameters<typeof Scheduler>[0]) => new Scheduler(repo, clock);

  /** A repository whose first write waits for `between` to run first (another writer committing in between). */
  function pausedBefore(between: () => Promise<unknown>) {
    let once = true;
    return new Proxy(fp.regeneration.posts, {
      get(target, name, receiver) {
        if (name !== 'write') return Reflect.get(target, name, receiver) as unknown;
        return async (previous: Post | undefined, next: Post | undefined) => {
          if (once) {
            once = false;
            await between();
          }
          return target.write(previous, next);
        };
      },
    });
  }

  async function storeScheduled(id: string, title: string, date: Date): Promise<void> {
    const post = buildPost(draft(title, '<p>original</p>', date), { id, now: new Date(), siteUrl: fp.config.site.url });
    expect(post.status).toBe('scheduled');
    await fp.regeneration.posts.write(undefined, post);
  }

  it('an edit read before the publication and written after it is stored (not settled as superseded)', async () => {
    const date = inAnHour();
    await storeScheduled('race-edit', 'Race edit', date);
    let published = 0;
    const service = new PostService(pausedBefore(async () => (published = await scheduler(fp.regeneration.posts).run())), fp.config.site, () => new Date(clock()));
    const outcome = await service.put('race-edit', draft('Race edit', '<p>edited at the moment of publication</p>', date));
    expect(published).toBe(1);
    expect(outcome.outcome).toBe('updated');
    const stored = await fp.regeneration.posts.get('race-edit');
    expect(stored?.content).toContain('edited at the moment');
    expect(stored?.status).toBeUndefined();
    const feed = await waitForFeedSet(fp.url, dir(category('sched-race')), (f) => f.items.some((i) => i.content.includes('edited at the moment')), Date.now() + 2000);
    expect(titles(feed.atom)).toContain('Race edit');
  });

  it('a delete read before the publication and written after it deletes the post', async () => {
    await storeScheduled('race-delete', 'Race delete', inAnHour());
    let published = 0;
    const service = new PostService(pausedBefore(async () => (published = await scheduler(fp.regeneration.posts).run())), fp.config.site, () => new Date(clock()));
    await service.remove('race-delete');
    expect(published).toBe(1);
    expect(await fp.regeneration.posts.get('race-delete')).toBeUndefined();
    // Published, then deleted: it ends in no feed.
    await waitForFeedSet(fp.url, dir(category('sched-race')), (f) => !titles(f).includes('Race delete'), Date.now() + 2000);
  });

  it('an edit committed between the scheduler reading the post and publishing it wins: the edited date holds', async () => {
    await storeScheduled('race-later', 'Race later', inAnHour());
    const later = new Date(Date.now() + 4 * 3_600_000);
    const repo = pausedBefore(() => new PostService(fp.regeneration.posts, fp.config.site, () => new Date(clock())).put('race-later', draft('Race later', '<p>pushed back</p>', later)));
    expect(await scheduler(repo).run()).toBe(0);
    const stored = await fp.regeneration.posts.get('race-later');
    expect(stored).toMatchObject({ status: 'scheduled', date: later.toISOString() });
    expect((await fp.regeneration.posts.scheduledUntil(later.toISOString())).filter((s) => s.postId === 'race-later').map((s) => s.date)).toEqual([later.toISOString()]);
    await fp.regeneration.posts.write(stored, undefined);
  });
});
