import { describe, expect, it } from 'vitest';
import { PayloadTooLarge, UnsupportedMediaType, ValidationError } from '../../lib/errors.js';
import { feedTopicOf } from '../../lib/hub/feed-topics.js';
import { parseHubRequest, type HubRequestContext } from '../../lib/hub/hub-request.js';

const FORM = 'application/x-www-form-urlencoded';
const TOPIC = 'https://news.example.com/feeds/rss.xml';
const CALLBACK = 'https://reader.example.net/push/42?token=a%20b';

const context = (overrides: Partial<HubRequestContext['config']> = {}): HubRequestContext => ({
  hubUrl: 'https://api.example.com/hub',
  topicOf: feedTopicOf('https://news.example.com'),
  config: { leaseDefaultSeconds: 86_400, leaseMinSeconds: 60, leaseMaxSeconds: 864_000, allowPrivateCallbacks: false, ...overrides },
});

const form = (fields: Record<string, string | string[]>) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) params.append(name, v);
  return params.toString();
};

const subscribe = (fields: Record<string, string | string[]> = {}) => form({ 'hub.mode': 'subscribe', 'hub.topic': TOPIC, 'hub.callback': CALLBACK, ...fields });

/** The issues a request is refused with, as [field, rule] pairs. */
function refusal(body: string, ctx = context()): [string, string][] {
  try {
    parseHubRequest(body, FORM, ctx);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => [i.field, i.rule]);
    throw error;
  }
  throw new Error('accepted');
}

