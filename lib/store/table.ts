import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * One table, keyed PK/SK (docs/DESIGN.md):
 *   POST#<id>       POST            the post
 *   FEED#<feedId>   E#<date>#<id>   one index entry per feed the post is in (its id and the write that stored it):
 *                                   newest N = one Query; the API lists posts from it
 *   FEED#<feedId>   N#<lane>#<w>    the feed's inbox: one item per write that touched the feed (join, stay or
 *                                   leave). Written in the write's own transaction, each write its own item, so
 *                                   no item is written by every write. Its stream record is the regeneration
 *                                   trigger; a render deletes the items it covered. A feed with inbox items is
 *                                   behind. <lane> is "0", or "h.<holdId>" for writes an import holds.
 *   FEED#<feedId>   RENDER          the regenerator's state: lease, what is in S3 (hash and ETag per object), the
 *                                   feed's post count and newest date, its number of archive pages; written only by
 *                                   the lease holder
 *   FEED#<feedId>   TURN            when a live render last asked a background turn (a release's) for the lease:
 *                                   the turn then ends early (lib/regen/feed-render.ts)
 *   FEED#<feedId>   M#<postId>      a post of the feed's current document (open: not archived yet), with its date
 *                                   and the write that stored the version rendered
 *   FEED#<feedId>   A#<postId>      an archived post: the number of its archive page (checked against the page)
 *   FEED#<feedId>   B#<page>        an archive page: its posts and what is in S3 of it
 *   KEY#<sha256>    KEY             a publisher key, stored hashed: its name, scope, creation and last use
 *   KEY#NAMES       <name>          the hash of the key of that name: names are unique, and `keys list` is one Query
 *   PARKED          <documentId>    a regeneration that kept failing, for an operator to re-drive
 *   HOLD            <holdId>        an import's regeneration hold: until when, and whether it was released
 *   HOLD#<holdId>   <feedId>        a feed the hold deferred, until its release has rendered it
 *   SCHED           <date>#<postId> a scheduled post (dated in the future), until the scheduler publishes it:
 *                                   one Query finds every post due by a time
 *   META            SCHEMA          the layout version of this table
 *   META            SITE            the site's settings (title, URL, language…: lib/site/settings.ts), versioned; its
 *                                   stream record has every feed's inbox told (lib/regen/site-restyle.ts)
 */
export const META_PK = 'META';
export const SITE_SETTINGS_SK = 'SITE';

export const keys = {
  post: (id: string) => ({ PK: `POST#${id}`, SK: POST_SK }),
  feedPartition: (feedId: string) => `FEED#${feedId}`,
  entry: (feedId: string, date: string, postId: string) => ({ PK: `FEED#${feedId}`, SK: `${ENTRY_PREFIX}${date}#${postId}` }),
  inbox: (feedId: string, lane: string, write: string) => ({ PK: `FEED#${feedId}`, SK: `${INBOX_PREFIX}${lane}#${write}` }),
  feedRender: (feedId: string) => ({ PK: `FEED#${feedId}`, SK: RENDER_SK }),
  turnAsked: (feedId: string) => ({ PK: `FEED#${feedId}`, SK: 'TURN' }),
  openMember: (feedId: string, postId: string) => ({ PK: `FEED#${feedId}`, SK: `${OPEN_PREFIX}${postId}` }),
  archived: (feedId: string, postId: string) => ({ PK: `FEED#${feedId}`, SK: `${ARCHIVED_PREFIX}${postId}` }),
  archivePage: (feedId: string, page: number) => ({ PK: `FEED#${feedId}`, SK: `${PAGE_PREFIX}${String(page).padStart(7, '0')}` }),
  apiKey: (hash: string) => ({ PK: `${KEY_PK_PREFIX}${hash}`, SK: 'KEY' }),
  keyName: (name: string) => ({ PK: KEY_NAMES_PK, SK: name }),
  /** Set once every key item made before keys had names entries has one (`feedpub keys`). */
  keysAdopted: { PK: 'META', SK: 'KEYS' },
  parked: (documentId: string) => ({ PK: 'PARKED', SK: documentId }),
  hold: (holdId: string) => ({ PK: HOLD_PK, SK: holdId }),
  holdMarker: (holdId: string, feedId: string) => ({ PK: `${HOLD_PK}#${holdId}`, SK: feedId }),
  scheduled: (date: string, postId: string) => ({ PK: SCHEDULED_PK, SK: `${date}#${postId}` }),
  schema: { PK: META_PK, SK: 'SCHEMA' },
  siteSettings: { PK: META_PK, SK: SITE_SETTINGS_SK },
  /** The inbox item that tells a feed (or the directory) of a change of the site's settings: one per version. */
  settingsInbox: (feedId: string, version: number) => keys.inbox(feedId, OPEN_LANE, `site.${version}`),
};

