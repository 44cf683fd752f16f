import { describe, expect, it } from 'vitest';
import { LocalEventSource } from '../../lib/local/event-source.js';
import { fakeStream } from '../support/fake-stream.js';

describe('a local lane stopped while it polls the stream', () => {
  it('stops as soon as the poll in flight returns, not after its idle wait', async () => {
    // Fault injection: a stream whose GetRecords answers only when the test lets it, so stop() lands mid-poll.
    let polled!: () => void;
    const inFlight = new Promise<void>((resolve) => (polled = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const streams = fakeStream(async () => {
      polled();
      await answered;
      return [];
    });
    const lane = new LocalEventSource({ name: 'test', streams, streamArn: 'arn:stream', filter: () => true, handler: async () => ({ batchItemFailures: [] }), park: async () => undefined, idleMs: 60_000 });
    lane.start();
    await inFlight;
    const stopped = lane.stop();
    answer();
    const started = Date.now();
    await stopped;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
