import type { HubHandlerDeps } from './hub-deps.js';
import { notifiedTopics, type DeliverJob, type NotifyJob, type SingleTopicNotifyJob } from './jobs.js';

// Sent in slices, so that a topic's 1,000 deliveries are not one giant send.
const SLICE = 100;

/**
 * A new version of a topic becomes one delivery per active subscriber
 * (https://www.w3.org/TR/websub/#content-distribution); the subscribers of a notification's topics, all of one
 * feed, are read at once. Delivery ids are made from the notification's and the subscription's (one per topic and
 * callback), so a notification handled twice (a retry after a partial send, a crash) sends each delivery under
 * the same id, which the queue takes once.
 */
export async function fanOut(job: NotifyJob | SingleTopicNotifyJob, deps: Pick<HubHandlerDeps, 'subscriptions' | 'queue'>): Promise<number> {
  const topics = notifiedTopics(job);
  const subscribers = await deps.subscriptions.listActive(topics.map((topic) => topic.topicKey));
  const deliveries = topics.flatMap((topic) =>
    subscribers
      .filter((subscription) => subscription.topicKey === topic.topicKey)
      .map(
        (subscription): DeliverJob => ({
          kind: 'deliver',
          id: `${job.id}.${subscription.id}`,
          subscriptionId: subscription.id,
          topicKey: topic.topicKey,
          callback: subscription.callback,
          contentType: topic.contentType,
          body: topic.body,
          announcedAt: job.announcedAt,
        }),
      ),
  );
  for (let i = 0; i < deliveries.length; i += SLICE) await deps.queue.send(deliveries.slice(i, i + SLICE));
  return deliveries.length;
}
