import type { SiteConfig } from '../config.js';

/** The keys of feed documents (current and archive pages); the CloudFront function is generated from it. */
export const FEED_FILE = /^feeds\/(?:.+\/)?(?:rss\.xml|atom\.xml|feed\.json)$/;

/**
 * HTTP headers a served document carries beyond what S3 stores: a feed document's `Link` to its WebSub hub and to
 * itself (WebSub 4, https://www.w3.org/TR/websub/#discovery), which S3 cannot add. Locally the front adds them; in
 * AWS a CloudFront function does the same (cdk/constructs/discovery-headers.ts).
 */
export function documentHeaders(key: string, site: Pick<SiteConfig, 'feedsUrl' | 'hubUrl'>): Record<string, string> {
  if (!FEED_FILE.test(key)) return {};
  const self = `${site.feedsUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return { link: `<${site.hubUrl}>; rel="hub", <${self}>; rel="self"` };
}
