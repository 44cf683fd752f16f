import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FeedStore } from './ports.js';

/** Short enough that readers behind CloudFront see a new post within a minute; revalidated with ETags after. */
export const FEED_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=60';

export class S3FeedStore implements FeedStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType, CacheControl: FEED_CACHE_CONTROL }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
