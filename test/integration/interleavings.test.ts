import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedDirectory, type FeedRef } from '../../lib/feeds/feed-ref.js';
import { FeedBusy, FeedRegenerator, LONGEST_POLL_BEHIND_TURN_MS } from '../../lib/regen/feed-regenerator.js';
import { TURN_GAP_MS } from '../../lib/regen/hold-release.js';
import { TURN_SLICE_POSTS } from '../../lib/regen/feed-render.js';
import { createDocumentClient, createS3Client } from '../../lib/store/clients.js';
import { DynamoFeedArchive } from '../../lib/store/dynamo-feed-archive.js';
import { DynamoFeedStateRepository } from '../../lib/store/dynamo-feed-state.js';
import { DynamoPostRepository } from '../../lib/store/dynamo-posts.js';
import { S3FeedStore } from '../../lib/store/s3-feed-store.js';
import { slotOf } from '../../lib/local/event-source.js';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { holdLane, keys, OPEN_INBOX_PREFIX, OPEN_LANE } from '../../lib/store/table.js';
import { groupOf } from '../../lib/pages/name-groups.js';
import { until } from '../support/until.js';
import { Gate, gateCalls, pauseCalls, readsPost, withFaults } from '../support/faults.js';
import { fetchFeedSet, titles, waitForFeedSet, withinASecond } from '../support/feeds.js';
import { startTestFeedpub, type TestFeedpub } from '../support/feedpub.js';
import { fixedSite } from '../../lib/site/site-source.js';

/**
 * The interleavings docs/DESIGN.md names, each forced with hooks: a render that outlives its lease, a hold's
 * release racing a write under another hold, a held write whose feed is marked only after its hold's release
 * looked, and a hold its importer abandoned.
 */
let fp: TestFeedpub;
/** The stack's table calls in flight (settled ones leave). */
const inFlight = new Set<Promise<unknown>>();
function tracked<T extends { send(...args: never[]): Promise<unknown> }>(client: T, calls = inFlight): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (...args: never[]) => {
        const call = target.send(...args);
        const entry = call.then(() => undefined, () => undefined).finally(() => calls.delete(entry));
        calls.add(entry);
        return call;
      };
    },
  });
}
/** The stack's reads of this post (a render's `posts.current`) wait at the gate of the phase they arrive in. */
let pauseReadsOf: { postId: string; gate: Gate } | undefined;
let pauseRecord: { feedId: string; gate: Gate } | undefined;
let pauseMark: Gate | undefined;
/** When set, only the marks of this feed wait at `pauseMark`. */
let pauseMarkOf: string | undefined;
let failMarks = false;
/** The next record of this document's render fails (its S3 writes landed; the table never hears of them). */
let loseRecordOf: string | undefined;
beforeAll(async () => {
  fp = await startTestFeedpub({}, {
    regeneration: {
      hooks: {
        beforeRecord: async (documentId) => {
          if (pauseRecord?.feedId === documentId) await pauseRecord.gate.pass();
        },
        beforeMark: async (_holdId, feedId) => {
          if (!pauseMarkOf || pauseMarkOf === feedId) await pauseMark?.pass();
        },
      },
    },
    // The API's own marks of held feeds fail while `failMarks`: the feeds lane must mark them.
    wrapClients: ({ doc, s3 }) => ({
      doc: tracked(pauseCalls(withFaults(doc, (command) => {
        if (failMarks && command.constructor.name === 'BatchWriteCommand' && JSON.stringify(command.input).includes('HOLD#')) return new Error('marks lost');
        const input = command.input as { TransactItems?: { Update?: { Key?: { PK?: string; SK?: string } } }[] };
        if (loseRecordOf && command.constructor.name === 'TransactWriteCommand' && input.TransactItems?.[0]?.Update?.Key?.PK === `FEED#${loseRecordOf}`) {
          loseRecordOf = undefined;
          return new Error('record lost');
        }
        return undefined;
      }), () => pauseReadsOf?.gate, (command) => pauseReadsOf !== undefined && readsPost(pauseReadsOf.postId)(command))),
      s3,
    }),
  });
});
afterAll(async () => {
  await fp?.stop();
});

