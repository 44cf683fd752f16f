import { isIP } from 'node:net';
import { PayloadTooLarge, UnsupportedMediaType, ValidationError, type FieldIssue } from '../errors.js';
import { addressPolicy } from './callback-address.js';
import type { HubConfig } from './hub-config.js';

/** What feedpub publishes at a URL: the document's key in the bucket and its Content-Type; undefined for anything else. */
export type TopicOf = (url: string) => { key: string; contentType: string } | undefined;

/** A subscription request that passed every rule that needs no I/O. */
export interface HubRequest {
  mode: 'subscribe' | 'unsubscribe';
  /** The topic URL as given: verifications and deliveries name it as the subscriber knows it. */
  topic: string;
  topicKey: string;
  contentType: string;
  /** The callback as a normalized absolute URL without fragment: two spellings of one URL are one subscription. */
  callback: string;
  /** Lower-case host name (IPv6 without brackets). */
  callbackHost: string;
  /** Granted: the asked-for lease (or the default), clamped to the configured bounds. */
  leaseSeconds: number;
  secret?: string;
}

export interface HubRequestContext {
  /** The hub's own URL: a callback on its origin would have feedpub call itself. */
  hubUrl: string;
  topicOf: TopicOf;
  config: Pick<HubConfig, 'leaseDefaultSeconds' | 'leaseMinSeconds' | 'leaseMaxSeconds' | 'allowPrivateCallbacks'>;
}

export const HUB_FORM_TYPE = 'application/x-www-form-urlencoded';
export const HUB_REQUEST_MAX_BYTES = 8192;
// The callback ends the sort key of its subscription item (`feed.json <callback>`), which DynamoDB limits to 1,024 bytes.
const CALLBACK_MAX_BYTES = 1000;
const TOPIC_MAX_BYTES = 2000;
const SECRET_MAX_BYTES = 199;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** A callback URL's host as the per-host limit counts it: lower case (URL does that), IPv6 without brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

function callbackIssue(value: string, ctx: HubRequestContext): FieldIssue | { url: URL } {
  const issue = (rule: string, message: string): FieldIssue => ({ field: 'hub.callback', rule, message });
  if (bytes(value) > CALLBACK_MAX_BYTES) return issue('max_bytes', `must be at most ${CALLBACK_MAX_BYTES} bytes`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return issue('url', 'must be an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return issue('http_url', 'must be an http or https URL');
  if (url.origin === new URL(ctx.hubUrl).origin) return issue('not_hub', 'must not be on the hub itself');
  const host = hostOf(url);
  if (isIP(host) && !addressPolicy(ctx.config.allowPrivateCallbacks)(host)) return issue('public_address', `${host} is not a public address`);
  url.hash = '';
  return { url };
}

function leaseOf(value: string | undefined, config: HubRequestContext['config']): number | FieldIssue {
  if (value === undefined || value === '') return config.leaseDefaultSeconds;
  if (!/^\d{1,12}$/.test(value) || Number(value) === 0) return { field: 'hub.lease_seconds', rule: 'positive_integer', message: 'must be a positive whole number of seconds' };
  return Math.min(config.leaseMaxSeconds, Math.max(config.leaseMinSeconds, Number(value)));
}

/**
 * Decodes and checks the form of a subscription request (https://www.w3.org/TR/websub/#subscriber-sends-subscription-request):
 * every broken rule is named at once; parameters it does not know are ignored, as the Recommendation requires.
 * Throws UnsupportedMediaType, PayloadTooLarge or ValidationError.
 */
export function parseHubRequest(body: string, contentType: string | undefined, ctx: HubRequestContext): HubRequest {
  if ((contentType ?? '').split(';')[0]!.trim().toLowerCase() !== HUB_FORM_TYPE) throw new UnsupportedMediaType(contentType, [HUB_FORM_TYPE]);
  if (bytes(body) > HUB_REQUEST_MAX_BYTES) throw new PayloadTooLarge(HUB_REQUEST_MAX_BYTES);
  const form = new URLSearchParams(body);
  const issues: FieldIssue[] = [];
  const param = (field: string, required: boolean): string | undefined => {
    const values = form.getAll(field);
    if (values.length > 1) issues.push({ field, rule: 'single', message: 'must be given once' });
    else if (required && !values[0]) issues.push({ field, rule: 'required', message: 'is required' });
    return values.length === 1 ? values[0] : undefined;
  };

  const mode = param('hub.mode', true);
  if (mode && mode !== 'subscribe' && mode !== 'unsubscribe') {
    issues.push({ field: 'hub.mode', rule: 'one_of', message: "must be 'subscribe' or 'unsubscribe'" });
  }
  const topic = param('hub.topic', true);
  const published = topic && bytes(topic) <= TOPIC_MAX_BYTES ? ctx.topicOf(topic) : undefined;
  if (topic && !published) issues.push({ field: 'hub.topic', rule: 'published_topic', message: 'must be the URL of a feed this hub publishes' });
  const callbackValue = param('hub.callback', true);
  const callback = callbackValue ? callbackIssue(callbackValue, ctx) : undefined;
  if (callback && !('url' in callback)) issues.push(callback);
  const lease = leaseOf(param('hub.lease_seconds', false), ctx.config);
  if (typeof lease !== 'number') issues.push(lease);
  // An empty secret is no secret: signing with it would prove nothing.
  const secret = param('hub.secret', false) || undefined;
  if (secret !== undefined && bytes(secret) > SECRET_MAX_BYTES) {
    issues.push({ field: 'hub.secret', rule: 'max_bytes', message: `must be less than 200 bytes` });
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const url = (callback as { url: URL }).url;
  return {
    mode: mode as HubRequest['mode'],
    topic: topic!,
    topicKey: published!.key,
    contentType: published!.contentType,
    callback: url.href,
    callbackHost: hostOf(url),
    leaseSeconds: lease as number,
    ...(secret !== undefined && mode === 'subscribe' ? { secret } : {}),
  };
}
