import { mapSettled, sleep } from '../concurrency.js';
import { logger } from '../log.js';
import type { Post } from '../posts/post.js';
import { lostRace, type DynamoPostRepository, type ScheduleSlot } from '../store/dynamo-posts.js';

type ScheduleRepository = Pick<DynamoPostRepository, 'get' | 'write' | 'scheduledUntil' | 'dropSlot'>;

/** Publications in flight at once, for posts scheduled at the same moment. */
const CONCURRENCY = 8;

/**
 * Publishes scheduled posts at their dates. A scheduled post is stored with `status: 'scheduled'` and a slot in the
 * schedule partition, and is in no feed; publishing it is an ordinary write of the post without that status, so its
 * feeds, archive and page follow as for any write (inbox items joining every feed it belongs to).
 *
 * `run` publishes every post due now, then, for posts due within `lookaheadMs`, waits for each date and publishes it
 * then: the minute tick in AWS looks 45 s ahead, so a post is published within seconds of its date, not up to a
 * minute after it, at the price of a tick that waits only while a post is due. Locally a one-second loop runs it.
 *
 * Each publication is conditioned on the version the scheduler read: an edit committed in between (a new date, new
 * content) or a delete wins, and the schedule then holds the edited post's slot or none. Runs that overlap (two
 * ticks, a slow one and the next) publish each post once: the second write finds the version moved on.
 */
export class Scheduler {
  constructor(
    private readonly posts: ScheduleRepository,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the number of posts this run published. */
  async run({ lookaheadMs = 0 }: { lookaheadMs?: number } = {}): Promise<number> {
    const until = this.now() + lookaheadMs;
    const slots = await this.posts.scheduledUntil(new Date(until).toISOString());
    let published = 0;
    while (slots.length > 0) {
      const wait = Date.parse(slots[0]!.date) - this.now();
      if (wait > 0) await sleep(wait);
      const later = slots.findIndex((s) => Date.parse(s.date) > this.now());
      const due = slots.splice(0, later === -1 ? slots.length : later);
      const results = await mapSettled(due, CONCURRENCY, (slot) => this.publish(slot));
      for (const [i, result] of results.entries()) {
        if (result.status === 'fulfilled') published += result.value ? 1 : 0;
        else logger.warn('scheduled post not published; the next run tries again', { postId: due[i]!.postId, error: result.reason as Error });
      }
    }
    return published;
  }

  private async publish(slot: ScheduleSlot): Promise<boolean> {
    const post = await this.posts.get(slot.postId);
    if (!post || post.status !== 'scheduled' || post.date !== slot.date) {
      // Writes move or remove a slot in their own transaction; a slot without its post was left by something else.
      if (!post || post.status !== 'scheduled') await this.posts.dropSlot(slot);
      return false;
    }
    if (Date.parse(post.date) > this.now()) return false;
    const { status: _scheduled, ...rest } = post;
    const published: Post = { ...rest, version: post.version + 1 };
    try {
      await this.posts.write(post, published);
      logger.info('scheduled post published', { postId: post.id, date: post.date });
      return true;
    } catch (error) {
      // An edit or a delete of the post committed first: it decided what the schedule holds.
      if (lostRace(error)) return false;
      throw error;
    }
  }
}
