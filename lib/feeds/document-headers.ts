import type { SiteConfig } from '../config.js';
import { feedFormatOfKey } from '../hub/feed-topics.js';

/**
 * HTTP headers a served document carries beyond what S3 stores: a current feed document's `Link` to its WebSub hub
 * and to itself (WebSub 4, https://www.w3.org/TR/websub/#discovery), which S3 cannot add. Only current documents are
 * topics (feedFormatOfKey); archive pages name no hub. Locally the front adds them; in AWS a CloudFront function.
 */
export function documentHeaders(key: string, site: Pick<SiteConfig, 'feedsUrl' | 'hubUrl'>): Record<string, string> {
  if (feedFormatOfKey(key) === undefined) return {};
  const self = `${site.feedsUrl}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return { link: `<${site.hubUrl}>; rel="hub", <${self}>; rel="self"` };
}
