import { randomUUID } from 'node:crypto';
import { inlineBody, type NotifyJob } from './jobs.js';
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
  /** Bodies up to this many bytes travel inside the job; Infinity locally (the local queue has no size limit). */
  inlineBodyMaxBytes: number;
  /** Which keys are topics; feed documents by default (pages and the directory are not). */
  isTopic?: (key: string) => boolean;
  now?: () => number;
}

/**
 * The notifications for a render's new objects: one per topic written, carrying exactly the bytes written. The
 * caller sends them (`queue.send`) in the order its renders happened: a topic's deliveries keep that order. A body
 * too large to travel inline must name its object version, or the bytes delivered could be a later version's.
 */
export function notifyJobsFor(files: AnnouncedFile[], options: AnnounceOptions): NotifyJob[] {
  const isTopic = options.isTopic ?? ((key: string) => feedFormatOfKey(key) !== undefined);
  const announcedAt = (options.now ?? Date.now)();
  return files
    .filter((file) => isTopic(file.key))
    .map((file) => {
      const bytes = typeof file.body === 'string' ? Buffer.from(file.body, 'utf8') : file.body;
      let body: NotifyJob['body'];
      if (bytes.byteLength <= options.inlineBodyMaxBytes) body = inlineBody(bytes);
      else if (file.versionId) body = { ref: { key: file.key, versionId: file.versionId } };
      else throw new Error(`${file.key} is ${bytes.byteLength} bytes, over the inline limit of ${options.inlineBodyMaxBytes}, and has no VersionId`);
      return { kind: 'notify', id: randomUUID(), topicKey: file.key, contentType: file.contentType, body, announcedAt };
    });
}

/** What the regenerator's onWritten calls: the notifications of a render's new objects, sent in one go. */
export async function announce(queue: HubQueue, files: AnnouncedFile[], options: AnnounceOptions): Promise<NotifyJob[]> {
  const jobs = notifyJobsFor(files, options);
  if (jobs.length > 0) await queue.send(jobs);
  return jobs;
}
