import { feedId, feedsOf, SITE_FEED, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { delta, quiet } from '../lib/meters.js';
import { documentRow, documentUrls, lastDocuments, now, readersUsage, send, watch } from '../lib/publish.js';
import { inParallel, type BenchContext } from '../lib/context.js';
import { generatePosts } from '../lib/generate.js';
import { printTable, slowServing } from '../lib/stack.js';
import { cpuDemand } from '../lib/profile.js';

/**
 * Many publishers sending single posts. (1) 100 POSTs from 16 publishers at once: readers poll every touched
 * document from the first POST (every 250 ms, every 10 ms once the last answer is in) until each shows all of
 * its posts. (2) 1,000 POSTs over 200 categories from 16 publishers: item writes counted by key on the real
 * client, to show that no item is written by every write. (3) 50 concurrent PUTs of one post.
 */
export async function publishers({ stack, m, generated, quick }: BenchContext) {
  const { url } = stack.feedpub;
  const feedsUrl = stack.config.site.feedsUrl;
  const tag = Date.now().toString(36);

  // (1) 100 single POSTs from 16 publishers, dated a millisecond apart just before they are sent (newer than any
  // post before them: the site feed shows their newest).
  await new Promise((r) => setTimeout(r, 300));
  const base = Date.now() - 250;
  const posts = generated.slice(0, 100).map((g, i) => ({ title: `${g.title} [m${tag}-${i}]`, content: g.content, categories: g.categories, tags: g.tags, date: new Date(base + i).toISOString() }));
  const refs = new Map<string, FeedRef>(posts.flatMap((p) => feedsOf(p).map((ref) => [feedId(ref), ref] as const)));
  const present = (ref: FeedRef) => {
    const mine = posts.filter((p) => feedsOf(p).some((r) => feedId(r) === feedId(ref)));
    return mine.slice(-stack.config.site.feedItems).map((p) => p.title);
  };
  const checks = [...refs.values()].flatMap((ref) => documentUrls([ref], url, feedsUrl).map((u) => ({ url: u, present: present(ref) })));
  const readersBefore = await readersUsage();
  const demand = cpuDemand(stack.pids);
  const first = now();
  const seen = watch(checks, { intervalMs: 250 });
  const statuses: number[] = [];
  await inParallel(posts, 16, async (post) => {
    const response = await send(url, stack.key, 'POST', '/posts', post);
    statuses.push(response.status);
    await response.body?.cancel();
  });
  const lastAnswer = now();
  seen.intensify(10);
  const visible = (await seen.seen) - first;
  // The CPU the three processes spent from the first POST until the readers saw it all, and that CPU over the
  // machine's cores: the wall time it fills on all of them (not a strict bound: polls grow with the time taken).
  const cpu = demand();
  // The readers' thread is in feedpub's process here; in real life the readers are other machines. Each of their
  // GETs is also served by the local front (feedpub's main thread) and s3rver: counted, not separated.
  const readersAfter = await readersUsage();
  const readersMs = Math.round(readersAfter.cpuMs - readersBefore.cpuMs);
  const byProcessMs = { 'feedpub (without the readers)': cpu.byProcessMs.feedpub! - readersMs, readers: readersMs, ...Object.fromEntries(Object.entries(cpu.byProcessMs).filter(([k]) => k !== 'feedpub')) };
  const sixteen = {
    posts: 100,
    feeds: refs.size,
    acceptedMs: Math.round(lastAnswer - first),
    allVisibleFromFirstPostMs: Math.round(visible),
    answersAtLeast409: statuses.filter((s) => s >= 409).length,
    cpuMs: byProcessMs,
    cpuOverCoresMs: Math.round(cpu.totalMs / cpu.cores),
    cpuWithoutReadersThreadOverCoresMs: Math.round((cpu.totalMs - readersMs) / cpu.cores),
    readerGets: readersAfter.gets - readersBefore.gets,
    // The documents seen last (ms from the first POST), each with its last PUT before that and its longest GET.
    lastDocuments: lastDocuments(await seen.documents, first, m),
  };
  const { lastDocuments: last, ...row } = sixteen;
  printTable('100 single POSTs from 16 publishers (ms from the first POST)', [
    { ...row, cpuMs: Object.entries(byProcessMs).map(([k, ms]) => `${k} ${ms}`).join(', '), target: '<= 2000, 0 answers >= 409' },
  ]);
  printTable('Its documents seen last (ms from the first POST): its feed\'s live lease acquisitions until its last PUT (the first sent, how many found the lease held and by what, the last that took it answered), the PUT of each answered last before it was seen, and its longest single GET', last.map(documentRow));
  // A late document whose longest GET is long was held up by the serving: the front and the S3 server say where.
  const serving = slowServing(stack, first);

  // (2) 1,000 single-post writes over 200 categories: the most written item.
  await quiet(m, 1000);
  const count = quick ? 300 : 1000;
  const hot = generatePosts(count, { samples: generated.slice(0, 50).map((g) => ({ title: g.title, body: g.content })), categories: 200, seed: 11 });
  const before = m.snapshot();
  const hotStatuses: number[] = [];
  const started = now();
  await inParallel(hot, 16, async (g, i) => {
    const response = await send(url, stack.key, 'POST', '/posts', { title: `${g.title} [h${tag}-${i}]`, content: g.content, categories: g.categories, tags: g.tags });
    hotStatuses.push(response.status);
    await response.body?.cancel();
  });
  const acceptedMs = now() - started;
  await quiet(m, 1000);
  const cost = delta(m.snapshot(), before);
  const hotItems = {
    writes: count,
    categories: 200,
    acceptedPerSecond: Math.round(count / (acceptedMs / 1000)),
    itemWrites: cost.itemWrites,
    hottestItem: cost.hottest.key,
    hottestWrites: cost.hottest.writes,
    hottestShare: Math.round(cost.hottest.share * 10_000) / 100,
    answersAtLeast409: hotStatuses.filter((s) => s >= 409 && s < 500).length,
    answers5xx: hotStatuses.filter((s) => s >= 500).length,
    siteFeedRenders: cost.renders.get(feedId(SITE_FEED)) ?? 0,
  };
  printTable(`${count} single-post writes over 200 categories, 16 publishers: item writes by key`, [{ ...hotItems, target: 'hottest <= 5%, 0 >= 409' }]);

  // (3) 50 concurrent PUTs of one post.
  const race = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const sent = now();
      const response = await send(url, stack.key, 'PUT', `/posts/contended-${tag}`, { title: `Contended ${i}`, content: `<p>${i}</p>`, categories: ['contended'] });
      await response.body?.cancel();
      return { status: response.status, ms: now() - sent };
    }),
  );
  const samePost = { puts: 50, created: race.filter((r) => r.status === 201).length, replaced: race.filter((r) => r.status === 200).length, other: race.filter((r) => r.status !== 200 && r.status !== 201).length, slowestAnswerMs: Math.round(Math.max(...race.map((r) => r.ms))) };
  printTable('50 concurrent PUTs of one post id', [{ ...samePost, target: 'all 200/201, each <= 2000 ms' }]);
  return { sixteenPublishers: { ...sixteen, slowReads: serving.slowReads, slowS3Requests: serving.slowS3Requests }, hotItems, samePost };
}
