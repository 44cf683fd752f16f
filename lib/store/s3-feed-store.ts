import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { PreconditionFailed, type FeedStore, type PutCondition } from './ports.js';

/**
 * Current documents: a reader's own cache keeps one a minute (readers poll less often anyway), while shared caches
 * (CloudFront) revalidate every request with the origin by ETag (s-maxage=0): a new post is at the edge as soon as it
 * is in S3, and an unchanged document costs the edge a 304 from S3, not a transfer.
 */
export const FEED_CACHE_CONTROL = 'public, max-age=60, s-maxage=0';
/**
 * Archive pages do not change when newer posts arrive (RFC 5005): a reader fetches each once and keeps it a day. Not
 * "immutable": deleting or editing an archived post does change its page.
 */
export const ARCHIVE_CACHE_CONTROL = 'public, max-age=86400';

/** How long readers and CloudFront keep an object, by what it is. */
export const cacheControlOf = (key: string) => (/\/archive\/\d+\//.test(key) ? ARCHIVE_CACHE_CONTROL : FEED_CACHE_CONTROL);

const status = (error: unknown) => (error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined);

export class S3FeedStore implements FeedStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly cacheControl: (key: string) => string = cacheControlOf,
  ) {}

  /** S3 conditional writes (If-Match / If-None-Match on PutObject): a write never lands over one it did not expect. */
  async put(key: string, body: string, contentType: string, condition: PutCondition = {}, signal?: AbortSignal): Promise<{ etag: string; versionId?: string }> {
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          CacheControl: this.cacheControl(key),
          ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
          ...(condition.ifNoneMatch ? { IfNoneMatch: condition.ifNoneMatch } : {}),
        }),
        { abortSignal: signal },
      );
      return { etag: out.ETag ?? '', ...(out.VersionId ? { versionId: out.VersionId } : {}) };
    } catch (error) {
      // 412: the ETag differs; 409: another conditional write of the same key was in progress.
      if (status(error) === 412 || status(error) === 409) throw new PreconditionFailed(`${key} changed since ${condition.ifMatch ?? 'absent'}`, { cause: error });
      throw error;
    }
  }

  async etag(key: string): Promise<string | undefined> {
    try {
      return (await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))).ETag;
    } catch (error) {
      if (status(error) === 404) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