/** A regenerator of the test's own beside the stack's, on `doc`, with any of its parts replaced. */
function testRegenerator(doc: ReturnType<typeof createDocumentClient>, parts: Partial<ConstructorParameters<typeof FeedRegenerator>[0]> = {}): FeedRegenerator {
  const { tableName, bucketName } = fp.config;
  return new FeedRegenerator({
    posts: new DynamoPostRepository(doc, tableName),
    archive: new DynamoFeedArchive(doc, tableName),
    state: new DynamoFeedStateRepository(doc, tableName),
    feeds: new S3FeedStore(createS3Client(), bucketName),
    site: fixedSite(fp.config.site),
    ...parts,
  });
}

const category = (name: string): FeedRef => ({ kind: 'category', name });

/** A hold of 60 s with 90 held posts of category `name` written under it, the lanes idle after them. */
async function ninetyHeld(name: string): Promise<{ hold: string; held: { id: string; title: string }[] }> {
  const hold = ((await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string }).id;
  const held = Array.from({ length: 90 }, (_, i) => ({ id: `${name}-held-${i}`, ...post(`${name} held ${i}`, name) }));
  expect((await fp.api('POST', '/posts/batch', { posts: held }, { 'feedpub-hold': hold })).status).toBe(200);
  await Promise.all([fp.lanes.feeds.idle(), fp.lanes.pages.idle()]);
  return { hold, held };
}

