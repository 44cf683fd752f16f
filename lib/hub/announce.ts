import { randomUUID } from 'node:crypto';
import { inlineBody, type JobBody, type NotifiedTopic, type NotifyJob } from './jobs.js';
import { feedOfTopic } from './keys.js';
import { feedFormatOfKey } from './feed-topics.js';
import type { HubQueue } from './queue.js';

/** An object written with new bytes, as the regenerator's onWritten reports it (plus its S3 VersionId in AWS). */
export interface AnnouncedFile {
  key: string;
  contentType: string;
  body: string | Uint8Array;
  /** The object version these bytes are (a versioned bucket): how a body over the inline limit travels. */
  versionId?: string;
}

export interface AnnounceOptions {
  /** A job's bodies up to this many bytes in all travel inside it; Infinity locally (the local queue has no size limit). */
  inlineBodyMaxBytes: number;
  /** Which keys are topics; feed documents by default (pages and the directory are not). */
  isTopic?: (key: string) => boolean;
  now?: () => number;
}

/**
 * The notifications for a render's new objects: one per feed written, carrying exactly the bytes written of each of
 * its documents (topics). The caller sends them (`queue.send`) in the order its renders happened: a feed's
 * deliveries keep that order. The inline limit counts a job's bodies together, smallest first; a body past it
 * must name its object version, or the bytes delivered could be a later version's.
 */
export function notifyJobsFor(files: AnnouncedFile[], options: AnnounceOptions): NotifyJob[] {
  const isTopic = options.isTopic ?? ((key: string) => feedFormatOfKey(key) !== undefined);
  const announcedAt = (options.now ?? Date.now)();
  // A document written twice in one call (a render that rendered again: the site's settings changed meanwhile) is
  // announced once, with its last bytes: the ones served. Two of one topic in a job would share a delivery id.
  const byFeed = new Map<string, Map<string, AnnouncedFile>>();
  for (const file of files.filter((f) => isTopic(f.key))) {
    const { feed } = feedOfTopic(file.key);
    byFeed.set(feed, (byFeed.get(feed) ?? new Map()).set(file.key, file));
  }
  return [...byFeed].map(([feed, written]): NotifyJob => {
    const sized = [...written.values()].map((file) => ({ file, bytes: typeof file.body === 'string' ? Buffer.from(file.body, 'utf8') : file.body }));
    const inline = new Set<AnnouncedFile>();
    let budget = options.inlineBodyMaxBytes;
    for (const { file, bytes } of [...sized].sort((a, b) => a.bytes.byteLength - b.bytes.byteLength)) {
      if (bytes.byteLength > budget) break;
      inline.add(file);
      budget -= bytes.byteLength;
    }
    const topics = sized.map(({ file, bytes }): NotifiedTopic => {
      let body: JobBody;
      if (inline.has(file)) body = inlineBody(bytes);
      else if (file.versionId) body = { ref: { key: file.key, versionId: file.versionId } };
      else throw new Error(`${file.key} is ${bytes.byteLength} bytes, past the inline limit of ${options.inlineBodyMaxBytes} for a notification's bodies, and has no VersionId`);
      return { topicKey: file.key, contentType: file.contentType, body };
    });
    return { kind: 'notify', id: randomUUID(), feed, topics, announcedAt };
  });
}

/** What the regenerator's onWritten calls: the notifications of a render's new objects, sent in one go. */
export async function announce(queue: HubQueue, files: AnnouncedFile[], options: AnnounceOptions): Promise<NotifyJob[]> {
  const jobs = notifyJobsFor(files, options);
  if (jobs.length > 0) await queue.send(jobs);
  return jobs;
}
