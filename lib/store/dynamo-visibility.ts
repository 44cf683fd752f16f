import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sleep } from '../concurrency.js';
import type { CommittedWrite } from './ports.js';
import { keys, OPEN_LANE } from './table.js';

/** How often a waiting request looks again: about one render's time, so it answers a few ms after the feeds show. */
const POLL_MS = 25;

/**
 * Tells when committed writes show in their feeds. A render deletes the inbox items it covered in the transaction
 * that records it, after the documents are in S3 (docs/DESIGN.md, "Regeneration"): once none of a write's inbox
 * items is left, every feed it touched serves the write. One consistent BatchGetItem of those keys per look, so a
 * waiting request costs about one read per feed per 25 ms, and nothing when nobody waits.
 */
export class FeedVisibility {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Waits until the writes show in every feed they touched, or the deadline (ms since the epoch) passes. Returns
   * whether they show. Writes in a hold's lane render at its release, not now: they are not waited for (false).
   */
  async waitFor(writes: CommittedWrite[], deadline: number): Promise<boolean> {
    if (writes.some((w) => w.lane !== OPEN_LANE)) return false;
    let pending: Record<string, string>[] = writes.flatMap(({ w, feedIds }) => feedIds.map((feedId) => keys.inbox(feedId, OPEN_LANE, w)));
    while (pending.length > 0) {
      pending = await this.stillThere(pending);
      if (pending.length === 0) break;
      if (Date.now() + POLL_MS > deadline) return false;
      await sleep(POLL_MS);
    }
    return true;
  }

  private async stillThere(wanted: Record<string, string>[]): Promise<Record<string, string>[]> {
    const found: Record<string, string>[] = [];
    for (let i = 0; i < wanted.length; i += 100) {
      let request: Record<string, { Keys: Record<string, string>[]; ConsistentRead: boolean; ProjectionExpression: string }> | undefined = {
        [this.tableName]: { Keys: wanted.slice(i, i + 100), ConsistentRead: true, ProjectionExpression: 'PK, SK' },
      };
      while (request && Object.keys(request).length > 0) {
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        found.push(...((out.Responses?.[this.tableName] ?? []) as Record<string, string>[]));
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }
}