/** The items of a category feed's open inbox lane: the live writes not yet rendered. */
async function openInbox(doc: ReturnType<typeof createDocumentClient>, name: string) {
  const { Items = [] } = await doc.send(
    new QueryCommand({ TableName: fp.config.tableName, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :open)', ExpressionAttributeValues: { ':pk': `FEED#c:${name}`, ':open': OPEN_INBOX_PREFIX }, ConsistentRead: true }),
  );
  return Items;
}
const dir = (name: string) => feedDirectory(category(name), encodeURIComponent);
const post = (title: string, name: string) => ({ title, content: `<p>${title}</p>`, categories: [name], date: `2024-06-01T00:00:0${title.length % 10}Z` });

async function holdPhase(id: string): Promise<string> {
  return ((await (await fp.api('GET', `/regeneration/holds/${id}`)).json()) as { phase: string }).phase;
}

async function untilPublished(id: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await holdPhase(id)) !== 'published') {
    if (Date.now() > deadline) throw new Error(`hold ${id} was not published within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a render that outlives its lease', () => {
  it('can never land its S3 write after the next holder’s: the feed keeps the newest render for good', async () => {
    expect((await fp.api('PUT', '/posts/fence-1', post('Fence one', 'fence'))).status).toBe(201);
    await waitForFeedSet(fp.url, dir('fence'), (f) => titles(f).join() === 'Fence one', withinASecond());

    // The stack's own feeds lane steps aside; two regenerators of the test take its place: A, whose S3 writes of
    // this feed wait at a gate and whose lease renewals stall (a holder that froze), and B, whose clock runs an
    // hour ahead, so that A's lease has run out for B the moment A took it.
    await fp.lanes.feeds.stop();
    const { tableName, bucketName } = fp.config;
    const doc = createDocumentClient();
    const writesOfA = new Gate();
    const renewalsOfA = new Gate();
    const a = testRegenerator(doc, {
      feeds: new S3FeedStore(gateCalls(createS3Client(), writesOfA, (c) => c.constructor.name === 'PutObjectCommand'), bucketName),
      leaseMs: 60_000,
      hooks: { beforeRenew: () => renewalsOfA.pass() },
    });
    const later = () => new Date(Date.now() + 3_600_000);
    const b = testRegenerator(doc, { state: new DynamoFeedStateRepository(doc, tableName, later) });

    await fp.api('PUT', '/posts/fence-2', post('Fence two', 'fence'));
    const renderOfA = a.regenerate(category('fence'));
    const failureOfA = renderOfA.then(() => undefined, (error: unknown) => error);
    await writesOfA.reached; // A read the inbox and the posts (one, two), rendered, and is about to write.

    await fp.api('PUT', '/posts/fence-3', post('Fence three', 'fence'));
    expect(await b.ensureRendered(category('fence'))).toMatchObject({ renders: 1, covered: 2 });
    expect(titles((await fetchFeedSet(fp.url, dir('fence')))!.atom).sort()).toEqual(['Fence one', 'Fence three', 'Fence two']);

    // A wakes up: its write was conditioned on the ETag it read, which B's write replaced.
    renewalsOfA.open();
    writesOfA.open();
    expect(await failureOfA).toBeInstanceOf(FeedBusy);

    await fp.lanes.feeds.start();
    // Whatever renders next (a re-drive here) finds the bytes it recorded, and the feed keeps B's render.
    await fp.regeneration.regenerator.ensureRendered(category('fence'), { force: true });
    for (const format of ['rss', 'atom', 'json'] as const) expect(titles((await fetchFeedSet(fp.url, dir('fence')))![format]).sort()).toEqual(['Fence one', 'Fence three', 'Fence two']);
  });
});

describe('a render that waits for the lease while another holder renders a new write', () => {
  it('reads what that holder committed, never what was there before: the feed keeps the new post', async () => {
    expect((await fp.api('PUT', '/posts/order-1', post('Order one', 'order'))).status).toBe(201);
    await waitForFeedSet(fp.url, dir('order'), (f) => titles(f).join() === 'Order one', withinASecond());

    // The stack's feeds lane steps aside; two regenerators of the test take its place: A, whose request for the
    // lease waits at a gate (a slow or retried request), and B.
    await fp.lanes.feeds.stop();
    const doc = createDocumentClient();
    const leaseOfA = new Gate();
    const callsOfA = new Set<Promise<unknown>>();
    const isAcquire = (c: { constructor: { name: string }; input: unknown }) => {
      const input = c.input as { Key?: { PK?: string; SK?: string }; UpdateExpression?: string };
      return c.constructor.name === 'UpdateCommand' && input.Key?.PK === 'FEED#c:order' && input.Key.SK === 'RENDER' && String(input.UpdateExpression).includes('lease');
    };
    // A's table calls, each tracked until it settles; its lease request held at the gate (and tracked once through).
    const [a, b] = [testRegenerator(gateCalls(tracked(doc, callsOfA), leaseOfA, isAcquire)), testRegenerator(doc)];
    try {
      expect((await fp.api('PUT', '/posts/order-2', post('Order two', 'order'))).status).toBe(201);
      const renderOfA = a.regenerate(category('order'));
      await leaseOfA.reached;
      // Whatever A reads without the lease, it has read now.
      await new Promise((r) => setImmediate(r));
      await Promise.allSettled([...callsOfA]);

      // A publisher's write, rendered and recorded by B while A waits for the lease.
      expect((await fp.api('PUT', '/posts/order-3', post('Order three', 'order'))).status).toBe(201);
      expect(await b.ensureRendered(category('order'))).toMatchObject({ renders: 1, covered: 2 });
      leaseOfA.open();
      await renderOfA;
    } finally {
      leaseOfA.open();
      await fp.lanes.feeds.start();
    }
    for (const format of ['rss', 'atom', 'json'] as const) expect(titles((await fetchFeedSet(fp.url, dir('order')))![format]).sort()).toEqual(['Order one', 'Order three', 'Order two']);
  });
});

describe('a render whose S3 writes landed but whose record was lost', () => {
  it('is followed by one that finds the objects changed (412), reads their ETags and writes over them', async () => {
    expect((await fp.api('PUT', '/posts/record-1', post('Record one', 'record'))).status).toBe(201);
    await waitForFeedSet(fp.url, dir('record'), (f) => titles(f).join() === 'Record one', withinASecond());
    loseRecordOf = 'c:record';
    expect((await fp.api('PUT', '/posts/record-2', post('Record two', 'record'))).status).toBe(201);
    // The render wrote the feed, then failed to record it; the stream retries the batch, whose render finds the
    // bytes it would write already there under an ETag the table does not know.
    await waitForFeedSet(fp.url, dir('record'), (f) => titles(f).sort().join() === 'Record one,Record two', withinASecond());
    await fp.lanes.feeds.idle();
    expect(loseRecordOf).toBeUndefined();
    expect((await fp.api('PUT', '/posts/record-3', post('Record three', 'record'))).status).toBe(201);
    await waitForFeedSet(fp.url, dir('record'), (f) => titles(f).sort().join() === 'Record one,Record three,Record two', withinASecond());
    await fp.lanes.feeds.idle(); // the site feed's render of record-3 may still be running
    expect(await fp.regeneration.state.listStale()).toEqual([]);
  });
});

describe('holds', () => {
  it('render a write under another hold that arrived while a release rendered its feed, when that hold is released', async () => {
    const [first, second] = await Promise.all([1, 2].map(async () => ((await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string }).id));
    expect((await fp.api('PUT', '/posts/held-a', post('Held A', 'held'), { 'feedpub-hold': first! })).status).toBe(201);
    await fp.lanes.feeds.idle(); // its records were marked and deferred while the hold held

    // The first release renders the feed and stops before recording it: a write under the second hold arrives.
    pauseRecord = { feedId: 'c:held', gate: new Gate() };
    expect((await fp.api('DELETE', `/regeneration/holds/${first}`)).status).toBe(202);
    await pauseRecord.gate.reached;
    expect((await fp.api('PUT', '/posts/held-b', post('Held B', 'held'), { 'feedpub-hold': second! })).status).toBe(201);
    pauseRecord.gate.open();
    await untilPublished(first!);
    pauseRecord = undefined;
    expect(titles((await fetchFeedSet(fp.url, dir('held')))!.json)).toEqual(['Held A']);

    // The second hold's write waited in its own lane; its release renders it.
    expect((await fp.api('DELETE', `/regeneration/holds/${second}`)).status).toBe(202);
    await untilPublished(second!);
    for (const format of ['rss', 'atom', 'json'] as const) expect(titles((await fetchFeedSet(fp.url, dir('held')))![format]).sort()).toEqual(['Held A', 'Held B']);
  });

  it('render a held write whose feed the feeds lane marks only after the release looked for marks', async () => {
    const hold = ((await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string }).id;
    failMarks = true;
    pauseMark = new Gate();
    expect((await fp.api('PUT', '/posts/late-mark', post('Marked late', 'late'), { 'feedpub-hold': hold })).status).toBe(201);
    failMarks = false;
    await pauseMark.reached; // the lane holds the write's record, its feed not marked anywhere yet

    expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
    await untilPublished(hold); // the release found no mark: nothing to render
    const gate = pauseMark;
    pauseMark = undefined;
    gate.open();
    await waitForFeedSet(fp.url, dir('late'), (f) => titles(f).join() === 'Marked late', withinASecond());
  });

  it('hold up no publisher: while a release is stuck in a render, a live post whose feed shares its stream slot is published within a second', async () => {
    const hold = ((await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string }).id;
    expect((await fp.api('PUT', '/posts/stuck-held', post('Stuck held', 'stuck'), { 'feedpub-hold': hold })).status).toBe(201);
    await Promise.all([fp.lanes.feeds.idle(), fp.lanes.pages.idle()]);
    // The release stops in its render of the held feed until the end of the test.
    pauseRecord = { feedId: 'c:stuck', gate: new Gate() };
    expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
    await pauseRecord.gate.reached;
    // A category whose records a lane would hand to the same one of its parallel batches as the hold's record (the
    // mapping's hash of the partition key, ten batches per shard in the feeds lane as in AWS): in the feeds lane,
    // the release would hold up its feed until it ended.
    const name = Array.from({ length: 1000 }, (_, i) => `beside-${i}`).find((n) => slotOf(`FEED#c:${n}`, 10) === slotOf('HOLD', 10))!;
    const { gate } = pauseRecord;
    try {
      const answer = await fp.api('POST', '/posts', post('Beside the release', name));
      expect(answer.status).toBe(201);
      await waitForFeedSet(fp.url, dir(name), (f) => titles(f).join() === 'Beside the release', withinASecond());
    } finally {
      gate.open();
      pauseRecord = undefined;
    }
    await untilPublished(hold);
    expect(titles((await fetchFeedSet(fp.url, dir('stuck')))!.json)).toEqual(['Stuck held']);
  });

  it('end a turn of held writes early for a live render waiting for the feed: the live post is published, the rest of the turn left for the next', async () => {
    // 90 held posts: a turn covers them in slices of TURN_SLICE_POSTS (lib/regen/feed-render.ts), each committed on its own.
    expect(TURN_SLICE_POSTS).toBeLessThan(90);
    // A live render behind a turn polls the lease more often than turns follow each other: it gets the lease between two.
    expect(TURN_GAP_MS).toBeGreaterThan(LONGEST_POLL_BEHIND_TURN_MS);
    const { hold, held } = await ninetyHeld('turns');

    // A turn of the test's own over the held writes (as a release renders them), stopped before its first slice's commit.
    const doc = createDocumentClient();
    const slices = new Gate();
    const turnOf = testRegenerator(doc, { hooks: { beforeRecord: () => slices.pass() } });
    const turn = turnOf.regenerate(category('turns'), { lanes: [OPEN_LANE, holdLane(hold)], heldLimit: 250 });
    await slices.reached;
    // A publisher's post to the same feed: the stack's feeds lane finds the lease held by a background turn, and asks for it.
    expect((await fp.api('POST', '/posts', { ...post('Live beside a turn', 'turns'), date: '2024-07-01T00:00:00Z' })).status).toBe(201);
    const asked = { TableName: fp.config.tableName, Key: keys.turnAsked('c:turns') };
    for (const deadline = Date.now() + 5_000; !(await doc.send(new GetCommand({ ...asked, ConsistentRead: true }))).Item; ) {
      if (Date.now() > deadline) throw new Error('the waiting render never asked the turn for the lease');
      await new Promise((r) => setTimeout(r, 10));
    }
    slices.open();
    // The turn ends after its first slice: that many of the 90 held writes covered, the rest left for the next turn.
    expect(await turn).toMatchObject({ covered: TURN_SLICE_POSTS, heldLeft: true });
    await waitForFeedSet(fp.url, dir('turns'), (f) => titles(f).includes('Live beside a turn'), withinASecond());
    // What a reader sees meanwhile: the live post and the held posts of that slice, not those the turn left.
    expect(titles((await fetchFeedSet(fp.url, dir('turns')))!.atom)).toHaveLength(TURN_SLICE_POSTS + 1);

    expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
    await untilPublished(hold);
    const shown = (await fetchFeedSet(fp.url, dir('turns')))!.json;
    // The release's next turn covered the rest: every held post and the live one.
    expect(titles(shown)[0]).toBe('Live beside a turn');
    expect(new Set(titles(shown))).toEqual(new Set(['Live beside a turn', ...held.map((p) => p.title)]));
  });

  it('ask the next turn at once when it took the lease in the pause between two turns, before the live render waiting for it', async () => {
    const { hold, held } = await ninetyHeld('handoff');
    // The stack's feeds lane steps aside: the live write's render is the test's own, paused when the test says.
    await fp.lanes.feeds.stop();
    const doc = createDocumentClient();
    const turnOf = (gate: Gate) => testRegenerator(doc, { hooks: { beforeRecord: () => gate.pass() } }).regenerate(category('handoff'), { lanes: [OPEN_LANE, holdLane(hold)], heldLimit: 250 });
    const askedAt = async () => Number((await doc.send(new GetCommand({ TableName: fp.config.tableName, Key: keys.turnAsked('c:handoff'), ConsistentRead: true }))).Item?.at ?? 0);
    // Each step waits at a gate the test opens; all are opened at the end, so that nothing stays stuck if it fails.
    const [first, second, resume] = [new Gate(), new Gate(), new Gate()];
    try {
      // A first turn, stopped before its first slice's commit.
      const turn1 = turnOf(first);
      await first.reached;
      expect((await fp.api('POST', '/posts', { ...post('Live at the handoff', 'handoff'), date: '2024-07-01T00:00:00Z' })).status).toBe(201);
      const liveItems = await openInbox(doc, 'handoff');
      expect(liveItems).toHaveLength(1);
      // The live write's render asks the first turn, then waits (paused here) before it tries again. It asks the
      // same turn again only after a minute: a second ask within the test can only be for another turn. And its
      // clock is 2 s behind the turns' (another process's, exaggerated): its asks reach them by the holder's name.
      const seen: string[] = [];
      const regenerator = testRegenerator(doc, {
        state: new DynamoFeedStateRepository(doc, fp.config.tableName, () => new Date(Date.now() - 2_000)),
        askAgainMs: 60_000,
        hooks: { afterBusy: async (_id, busy) => void (seen.push(`${busy.busy}:${busy.holder}`), seen.length === 1 && (await resume.pass())) },
      });
      const live = regenerator.ensureRendered(category('handoff'), { items: liveItems.map((item) => String(item.SK)), waitMs: 30_000 });
      await resume.reached;
      const firstAsk = await askedAt();
      expect(firstAsk).toBeGreaterThan(0);
      // Asked, the first turn ends after its slice and lets go of the lease.
      first.open();
      expect(await turn1).toMatchObject({ covered: TURN_SLICE_POSTS, heldLeft: true });
      // The next turn takes the lease before the live render tries again (as the releaser's can, in the pause
      // between two turns), and is stopped before its first slice's commit.
      const turn2 = turnOf(second);
      await second.reached;
      resume.open();
      // The live render finds a turn it has not asked holding the lease (its hook runs after any ask), and asked it at once.
      expect(await until(async () => seen.length, (n) => n >= 2, 5_000)).toBeGreaterThanOrEqual(2);
      expect(seen[1]).not.toBe(seen[0]);
      expect(await askedAt()).toBeGreaterThan(firstAsk);
      second.open();
      // So the next turn, too, ends after its first slice, and the live post is published.
      expect(await turn2).toMatchObject({ covered: TURN_SLICE_POSTS, heldLeft: true });
      await live;
      await waitForFeedSet(fp.url, dir('handoff'), (f) => titles(f).includes('Live at the handoff'), withinASecond());
    } finally {
      for (const gate of [first, second, resume]) gate.open();
      await fp.lanes.feeds.start();
    }
    expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
    await untilPublished(hold);
    expect(new Set(titles((await fetchFeedSet(fp.url, dir('handoff')))!.json))).toEqual(new Set(['Live at the handoff', ...held.map((p) => p.title)]));
  });

  it('let a turn of held writes go on when the live writes waiting for the lease were covered by the turn before it', async () => {
    const { hold, held } = await ninetyHeld('covered');
    // The stack's feeds lane steps aside: the live write's render is the test's own, started when the test says.
    await fp.lanes.feeds.stop();
    const doc = createDocumentClient();
    try {
      expect((await fp.api('POST', '/posts', { ...post('Live before the turns', 'covered'), date: '2024-07-01T00:00:00Z' })).status).toBe(201);
      const liveItems = await openInbox(doc, 'covered');
      expect(liveItems).toHaveLength(1);
      // A first turn (40 held writes at most) covers the live write too: a turn reads the whole open lane.
      expect(await testRegenerator(doc).regenerate(category('covered'), { lanes: [OPEN_LANE, holdLane(hold)], heldLimit: 40 })).toMatchObject({ covered: 41, heldLeft: true });
      // A second turn takes the lease for the 50 held writes left, stopped before its first slice's commit.
      let records = 0;
      const second = new Gate();
      const turn = testRegenerator(doc, { hooks: { beforeRecord: async () => void (records++ === 0 && (await second.pass())) } }).regenerate(category('covered'), { lanes: [OPEN_LANE, holdLane(hold)], heldLimit: 250 });
      await second.reached;
      // The live write's render (late, as a lane's retry can be) finds the lease held by that turn and its own write
      // no longer pending: it has nothing to wait for, and must not end the turn for nothing.
      expect(await fp.regeneration.regenerator.ensureRendered(category('covered'), { items: liveItems.map((item) => String(item.SK)) })).toMatchObject({ renders: 0, covered: 0 });
      expect((await doc.send(new GetCommand({ TableName: fp.config.tableName, Key: keys.turnAsked('c:covered'), ConsistentRead: true }))).Item).toBeUndefined();
      second.open();
      // The turn went on past its first slice: all 50 held writes left, none left over.
      expect(await turn).toMatchObject({ covered: 50 });
      expect((await turn)?.heldLeft).toBeUndefined();
      // What a reader sees: the live post first, then every held one.
      const shown = titles((await fetchFeedSet(fp.url, dir('covered')))!.json);
      expect(shown[0]).toBe('Live before the turns');
      expect(new Set(shown)).toEqual(new Set(['Live before the turns', ...held.map((p) => p.title)]));
    } finally {
      await fp.lanes.feeds.start();
    }
    expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
    await untilPublished(hold);
  });

  it('render a held write whose feed the lane marks after the release finished, though it read the hold holding for another feed of the batch', async () => {
    const hold = ((await (await fp.api('POST', '/regeneration/holds', { seconds: 60 })).json()) as { id: string }).id;
    // Two categories whose records reach the same batch of the pages lane (two per shard locally).
    const [first, second] = ['first', 'second'].map((prefix) => Array.from({ length: 100 }, (_, i) => `${prefix}-${i}`).find((n) => slotOf(`FEED#c:${n}`, 2) === slotOf('FEED#site', 2))!);
    failMarks = true;
    pauseMark = new Gate();
    pauseMarkOf = `c:${second}`;
    expect((await fp.api('PUT', '/posts/two-marks', { ...post('Two marks', first!), categories: [first, second] }, { 'feedpub-hold': hold })).status).toBe(201);
    failMarks = false;
    await pauseMark.reached; // the lane holds the second category's mark; the rest of the batch goes on
    await new Promise((r) => setImmediate(r));
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);

    expect((await fp.api('DELETE', `/regeneration/holds/${hold}`)).status).toBe(202);
    await untilPublished(hold);
    const gate = pauseMark;
    pauseMark = undefined;
    pauseMarkOf = undefined;
    gate.open();
    for (const name of [first!, second!]) await waitForFeedSet(fp.url, dir(name), (f) => titles(f).join() === 'Two marks', withinASecond());
  });

  it('release a hold whose importer went away, at the tick after it expires', async () => {
    const hold = ((await (await fp.api('POST', '/regeneration/holds', { seconds: 1 })).json()) as { id: string; until: string });
    expect((await fp.api('PUT', '/posts/abandoned', post('Abandoned', 'abandoned'), { 'feedpub-hold': hold.id })).status).toBe(201);
    expect((await fetchFeedSet(fp.url, dir('abandoned')))).toBeUndefined();
    // The hold expires after a second; the tick (every second here, once a minute in AWS) releases it.
    await waitForFeedSet(fp.url, dir('abandoned'), (f) => titles(f).join() === 'Abandoned', Date.parse(hold.until) + 3000);
    await untilPublished(hold.id, 3000);
  });
});

