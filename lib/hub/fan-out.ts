import type { HubHandlerDeps } from './hub-deps.js';
import type { DeliverJob, NotifyJob } from './jobs.js';

// Sent in slices, so that a topic's 1,000 deliveries are not one giant send.
const SLICE = 100;

/**
 * A new version of a topic becomes one delivery per active subscriber
 * (https://www.w3.org/TR/websub/#content-distribution). Delivery ids are made from the notification's and the
 * subscription's, so a notification handled twice (a retry after a partial send, a crash) sends each delivery
 * under the same id, which the queue takes once.
 */
export async function fanOut(job: NotifyJob, deps: Pick<HubHandlerDeps, 'subscriptions' | 'queue'>): Promise<number> {
  const subscribers = await deps.subscriptions.listActive(job.topicKey);
  const deliveries = subscribers.map(
    (subscription): DeliverJob => ({
      kind: 'deliver',
      id: `${job.id}.${subscription.id}`,
      subscriptionId: subscription.id,
      topicKey: job.topicKey,
      callback: subscription.callback,
      contentType: job.contentType,
      body: job.body,
      announcedAt: job.announcedAt,
    }),
  );
  for (let i = 0; i < deliveries.length; i += SLICE) await deps.queue.send(deliveries.slice(i, i + SLICE));
  return deliveries.length;
}
