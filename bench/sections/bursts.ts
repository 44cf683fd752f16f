import { SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { documentUrls, now, publishAndWatch, send, watch } from '../lib/publish.js';
import { benchPost, inParallel, type BenchContext } from '../lib/context.js';
import { printTable, summarize } from '../lib/stack.js';

interface Version {
  title: string;
  category: string;
  date: string;
}

/**
 * The burst the issue names: 200 concurrent creates over 5 categories, then 100 concurrent edits and deletes of
 * those posts (a third deleted, a third retitled, a third retitled and moved to another category). Readers start
 * at the last answer and poll every document the burst touched (the site feed and the 5 categories, 3 formats
 * each) until it holds the final state: every post it must show, in its last version, and no deleted post, no
 * older version, no post moved away. Then, right after, single posts one at a time, measured as on a quiet stack.
 */
export async function bursts({ stack, generated, quick }: BenchContext) {
  const { url } = stack.feedpub;
  const feedsUrl = stack.config.site.feedsUrl;
  const runs = quick ? 2 : 5;
  const finals: number[] = [];
  const after: number[] = [];
  const statuses = new Map<number, number>();
  const answered = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);
  for (let r = 0; r < runs; r++) {
    const tag = `r${r}${Date.now().toString(36)}`;
    const categories = Array.from({ length: 5 }, (_, k) => `burst-${tag}-${k}`);
    // Dated a millisecond apart, in the fraction of a second before the burst: newer than anything published
    // before it (the last one was published more than that ago), so the burst's newest fill the site feed.
    await new Promise((r) => setTimeout(r, 300));
    const base = Date.now() - 250;
    const versions = new Map<number, Version | undefined>();
    const titles: string[] = [];
    const put = async (i: number, version: Version) => {
      titles.push(version.title);
      const response = await send(url, stack.key, 'PUT', `/posts/burst-${tag}-${i}`, { title: version.title, content: `<p>${version.title}</p>`, categories: [version.category], date: version.date });
      answered(response.status);
      await response.body?.cancel();
      versions.set(i, version);
    };
    const createdDates = Array.from({ length: 200 }, (_, i) => new Date(base + i).toISOString());
    await inParallel(Array.from({ length: 200 }, (_, i) => i), 32, (i) => put(i, { title: `Burst ${tag} ${i} v1`, category: categories[i % 5]!, date: createdDates[i]! }));
    await inParallel(Array.from({ length: 100 }, (_, k) => k), 32, async (k) => {
      const i = 2 * k;
      const old = versions.get(i)!;
      if (k % 3 === 0) {
        const response = await send(url, stack.key, 'DELETE', `/posts/burst-${tag}-${i}`);
        answered(response.status);
        await response.body?.cancel();
        versions.set(i, undefined);
      } else {
        await put(i, { ...old, title: `Burst ${tag} ${i} v2`, category: k % 3 === 1 ? old.category : categories[((i % 5) + 1) % 5]! });
      }
    });
    const lastAnswer = now();
    const live = [...versions.values()].filter((v): v is Version => v !== undefined);
    // What a feed must show, and what it must not: deleted posts, older versions, posts moved to another feed. A
    // live post older than the newest N may still be in the current document (it holds up to 2N - 1 until a page
    // is sealed), so it is in neither list.
    const expect = (present: Version[], mayShow: Version[]) => ({ present: present.map((v) => v.title), absent: titles.filter((t) => !mayShow.some((v) => v.title === t)) });
    // The site feed must show the live posts among the newest N created: a page sealed during the creates took only
    // older ones, and the deletes after it may leave the current document with fewer than N (RFC 5005: sealed pages
    // do not change), so a live post just older than those may be on an archive page.
    const newestCreated = [...createdDates].sort().reverse()[stack.config.site.feedItems - 1]!;
    const refs: [FeedRef, Version[], Version[]][] = [
      [SITE_FEED, live.filter((v) => v.date >= newestCreated), live],
      ...categories.map((name): [FeedRef, Version[], Version[]] => [{ kind: 'category', name }, live.filter((v) => v.category === name), live.filter((v) => v.category === name)]),
    ];
    const checks = refs.flatMap(([ref, present, mayShow]) => documentUrls([ref], url, feedsUrl).map((u) => ({ url: u, ...expect(present, mayShow) })));
    finals.push((await watch(checks).seen) - lastAnswer);
    for (let i = 0; i < 20; i++) after.push((await publishAndWatch(url, stack.key, feedsUrl, benchPost(i, generated[(r * 20 + i) % generated.length]!, `a${r}-`))).visibleMs);
  }
  const errors = [...statuses].filter(([s]) => s >= 409).reduce((n, [, c]) => n + c, 0);
  const result = { runs, finalStateAfterLastAnswerMs: finals.map(Math.round), final: summarize(finals), answersAtLeast409: errors, singlePostsRightAfter: summarize(after) };
  printTable('Burst: 200 concurrent creates over 5 categories, then 100 concurrent edits and deletes (ms)', [
    { measure: 'last answer -> every touched feed holds the final state', ...result.final, runs: finals.map(Math.round).join(' '), target: 'p99 <= 1000' },
    { measure: 'single posts right after a burst: answer -> visible', ...result.singlePostsRightAfter, runs: '', target: 'p99 <= 300' },
  ]);
  printTable('Burst answers', [{ answers: [...statuses.values()].reduce((a, b) => a + b, 0), 'answers >= 409': errors, statuses: [...statuses].map(([s, n]) => `${s}x${n}`).join(' ') }]);
  return result;
}
