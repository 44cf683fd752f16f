import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mapSettled, sleep } from '../concurrency.js';
import { DIRECTORY, feedId } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { SETTINGS_CACHE_MS } from '../site/site-source.js';
import type { DynamoSiteSettings } from '../store/dynamo-site-settings.js';
import type { FeedStateRepository } from '../store/ports.js';
import { META_PK, SITE_SETTINGS_SK } from '../store/table.js';

/**
 * How long after a change the feeds are listed: every process's cached settings have expired by then (one cache
 * time), with a second for the index of feeds to show a feed whose first render committed with the old settings.
 */
export const SETTLE_MS = SETTINGS_CACHE_MS + 1_000;
/** A change not told to every feed this long after it was stored lost its stream record: the tick tells it. */
const LOST_AFTER_MS = 2 * 60_000;
const CONCURRENCY = 16;

export const isSettingsRecord = (record: Pick<DynamoDBRecord, 'eventName' | 'dynamodb'>) =>
  record.eventName !== 'REMOVE' && record.dynamodb?.Keys?.PK?.S === META_PK && record.dynamodb?.Keys?.SK?.S === SITE_SETTINGS_SK;

/** The settings version a record stored. */
export function settingsVersionOfRecord(record: DynamoDBRecord): number {
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  return Number(image?.version?.N ?? 0);
}

/**
 * A change of the site's settings reaches every document that shows them: each feed that has posts (one Query of
 * the index of feeds) and the directory get an inbox item naming the new version, whose stream record has it
 * rendered like any write, with settings at least that new (the home page is the site feed's page). Post pages keep
 * the head they were written with until their post is written again.
 *
 * The feeds lane does this when the settings item's record arrives; the tick does it for a change whose record was
 * lost. Telling a feed twice leaves one item (it is named by the version), and an older change is not told once a
 * newer one is stored: the newer one is told instead.
 */
export class SettingsFanOut {
  constructor(
    private readonly settings: Pick<DynamoSiteSettings, 'get' | 'tell' | 'told'>,
    private readonly state: Pick<FeedStateRepository, 'listFeeds'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Tells every feed of the change to `version`; returns how many documents were told (0: nothing to do). */
  async tell(version: number): Promise<number> {
    const stored = await this.settings.get();
    if (!stored || stored.version !== version || (stored.announced ?? 0) >= version) return 0;
    // A render that started before the change may still record the old head; by now it has, and its feed is listed.
    const wait = Date.parse(stored.changedAt) + SETTLE_MS - this.now();
    if (wait > 0) await sleep(wait);
    const documents = [...(await this.state.listFeeds()).map((f) => f.feedId), feedId(DIRECTORY)];
    const results = await mapSettled(documents, CONCURRENCY, (id) => this.settings.tell(id, version));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await this.settings.told(version);
    logger.info('site settings told to every feed', { version, documents: documents.length });
    return documents.length;
  }

  /** The tick's part: a change whose telling never finished is told now. */
  async catchUp(): Promise<void> {
    const stored = await this.settings.get();
    if (stored && (stored.announced ?? 0) < stored.version && Date.parse(stored.changedAt) < this.now() - LOST_AFTER_MS) {
      logger.warn('telling a change of the site settings whose record was lost', { version: stored.version });
      await this.tell(stored.version);
    }
  }
}
