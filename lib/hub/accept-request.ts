import { randomUUID } from 'node:crypto';
import { SubscriptionLimitReached, ValidationError } from '../errors.js';
import { addressPolicy, CallbackRefused, resolveCallback, type Resolver } from './callback-address.js';
import type { HubConfig } from './hub-config.js';
import { parseHubRequest, type HubRequest, type TopicOf } from './hub-request.js';
import type { VerifyJob } from './jobs.js';
import { limitRefusal } from './limits.js';
import type { HubQueue } from './queue.js';
import type { SubscriptionStore } from './subscriptions.js';

export interface HubRequestDeps {
  config: HubConfig;
  topicOf: TopicOf;
  subscriptions: Pick<SubscriptionStore, 'get' | 'countActive' | 'countActiveForHost'>;
  queue: HubQueue;
  resolve?: Resolver;
  now?: () => number;
}

export interface AcceptedHubRequest {
  request: HubRequest;
  job: VerifyJob;
}

/**
 * `POST /hub`: checks the request, its callback's addresses (resolved now; checked again when each request goes
 * out) and, for a new subscription, the limits, then queues the verification of intent and returns: the route
 * answers 202 Accepted (https://www.w3.org/TR/websub/#subscription-response-details). Throws PublicErrors.
 */
export async function acceptHubRequest(body: string, contentType: string | undefined, deps: HubRequestDeps): Promise<AcceptedHubRequest> {
  const { config } = deps;
  const request = parseHubRequest(body, contentType, { hubUrl: config.hubUrl, topicOf: deps.topicOf, config });
  try {
    await resolveCallback(new URL(request.callback), addressPolicy(config.allowPrivateCallbacks), deps.resolve, config.requestTimeoutMs);
  } catch (error) {
    if (error instanceof CallbackRefused) throw ValidationError.of('hub.callback', error.rule, error.message);
    throw error;
  }
  if (request.mode === 'subscribe') {
    const refusal = await limitRefusal(deps.subscriptions, config, request);
    if (refusal) throw new SubscriptionLimitReached(refusal.field, refusal.rule, refusal.message);
  }
  const job: VerifyJob = {
    kind: 'verify',
    id: randomUUID(),
    mode: request.mode,
    topic: request.topic,
    topicKey: request.topicKey,
    callback: request.callback,
    leaseSeconds: request.leaseSeconds,
    ...(request.secret !== undefined ? { secret: request.secret } : {}),
    requestedAt: (deps.now ?? Date.now)(),
  };
  await deps.queue.send([job]);
  return { request, job };
}
