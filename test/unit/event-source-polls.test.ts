import { describe, expect, it } from 'vitest';
import { nextPollIn } from '../../lib/local/event-source.js';
import { lanesWoken } from '../../lib/local/local-feedpub.js';
import { holdLane, keys, OPEN_LANE } from '../../lib/store/table.js';

// The defaults of LocalEventSource.
const o = { idleMs: 250, minGapMs: 15, followUpMs: [10, 40, 120] };

describe('when a local lane polls the stream next', () => {
  it('polls again a gap after the last poll started when a write was committed during it', () => {
    expect(nextPollIn(1_005, { polledAt: 1_000, found: 3, nudgedAt: 1_002 }, o)).toBe(10);
    expect(nextPollIn(1_030, { polledAt: 1_000, found: 0, nudgedAt: 1_002 }, o)).toBe(0);
  });

  it('polls again a gap later after finding records it takes, which may be a burst still coming', () => {
    expect(nextPollIn(1_004, { polledAt: 1_000, found: 7, nudgedAt: 990 }, o)).toBe(11);
  });

  it('follows a nudge whose records an earlier poll took with a few polls, a gap apart at least, then waits', () => {
    expect(nextPollIn(1_003, { polledAt: 1_001, found: 0, nudgedAt: 1_000 }, o)).toBe(13);
    expect(nextPollIn(1_016, { polledAt: 1_016, found: 0, nudgedAt: 1_000 }, o)).toBe(24);
    expect(nextPollIn(1_042, { polledAt: 1_040, found: 0, nudgedAt: 1_000 }, o)).toBe(78);
    expect(nextPollIn(1_122, { polledAt: 1_120, found: 0, nudgedAt: 1_000 }, o)).toBe(250);
  });
});

describe('which writes wake which lane', () => {
  const open = keys.inbox('c:a', OPEN_LANE, 'w1');
  const held = keys.inbox('c:a', holdLane('h1'), 'w1');
  const post = keys.post('1');
  const transact = (...TransactItems: object[]) => lanesWoken('TransactWriteItemsCommand', { TransactItems });

  it("a post's write wakes both, a held one the pages lane only", () => {
    expect(transact({ Put: { Item: post } }, { Put: { Item: open } })).toEqual({ feeds: true, pages: true });
    expect(transact({ Put: { Item: post } }, { Put: { Item: held } })).toEqual({ feeds: false, pages: true });
    expect(transact({ Delete: { Key: post } }, { Put: { Item: open } })).toEqual({ feeds: true, pages: true });
  });

  it('a hold wakes the pages lane; the settings and the inbox items that tell feeds of them the feeds lane', () => {
    expect(lanesWoken('PutItemCommand', { Item: keys.hold('h1') })).toEqual({ feeds: false, pages: true });
    expect(lanesWoken('UpdateItemCommand', { Key: keys.hold('h1') })).toEqual({ feeds: false, pages: true });
    expect(lanesWoken('PutItemCommand', { Item: keys.siteSettings })).toEqual({ feeds: true, pages: false });
    expect(lanesWoken('PutItemCommand', { Item: keys.settingsInbox('c:a', 2) })).toEqual({ feeds: true, pages: false });
  });

  it("a render's record, a lease and the settings' announcement wake neither", () => {
    const none = { feeds: false, pages: false };
    expect(transact({ Update: { Key: { PK: 'FEED#c:a', SK: 'RENDER' } } }, { Delete: { Key: open } })).toEqual(none);
    expect(lanesWoken('UpdateItemCommand', { Key: { PK: 'FEED#c:a', SK: 'RENDER' } })).toEqual(none);
    expect(lanesWoken('UpdateItemCommand', { Key: keys.siteSettings })).toEqual(none);
  });
});