describe('parseHubRequest', () => {
  it('accepts a subscription with the default lease, the topic key and its Content-Type', () => {
    const request = parseHubRequest(subscribe(), FORM, context());
    expect(request).toEqual({
      mode: 'subscribe',
      topic: TOPIC,
      topicKey: 'feeds/rss.xml',
      contentType: 'application/rss+xml; charset=utf-8',
      callback: CALLBACK,
      callbackHost: 'reader.example.net',
      leaseSeconds: 86_400,
    });
  });

  it('takes a Content-Type with parameters, and refuses any other media type with 415', () => {
    expect(parseHubRequest(subscribe(), `${FORM}; charset=UTF-8`, context()).mode).toBe('subscribe');
    expect(() => parseHubRequest(subscribe(), 'application/json', context())).toThrow(UnsupportedMediaType);
    expect(() => parseHubRequest(subscribe(), undefined, context())).toThrow(UnsupportedMediaType);
  });

  it('refuses a body larger than 8 KB with 413', () => {
    expect(() => parseHubRequest(subscribe({ padding: 'x'.repeat(9000) }), FORM, context())).toThrow(PayloadTooLarge);
  });

  it('ignores parameters it does not know', () => {
    expect(parseHubRequest(subscribe({ 'hub.foo': 'bar', extra: '1' }), FORM, context()).topicKey).toBe('feeds/rss.xml');
  });

  it('names every missing parameter at once', () => {
    expect(refusal(form({}))).toEqual([
      ['hub.mode', 'required'],
      ['hub.topic', 'required'],
      ['hub.callback', 'required'],
    ]);
  });

  it.each(['publish', 'Subscribe', 'denied', ''])('refuses hub.mode=%j', (mode) => {
    expect(refusal(subscribe({ 'hub.mode': mode }))).toEqual([['hub.mode', mode ? 'one_of' : 'required']]);
  });

  it('refuses a parameter given twice', () => {
    expect(refusal(subscribe({ 'hub.mode': ['subscribe', 'unsubscribe'] }))).toEqual([['hub.mode', 'single']]);
  });

  it.each([
    'https://news.example.com/feeds/nothing.xml',
    'https://other.example.com/feeds/rss.xml',
    'https://news.example.com/feeds/rss.xml?x=1',
    'https://news.example.com/posts/a.html',
    'https://news.example.com/feeds/index.html',
    'not a url',
  ])('refuses the topic %s, which this hub does not publish', (topic) => {
    expect(refusal(subscribe({ 'hub.topic': topic }))).toEqual([['hub.topic', 'published_topic']]);
  });

  it('maps category and tag topics to their keys and formats', () => {
    const request = parseHubRequest(subscribe({ 'hub.topic': 'https://news.example.com/feeds/categories/%E4%B8%9C%E8%B4%A2/feed.json' }), FORM, context());
    expect(request).toMatchObject({ topicKey: 'feeds/categories/东财/feed.json', contentType: 'application/feed+json; charset=utf-8' });
  });

  it.each([
    ['ftp://reader.example.net/cb', 'http_url'],
    ['javascript:alert(1)', 'http_url'],
    ['/relative/callback', 'url'],
    ['https://api.example.com/elsewhere', 'not_hub'],
    ['http://127.0.0.1:8080/cb', 'public_address'],
    ['http://10.0.0.7/cb', 'public_address'],
    ['http://169.254.169.254/latest/meta-data/', 'public_address'],
    ['http://[::1]/cb', 'public_address'],
    ['http://[::ffff:192.168.1.1]/cb', 'public_address'],
    ['http://[fd00:ec2::254]/cb', 'public_address'],
    ['http://0.0.0.0/cb', 'public_address'],
    ['http://2130706433/cb', 'public_address'],
    [`https://reader.example.net/${'x'.repeat(1000)}`, 'max_bytes'],
  ])('refuses the callback %s (%s)', (callback, rule) => {
    expect(refusal(subscribe({ 'hub.callback': callback }))).toEqual([['hub.callback', rule]]);
  });

  it('takes private callbacks when the configuration allows them', () => {
    expect(parseHubRequest(subscribe({ 'hub.callback': 'http://127.0.0.1:8080/cb' }), FORM, context({ allowPrivateCallbacks: true })).callbackHost).toBe('127.0.0.1');
  });

  it('keeps one spelling of a callback: normalized, without its fragment', () => {
    expect(parseHubRequest(subscribe({ 'hub.callback': 'HTTPS://Reader.Example.NET:443/push#frag' }), FORM, context()).callback).toBe('https://reader.example.net/push');
  });

  it.each([
    ['3600', 3600],
    ['1', 60],
    ['99999999', 864_000],
    ['', 86_400],
  ])('grants a lease of %j as %i seconds (bounded)', (asked, granted) => {
    expect(parseHubRequest(subscribe({ 'hub.lease_seconds': asked }), FORM, context()).leaseSeconds).toBe(granted);
  });

  it.each(['0', '-5', '1.5', 'soon', '1e3'])('refuses hub.lease_seconds=%j', (lease) => {
    expect(refusal(subscribe({ 'hub.lease_seconds': lease }))).toEqual([['hub.lease_seconds', 'positive_integer']]);
  });

  it('takes a secret of 199 bytes and refuses one of 200 bytes, counted in UTF-8', () => {
    expect(parseHubRequest(subscribe({ 'hub.secret': 's'.repeat(199) }), FORM, context()).secret).toHaveLength(199);
    expect(refusal(subscribe({ 'hub.secret': 's'.repeat(200) }))).toEqual([['hub.secret', 'max_bytes']]);
    // 67 characters of 3 bytes each: 201 bytes.
    expect(refusal(subscribe({ 'hub.secret': '密'.repeat(67) }))).toEqual([['hub.secret', 'max_bytes']]);
  });

  it('treats an empty secret as none', () => {
    expect(parseHubRequest(subscribe({ 'hub.secret': '' }), FORM, context())).not.toHaveProperty('secret');
  });

  it('accepts an unsubscription, which carries no secret', () => {
    const request = parseHubRequest(subscribe({ 'hub.mode': 'unsubscribe', 'hub.secret': 'kept?' }), FORM, context());
    expect(request.mode).toBe('unsubscribe');
    expect(request).not.toHaveProperty('secret');
  });
});
