import { describe, expect, it } from 'vitest';
import { LocalEventSource } from '../../lib/local/event-source.js';
import { fakeStream } from '../support/fake-stream.js';

/** A stream whose GetRecords answers only when the test says, with the records it says. */
function heldStream() {
  const polls: ((records: object[]) => void)[] = [];
  let polled: () => void = () => undefined;
  const streams = fakeStream(() => new Promise<object[]>((resolve) => {
    polls.push(resolve);
    polled();
  }));
  /** Answers the next poll (waiting until the lane makes it) with these records. */
  const answer = async (records: object[] = []) => {
    while (polls.length === 0) await new Promise<void>((resolve) => (polled = resolve));
    polls.shift()!(records);
    await new Promise((r) => setTimeout(r, 0));
  };
  /** Stops the lane, answering any poll it has in flight. */
  const stop = async (lane: LocalEventSource) => {
    let stopped = false;
    const stopping = lane.stop().then(() => (stopped = true));
    while (!stopped) {
      polls.splice(0).forEach((resolve) => resolve([]));
      await new Promise((r) => setTimeout(r, 5));
    }
    await stopping;
  };
  return { streams, answer, stop };
}

const record = (seq: string) => ({ eventID: seq, eventName: 'INSERT', dynamodb: { Keys: { PK: { S: 'FEED#c:a' }, SK: { S: `N#0#${seq}` } }, SequenceNumber: seq } });

describe('a local lane that others give way to', () => {
  it('is busy from a nudge (a write it takes was committed) until a poll started after it has read the stream, and while its records are handled', async () => {
    const { streams, answer, stop } = heldStream();
    let handled!: () => void;
    const handling = new Promise<void>((resolve) => (handled = resolve));
    const lane = new LocalEventSource({ name: 'feeds', streams, streamArn: 'arn:stream', filter: () => true, handler: async () => (await handling, { batchItemFailures: [] }), park: async () => undefined, idleMs: 60_000, followUpMs: [] });
    lane.start();
    await answer();
    expect(lane.busy).toBe(false);

    // The write is committed: the pages lane and an import's transactions must wait from now, not from the poll.
    lane.nudge();
    expect(lane.busy).toBe(true);
    // The poll in flight says nothing yet; once it answers (the stream had not carried the write), the lane is idle.
    await answer();
    expect(lane.busy).toBe(false);

    lane.nudge();
    await answer([record('100')]);
    expect(lane.busy).toBe(true);
    handled();
    await lane.idle();
    expect(lane.busy).toBe(false);
    await stop(lane);
  });

  it('is not busy once stopped, whatever nudges came after its last poll', async () => {
    const { streams, answer, stop } = heldStream();
    const lane = new LocalEventSource({ name: 'feeds', streams, streamArn: 'arn:stream', filter: () => true, handler: async () => ({ batchItemFailures: [] }), park: async () => undefined, idleMs: 60_000, followUpMs: [] });
    lane.start();
    await answer();
    await stop(lane);
    lane.nudge();
    expect(lane.busy).toBe(false);
    await lane.idle();
  });
});
