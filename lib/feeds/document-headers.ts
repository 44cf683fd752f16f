import type { SiteConfig } from '../config.js';
import { feedFormatOfKey } from '../hub/feed-topics.js';

/**
 * The Content-Security-Policy of everything served from the feeds' domain: post pages, feeds/index.html, the feeds
 * and OPML. https://www.w3.org/TR/CSP3/
 * - No script at all, said twice: default-src 'none' covers script-src (and object, frame, worker, connect, font,
 *   manifest), and script-src 'none' keeps saying so should default-src ever be loosened. If a vector ever got past
 *   the sanitizer into a page, it still would not run or load anything.
 * - Images and media from anywhere: posts embed them (the sanitizer keeps only http(s) URLs).
 * - Styles only inline, from the page's own <style> element; no style sheet is loaded from anywhere. 'unsafe-inline'
 *   rather than the element's hash: post pages stay in S3 as rendered until their post is written again, so a hash
 *   would unstyle every stored page whenever the layout's CSS changed. It lets injected CSS apply, but the sanitizer
 *   keeps no <style> element or style attribute, and CSS cannot run script; with no font or connect source and pages
 *   that hold nothing secret, there is nothing for CSS to exfiltrate that the page does not publish anyway.
 * - Never framed, no <base> to redirect relative URLs, no form posts anywhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'none'",
  'img-src http: https:',
  'media-src http: https:',
  "style-src 'unsafe-inline'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Referrer-Policy of the pages: links out tell the linked site our origin, never a page's path. */
export const REFERRER_POLICY = 'strict-origin-when-cross-origin';

/**
 * The security headers of every served document. In AWS the CloudFront response headers policy sets the same
 * (cdk/stateful-stack.ts), plus Strict-Transport-Security, which only means something over HTTPS.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  // Types are never guessed: a feed or page is only ever what its Content-Type says (no HTML sniffed from XML).
  'x-content-type-options': 'nosniff',
  'referrer-policy': REFERRER_POLICY,
  // frame-ancestors for browsers that predate it.
  'x-frame-options': 'DENY',
  // A page opened from another site gets no handle on that site's window, nor that site on it.
  'cross-origin-opener-policy': 'same-origin',
};

/**
 * HTTP headers a served document carries beyond what S3 stores: the security headers, and a current feed
 * document's `Link` to its WebSub hub and to itself (WebSub 4, https://www.w3.org/TR/websub/#discovery), which S3
 * cannot add. Only current documents are topics (feedFormatOfKey); archive pages name no hub. Locally the front adds
 * them; in AWS the response headers policy adds the first and a CloudFront function generated from the same rule
 * the second (cdk/constructs/discovery-headers.ts).
 */
export function documentHeaders(key: string, site: Pick<SiteConfig, 'feedsUrl' | 'hubUrl'>): Record<string, string> {
  if (feedFormatOfKey(key) === undefined) return { ...SECURITY_HEADERS };
  const self = `${site.feedsUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return { ...SECURITY_HEADERS, link: `<${site.hubUrl}>; rel="hub", <${self}>; rel="self"` };
}
