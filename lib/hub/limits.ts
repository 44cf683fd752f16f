import type { HubConfig } from './hub-config.js';
import type { SubscriptionStore } from './subscriptions.js';

export interface LimitRefusal {
  field: 'hub.topic' | 'hub.callback';
  rule: 'max_subscribers' | 'max_per_host';
  message: string;
}

/**
 * Why a new subscription would exceed the hub's limits, or undefined. Renewing an active subscription never does.
 * Counted from the store (one Query each, no Scan), so two requests at the same moment may both pass: the limits
 * bound a topic's fan-out and a host's share of it, they are not exact quotas.
 */
export async function limitRefusal(
  subscriptions: Pick<SubscriptionStore, 'get' | 'countActive' | 'countActiveForHost'>,
  config: Pick<HubConfig, 'maxSubscribersPerTopic' | 'maxSubscriptionsPerHost'>,
  request: { topicKey: string; callback: string; callbackHost: string },
): Promise<LimitRefusal | undefined> {
  if (await subscriptions.get(request.topicKey, request.callback)) return undefined;
  const [topic, host] = await Promise.all([subscriptions.countActive(request.topicKey), subscriptions.countActiveForHost(request.callbackHost)]);
  if (topic >= config.maxSubscribersPerTopic) {
    return { field: 'hub.topic', rule: 'max_subscribers', message: `has the most subscribers this hub serves (${config.maxSubscribersPerTopic})` };
  }
  if (host >= config.maxSubscriptionsPerHost) {
    return { field: 'hub.callback', rule: 'max_per_host', message: `its host has the most subscriptions this hub serves (${config.maxSubscriptionsPerHost})` };
  }
  return undefined;
}
