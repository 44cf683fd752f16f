/** A post as stored and rendered. Dates are ISO 8601 in UTC; content is sanitized HTML. */
export interface Post {
  id: string;
  title: string;
  /** Sanitized HTML, relative URLs made absolute. */
  content: string;
  /** Plain text; derived from the content when the publisher gives none. */
  summary: string;
  /** Publication date. */
  date: string;
  /** Last time the content changed; moves only when contentHash does. */
  updated: string;
  categories: string[];
  tags: string[];
  link?: string;
  authors: Author[];
  /** Hash of everything the publisher controls; equal hash means an idempotent no-op write. */
  contentHash: string;
  /** Optimistic-concurrency counter, bumped on every stored change. */
  version: number;
  /**
   * `scheduled` while the post's date lies in the future: stored, readable by publishers, in no feed, page or list
   * for readers until the scheduler publishes it at its date (lib/regen/schedule.ts). Absent once published.
   */
  status?: 'scheduled';
}

export interface Author {
  name: string;
  email?: string;
  url?: string;
}

/** What a publisher sends, validated but not yet normalized. */
export interface PostDraft {
  id?: string;
  title: string;
  content: string;
  date?: Date;
  categories: string[];
  tags: string[];
  summary?: string;
  link?: string;
  authors: Author[];
}

export const LIMITS = {
  /** Largest request body; larger gets 413. Also the largest post in a batch. */
  bodyBytes: 256 * 1024,
  /** Largest batch request body (Lambda takes at most 6 MB synchronously). */
  batchBodyBytes: 5 * 1024 * 1024,
  /** Most posts in one batch request. */
  batchPosts: 100,
  /**
   * Bounded so that one write (post + old and new index entries + one revision bump per touched feed)
   * fits in a single DynamoDB transaction of at most 100 actions: 1 + 2 * 2 * (10 + 10 + 1) + 2 (the post's page and
   * the feed directory) = 87.
   */
  categories: 10,
  tags: 10,
  authors: 10,
  nameLength: 100,
  titleLength: 500,
  summaryLength: 2000,
  urlLength: 2048,
} as const;

/** Ids are path segments and S3 key parts: ASCII letters, digits, '.', '_' and '-'. */
export const POST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
