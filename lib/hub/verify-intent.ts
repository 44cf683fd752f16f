import { randomBytes } from 'node:crypto';
import { logger } from '../log.js';
import { withParams, type HubHandlerDeps } from './hub-deps.js';
import { hostOf } from './hub-request.js';
import type { VerifyJob } from './jobs.js';
import { subscriptionId } from './keys.js';
import { limitRefusal } from './limits.js';

const CLAIM_MS = 24 * 3600 * 1000;

/**
 * Verifies a subscriber's intent (https://www.w3.org/TR/websub/#hub-verifies-intent): one GET to the callback with
 * a random challenge; only a 2xx whose body is exactly the challenge activates the subscription (or removes it, for
 * unsubscribe). The request is never repeated: a callback that fails to answer is simply not subscribed (it will
 * ask again). Throws only before its request goes out, or for a re-sent job that stores a verified outcome.
 */
export async function verifyIntent(job: VerifyJob, deps: HubHandlerDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  const log = { topicKey: job.topicKey, callback: job.callback, mode: job.mode, jobId: job.id };
  if (job.confirmedAt !== undefined) return store(job, job.confirmedAt, deps);
  const host = hostOf(new URL(job.callback));
  // Checked again here: other subscriptions may have been verified since the request was accepted.
  const refusal = job.mode === 'subscribe' ? await limitRefusal(deps.subscriptions, deps.config, { ...job, callbackHost: host }) : undefined;
  if (!(await deps.subscriptions.claimVerification(job.id, now() + CLAIM_MS))) {
    logger.info('hub verification already handled', log);
    return;
  }
  // https://www.w3.org/TR/websub/#subscription-validation: the denial is this request's one request.
  if (refusal) {
    await deps.client.send({ method: 'GET', url: withParams(job.callback, { 'hub.mode': 'denied', 'hub.topic': job.topic, 'hub.reason': `${refusal.field} ${refusal.message}` }) }).catch((error: unknown) => {
      logger.info('hub denial not delivered', { ...log, error: error as Error });
    });
    return;
  }
  const challenge = randomBytes(24).toString('base64url');
  const params = { 'hub.mode': job.mode, 'hub.topic': job.topic, 'hub.challenge': challenge, ...(job.mode === 'subscribe' ? { 'hub.lease_seconds': String(job.leaseSeconds) } : {}) };
  const confirmed = await deps.client.send({ method: 'GET', url: withParams(job.callback, params), maxResponseBytes: Buffer.byteLength(challenge) }).then(
    (res) => res.status >= 200 && res.status < 300 && !res.truncated && res.body.toString('utf8') === challenge,
    (error: unknown) => (logger.info('hub verification request failed', { ...log, error: error as Error }), false),
  );
  logger.info(confirmed ? 'hub intent verified' : 'hub intent not verified', log);
  if (!confirmed) return;
  const at = now();
  await store(job, at, deps).catch(async (error: unknown) => {
    // Retried as a job that only stores, so that the callback is never asked twice.
    logger.warn('hub verification outcome not stored; re-sent', { ...log, error: error as Error });
    await deps.queue.send([{ ...job, id: `${job.id}.stored`, confirmedAt: at }]).catch((lost: unknown) => {
      logger.error('hub verification outcome lost: the subscriber must ask again', { ...log, error: lost as Error });
    });
  });
}

async function store(job: VerifyJob, at: number, deps: HubHandlerDeps): Promise<void> {
  const host = hostOf(new URL(job.callback));
  const id = subscriptionId(job.topicKey, job.callback);
  if (job.mode === 'unsubscribe') return deps.subscriptions.remove({ topicKey: job.topicKey, callback: job.callback, host, id });
  await deps.subscriptions.save({
    id,
    topicKey: job.topicKey,
    topic: job.topic,
    callback: job.callback,
    host,
    ...(job.secret !== undefined ? { secret: job.secret } : {}),
    leaseSeconds: job.leaseSeconds,
    expiresAt: at + job.leaseSeconds * 1000,
    verifiedAt: new Date(at).toISOString(),
  });
}
