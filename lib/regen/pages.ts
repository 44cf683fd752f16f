import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mapSettled } from '../concurrency.js';
import { postPageKey } from '../feeds/feed-ref.js';
import { logger } from '../log.js';
import { renderPostPage } from '../pages/post-page.js';
import type { Post } from '../posts/post.js';
import type { SiteSource } from '../site/site-source.js';
import { toPost } from '../store/dynamo-posts.js';
import type { FeedStore, PostRepository } from '../store/ports.js';
import { POST_SK } from '../store/table.js';

const HTML = 'text/html; charset=utf-8';

/**
 * Post pages (posts/{id}.html), the pages lane. A page is a function of its post alone, so it is rendered from
 * the post's stream image: no read, no lease. The stream delivers one post's records in order (Lambda keeps the
 * order per partition key, even with several batches of a shard at once), so the last write of a post is also
 * the last page written. Pages never compete with feeds: they have a consumer of their own.
 */
export class PageRenderer {
  constructor(
    private readonly store: FeedStore,
    private readonly site: SiteSource,
  ) {}

  /**
   * Writes the page of a post as stored, or deletes it when the post is gone or not published yet (scheduled). The
   * page takes the site's settings of the moment: a change of settings reaches it when its post is written again.
   */
  async publish(id: string, post: Post | undefined): Promise<void> {
    if (post && post.status !== 'scheduled') await this.store.put(postPageKey(id), renderPostPage(post, await this.site.current()), HTML);
    else await this.store.delete(postPageKey(id));
  }

  /** A re-drive of a parked page: from the post as the table has it now. */
  async fromTable(id: string, posts: PostRepository): Promise<void> {
    await this.publish(id, await posts.get(id));
  }
}

/** The post a stream record leaves behind: its new image, or undefined when it was deleted. */
function postOf(record: DynamoDBRecord): Post | undefined {
  if (record.eventName === 'REMOVE') return undefined;
  const image = record.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  return image ? toPost(unmarshall(image)) : undefined;
}

export const isPostRecord = (record: DynamoDBRecord) => record.dynamodb?.Keys?.SK?.S === POST_SK && record.dynamodb?.Keys?.PK?.S?.startsWith('POST#') === true;

/** The pages lane's Lambda handler: the last record of each post in the batch, rendered; partial-batch failures. */
export function createPagesHandler(pages: PageRenderer, { concurrency = 8, beforePage }: { concurrency?: number; beforePage?: () => Promise<void> } = {}) {
  return async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
    const latest = new Map<string, { first: DynamoDBRecord; last: DynamoDBRecord }>();
    for (const record of event.Records) {
      if (!isPostRecord(record)) continue;
      const id = record.dynamodb!.Keys!.PK!.S!.slice('POST#'.length);
      latest.set(id, { first: latest.get(id)?.first ?? record, last: record });
    }
    const posts = [...latest];
    const results = await mapSettled(posts, concurrency, async ([id, { last }]) => {
      await beforePage?.();
      await pages.publish(id, postOf(last));
    });
    const failures = results.flatMap((result, i) => {
      if (result.status === 'fulfilled') return [];
      const [id, { first }] = posts[i]!;
      logger.error('post page failed', { postId: id, error: result.reason as Error });
      return [{ itemIdentifier: first.dynamodb?.SequenceNumber ?? '' }];
    });
    return { batchItemFailures: failures };
  };
}
