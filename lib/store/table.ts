import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * One table, keyed PK/SK (docs/DESIGN.md):
 *   POST#<id>      POST         the post
 *   FEED#<feedId>  E#<date>#<id> one index entry per feed the post is in (its id and the write that stored it):
 *                               newest N = one Query
 *   FEED#<feedId>  REV          revision, bumped by every write that touches the feed, in the same transaction;
 *                               its stream records are the regeneration trigger; for feeds also the post count
 *                               and the `dir` key of the directory index
 *   FEED#<feedId>  RENDER       the regenerator's lease, the last rendered revision, and the hashes of the
 *                               bytes in S3
 *   KEY#<sha256>   KEY          a publisher key, stored hashed
 *   PARKED         <feedId>     a regeneration that kept failing, for an operator to re-drive
 *   HOLD           REV          an import's regeneration hold and the feeds it deferred
 *   BATCH          <uuid>       the feed bumps a large batch owes until its last transaction (see writeMany)
 */
export const keys = {
  post: (id: string) => ({ PK: `POST#${id}`, SK: 'POST' }),
  feedPartition: (feedId: string) => `FEED#${feedId}`,
  entry: (feedId: string, date: string, postId: string) => ({ PK: `FEED#${feedId}`, SK: `${ENTRY_PREFIX}${date}#${postId}` }),
  feedRev: (feedId: string) => ({ PK: `FEED#${feedId}`, SK: REV_SK }),
  feedRender: (feedId: string) => ({ PK: `FEED#${feedId}`, SK: 'RENDER' }),
  apiKey: (hash: string) => ({ PK: `KEY#${hash}`, SK: 'KEY' }),
  parked: (feedId: string) => ({ PK: 'PARKED', SK: feedId }),
  hold: { PK: 'HOLD', SK: 'REV' },
  batchIntent: (id: string) => ({ PK: 'BATCH', SK: id }),
};

export const ENTRY_PREFIX = 'E#';

/**
 * Sparse index of the feeds: only feed revision items carry its partition key, so one Query lists every feed
 * with its post count and last change (the directory page and OPML), never a scan.
 */
export const DIRECTORY_INDEX = { name: 'directory', partitionKey: 'dir', partition: 'feeds', sortKey: 'PK' } as const;
export const REV_SK = 'REV';

/** A list cursor: the position just after this post in any feed's index (base64url of its entry sort key). */
export function entryCursor(post: { date: string; id: string }): string {
  return Buffer.from(`${ENTRY_PREFIX}${post.date}#${post.id}`, 'utf8').toString('base64url');
}

export function feedIdOfPartition(pk: string): string {
  return pk.slice('FEED#'.length);
}

/** The table as `npm start` and the tests create it; cdk/ declares the same keys and stream. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
      { AttributeName: DIRECTORY_INDEX.partitionKey, AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: DIRECTORY_INDEX.name,
        KeySchema: [
          { AttributeName: DIRECTORY_INDEX.partitionKey, KeyType: 'HASH' },
          { AttributeName: DIRECTORY_INDEX.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['rev', 'count', 'changedAt'] },
      },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  };
}
