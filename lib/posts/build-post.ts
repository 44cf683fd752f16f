import { createHash } from 'node:crypto';
import { hasVisible, stripXmlForbidden } from '../text.js';
import { htmlToText, sanitizeContent, summarize } from './html.js';
import type { Post, PostDraft } from './post.js';

export interface BuildPostOptions {
  id: string;
  now: Date;
  siteUrl: string;
  /** The stored post this write replaces, if any. */
  existing?: Post;
}

/** Titles are plain text: markup and entities a Jekyll title may carry become the text they stand for. */
export function plainTitle(title: string): string {
  return stripXmlForbidden(htmlToText(title)) || stripXmlForbidden(title);
}

/**
 * Turns a validated draft into the post to store: sanitized content, a summary, explicit dates and a hash
 * of everything the publisher controls. Replacing a post with the same content returns the stored post
 * unchanged (same version, same updated date), which is what makes PUT idempotent down to feed bytes.
 */
export function buildPost(draft: PostDraft, { id, now, siteUrl, existing }: BuildPostOptions): Post {
  const content = sanitizeContent(draft.content, draft.link ?? `${siteUrl}/`);
  const summary = stripXmlForbidden(draft.summary ?? '');
  const fields = {
    title: plainTitle(draft.title),
    content,
    // A summary that shows nothing is no summary: one is derived, as when none is given.
    summary: hasVisible(summary) ? summary : summarize(htmlToText(content)),
    // Without a date, a replacement keeps the stored one: a repeated PUT must not move the post.
    date: (draft.date ?? (existing ? new Date(existing.date) : now)).toISOString(),
    categories: draft.categories,
    tags: draft.tags,
    ...(draft.link ? { link: draft.link } : {}),
    authors: draft.authors.map((a) => ({ ...a, name: stripXmlForbidden(a.name) })),
  };
  const contentHash = createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
  if (existing?.contentHash === contentHash) return existing;

  const updated = existing ? new Date(Math.max(now.getTime(), Date.parse(fields.date))).toISOString() : fields.date;
  // A date in the future schedules the post (as Jekyll, with future: false, leaves it out until then).
  const scheduled = Date.parse(fields.date) > now.getTime() ? { status: 'scheduled' as const } : {};
  return { id, ...fields, updated, contentHash, version: (existing?.version ?? 0) + 1, ...scheduled };
}
