import { describe, expect, it } from 'vitest';
import { nextPollIn } from '../../lib/local/event-source.js';
import { carriesLaneRecords } from '../../lib/local/local-feedpub.js';
import { keys, OPEN_LANE } from '../../lib/store/table.js';

const o = { idleMs: 250, minGapMs: 15, followUpMs: [10, 40, 120] };

describe('when a local lane polls the stream next', () => {
  it('polls again a gap after the last poll started when a write was committed during it', () => {
    expect(nextPollIn(1_005, { polledAt: 1_000, found: 3, nudgedAt: 1_002 }, o)).toBe(10);
    expect(nextPollIn(1_030, { polledAt: 1_000, found: 0, nudgedAt: 1_002 }, o)).toBe(0);
  });

  it('polls again a gap later after finding records, which may be a burst still coming', () => {
    expect(nextPollIn(1_004, { polledAt: 1_000, found: 7, nudgedAt: 990 }, o)).toBe(11);
  });

  it('follows a nudge whose records an earlier poll took with a few polls, then waits for the next write', () => {
    expect(nextPollIn(1_003, { polledAt: 1_001, found: 0, nudgedAt: 1_000 }, o)).toBe(7);
    expect(nextPollIn(1_012, { polledAt: 1_010, found: 0, nudgedAt: 1_000 }, o)).toBe(28);
    expect(nextPollIn(1_045, { polledAt: 1_040, found: 0, nudgedAt: 1_000 }, o)).toBe(75);
    expect(nextPollIn(1_125, { polledAt: 1_120, found: 0, nudgedAt: 1_000 }, o)).toBe(250);
  });
});

describe('which writes wake the lanes', () => {
  const inbox = keys.inbox('c:a', OPEN_LANE, '2026-12-03T00:00:00.000Z#x');
  const post = keys.post('1');
  it('a post transaction, a hold, the settings and an inbox item do', () => {
    expect(carriesLaneRecords('TransactWriteItemsCommand', { TransactItems: [{ Put: { Item: post } }, { Put: { Item: inbox } }] })).toBe(true);
    expect(carriesLaneRecords('TransactWriteItemsCommand', { TransactItems: [{ Delete: { Key: post } }] })).toBe(true);
    expect(carriesLaneRecords('UpdateItemCommand', { Key: keys.hold('h1') })).toBe(true);
    expect(carriesLaneRecords('PutItemCommand', { Item: keys.siteSettings })).toBe(true);
  });

  it("a render's record and a lease do not", () => {
    expect(carriesLaneRecords('TransactWriteItemsCommand', { TransactItems: [{ Update: { Key: { PK: 'FEED#c:a', SK: 'RENDER' } } }, { Delete: { Key: inbox } }] })).toBe(false);
    expect(carriesLaneRecords('UpdateItemCommand', { Key: { PK: 'FEED#c:a', SK: 'RENDER' } })).toBe(false);
  });
});
