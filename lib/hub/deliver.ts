import { logger } from '../log.js';
import type { HubHandlerDeps } from './hub-deps.js';
import type { DeliverJob, JobBody } from './jobs.js';
import type { BodySource } from './queue.js';
import { signatureHeader } from './signature.js';

/** The subscriber did not take the delivery (any answer but 2xx and 410): the queue retries it with backoff. */
export class DeliveryFailed extends Error {
  override name = 'DeliveryFailed';
  constructor(
    readonly status: number,
    callback: string,
  ) {
    super(`${callback} answered ${status}`);
  }
}

export async function bodyBytes(body: JobBody, bodies: BodySource | undefined): Promise<Uint8Array> {
  if ('inline' in body) return Buffer.from(body.inline, 'base64');
  if (!bodies) throw new Error(`A delivery carries ${body.ref.key} by reference, and no BodySource was given`);
  return bodies.get(body.ref);
}

/**
 * One version to one subscriber (https://www.w3.org/TR/websub/#content-distribution): exactly the version's bytes,
 * the topic's Content-Type, Link headers naming the hub and the topic, and X-Hub-Signature when the subscriber
 * gave a secret. The subscription is read now: one that was removed or expired since the fan-out gets nothing,
 * and a renewed one's current secret signs. 2xx: delivered; 410 Gone: the subscription ends; anything else, a
 * timeout or a refused connection throws, for the queue to retry.
 */
export async function deliver(job: DeliverJob, deps: HubHandlerDeps): Promise<'delivered' | 'gone' | 'no-subscription'> {
  const subscription = await deps.subscriptions.get(job.topicKey, job.callback);
  if (!subscription) return 'no-subscription';
  const body = await bodyBytes(job.body, deps.bodies);
  const response = await deps.client.send({
    method: 'POST',
    url: subscription.callback,
    headers: {
      'content-type': job.contentType,
      link: `<${deps.config.hubUrl}>; rel="hub", <${subscription.topic}>; rel="self"`,
      ...(subscription.secret !== undefined ? { 'x-hub-signature': signatureHeader(body, subscription.secret) } : {}),
    },
    body,
    maxResponseBytes: 1024,
  });
  if (response.status >= 200 && response.status < 300) return 'delivered';
  if (response.status === 410) {
    await deps.subscriptions.remove(subscription);
    logger.info('hub subscription ended by 410 Gone', { topicKey: job.topicKey, callback: job.callback });
    return 'gone';
  }
  throw new DeliveryFailed(response.status, job.callback);
}
