import type { Node } from 'constructs';

/** Site settings and options of a deployment, from cdk context (`cdk.json` or `-c key=value`). */
export interface FeedpubSettings {
  siteTitle: string;
  siteDescription: string;
  /** Home page of the site; defaults to the CloudFront URL. */
  siteUrl?: string;
  language: string;
  feedItems: number;
  timeZone: string;
  /** Custom domain for the feeds, with an ACM certificate in us-east-1. */
  domainName?: string;
  certificateArn?: string;
  /** Email address subscribed to the alarm topic. */
  alarmEmail?: string;
}

export function readSettings(node: Node): FeedpubSettings {
  const get = (key: string) => {
    const value = node.tryGetContext(key) as unknown;
    return value === undefined || value === '' ? undefined : String(value);
  };
  const feedItems = Number(get('feedItems') ?? 50);
  if (!Number.isInteger(feedItems) || feedItems < 1 || feedItems > 500) throw new Error('context feedItems must be a whole number from 1 to 500');
  const domainName = get('domainName');
  const certificateArn = get('certificateArn');
  if (Boolean(domainName) !== Boolean(certificateArn)) throw new Error('context domainName and certificateArn go together');
  return {
    siteTitle: get('siteTitle') ?? 'feedpub',
    siteDescription: get('siteDescription') ?? '',
    siteUrl: get('siteUrl'),
    language: get('language') ?? 'en',
    feedItems,
    timeZone: get('timeZone') ?? 'UTC',
    domainName,
    certificateArn,
    alarmEmail: get('alarmEmail'),
  };
}