describe('the directory', () => {
  it('lists a feed whose render counted a post that was deleted before it was read, without a date, and drops it once the delete is rendered', async () => {
    const name = `lonely-${Date.now().toString(36)}`;
    const groupPage = `${fp.url}/feeds/categories/${groupOf(name)}.html`;
    const listing = async () => {
      const html = await (await fetch(groupPage)).text();
      return html.split('\n').find((line) => line.includes(`>${name}</a>`));
    };
    const first = new Gate();
    const second = new Gate();
    pauseReadsOf = { postId: 'lonely', gate: first };
    try {
      expect((await fp.api('PUT', '/posts/lonely', post('Lonely', name))).status).toBe(201);
      // The category's and the site's renders have read the inbox (the arrival only) and wait to read the post.
      await until(async () => first.arrived, (n) => n >= 2);
      expect(first.arrived).toBe(2);
      expect((await fp.api('DELETE', '/posts/lonely')).status).toBe(204);
      // They find it gone: the category counts one post and has none to date it by. The renders of the delete
      // wait at the second gate, so the directory renders that state.
      pauseReadsOf = { postId: 'lonely', gate: second };
      first.open();
      const listed = await until(listing, (line) => line !== undefined, 8000);
      expect(listed).toMatch(/1 post<\/span>/);
      expect(listed).not.toContain('<time');
    } finally {
      pauseReadsOf = undefined;
      first.open();
      second.open();
    }
    expect(await until(listing, (line) => line === undefined, 8000)).toBeUndefined();
  });
});