export const POST_SK = 'POST';
/** Every item about publisher keys lies in a partition with this prefix: IAM conditions name them by it. */
export const KEY_PK_PREFIX = 'KEY#';
export const KEY_NAMES_PK = `${KEY_PK_PREFIX}NAMES`;
export const RENDER_SK = 'RENDER';
export const HOLD_PK = 'HOLD';
export const SCHEDULED_PK = 'SCHED';
export const ENTRY_PREFIX = 'E#';
// In one feed partition these sort A# < B# < E# < M# < N#0# < N#h.… < RENDER: the open members and the open inbox
// lane are one contiguous range, read by one Query, with no index entry and no held write inside it.
export const ARCHIVED_PREFIX = 'A#';
export const PAGE_PREFIX = 'B#';
export const OPEN_PREFIX = 'M#';
export const INBOX_PREFIX = 'N#';
/** The inbox lane of writes nobody holds. */
export const OPEN_LANE = '0';
/** The inbox lane of the writes an import's hold defers. */
export const holdLane = (holdId: string) => `h.${holdId}`;
/** Sort-key prefixes of open and held inbox items: the feeds lane takes the first, the pages lane the second. */
export const OPEN_INBOX_PREFIX = `${INBOX_PREFIX}${OPEN_LANE}#`;
export const HELD_INBOX_PREFIX = `${INBOX_PREFIX}${holdLane('')}`;
/**
 * Bumped when the layout changes incompatibly; a local data directory of another layout is refused, but for layout
 * 3, whose subscriptions the local stack moves (4: a feed's subscriptions in one partition).
 */
export const SCHEMA_VERSION = 4;

/**
 * Sparse index of the feeds that have posts: only RENDER items of non-empty feeds carry its partition key, so one
 * Query lists every feed with its post count and newest post (the directory page and OPML), never a scan.
 */
export const DIRECTORY_INDEX = {
  name: 'feeds',
  partitionKey: 'listed',
  partition: 'feeds',
  sortKey: 'PK',
  attributes: ['count', 'newest'],
} as const;

/** A list cursor: the position just after this post in any feed's index (base64url of its entry sort key). */
export function entryCursor(post: { date: string; id: string }): string {
  return Buffer.from(`${ENTRY_PREFIX}${post.date}#${post.id}`, 'utf8').toString('base64url');
}

/** A schedule cursor: the position just after this scheduled post (base64url of its schedule sort key). */
export function scheduleCursor(post: { date: string; id: string }): string {
  return Buffer.from(keys.scheduled(post.date, post.id).SK, 'utf8').toString('base64url');
}

export function feedIdOfPartition(pk: string): string {
  return pk.slice('FEED#'.length);
}

/** The inbox lane of an inbox item's sort key: "0" or "h.<holdId>". */
export function laneOfInboxKey(sk: string): string {
  return sk.slice(INBOX_PREFIX.length, sk.indexOf('#', INBOX_PREFIX.length));
}

/** The table as `npm start` and the tests create it; cdk/ declares the same keys, index and stream. */
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
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...DIRECTORY_INDEX.attributes] },
      },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
  };
}
