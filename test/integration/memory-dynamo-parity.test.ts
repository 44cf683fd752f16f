import { describe, expect, inject, it } from 'vitest';
import { startMemoryDynamo } from '../../bench/lib/memory-dynamo/index.js';
import { transcript } from '../support/dynamo-transcript.js';

// Against the suite's DynamoDB Local; with FEEDPUB_TEST_DYNAMO=memory there is none to compare with.
describe.skipIf(process.env.FEEDPUB_TEST_DYNAMO === 'memory')('memory-dynamo, the benchmarks’ in-memory DynamoDB', () => {
  it('answers requests, errors included, and streams their records as DynamoDB Local does', async () => {
    const memory = await startMemoryDynamo();
    try {
      const expected = await transcript(inject('dynamoEndpoint'));
      const actual = await transcript(memory.endpoint);
      expect(actual).toEqual(expected);
    } finally {
      await memory.stop();
    }
  });
});
