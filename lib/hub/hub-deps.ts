import type { CallbackClient } from './callback-client.js';
import type { HubConfig } from './hub-config.js';
import type { BodySource, HubQueue } from './queue.js';
import type { SubscriptionStore } from './subscriptions.js';

/** What the hub's job handlers work with; built once per process and passed in. */
export interface HubHandlerDeps {
  config: Pick<HubConfig, 'hubUrl' | 'maxSubscribersPerTopic' | 'maxSubscriptionsPerHost'>;
  subscriptions: SubscriptionStore;
  /** Where fan-out sends its deliveries, and a verification re-sends what it could not store. */
  queue: HubQueue;
  client: Pick<CallbackClient, 'send'>;
  /** Resolves bodies jobs carry by reference (AWS, feeds over the inline limit); unused when all are inline. */
  bodies?: BodySource;
  now?: () => number;
}

/** A URL with the hub's query parameters appended, the subscriber's own query kept as given. */
export function withParams(url: string, params: Record<string, string>): string {
  return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams(params).toString()}`;
}
