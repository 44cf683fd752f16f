import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';

/**
 * Fault injection for a local lane: a stream of one shard whose GetRecords the test answers (`getRecords` returns
 * the records of each poll, when it likes).
 */
export function fakeStream(getRecords: () => Promise<object[]>): DynamoDBStreamsClient {
  return {
    send: async (command: { constructor: { name: string } }) => {
      switch (command.constructor.name) {
        case 'DescribeStreamCommand':
          return { StreamDescription: { Shards: [{ ShardId: 'shard-1' }] } };
        case 'GetShardIteratorCommand':
          return { ShardIterator: 'iterator' };
        default:
          return { Records: await getRecords(), NextShardIterator: 'iterator' };
      }
    },
  } as unknown as DynamoDBStreamsClient;
}
