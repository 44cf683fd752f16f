import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BodyRef } from './jobs.js';
import type { BodySource } from './queue.js';

/** Bodies by object version from the (versioned) feeds bucket: exactly the bytes that version holds. */
export function s3BodySource(s3: S3Client, bucket: string): BodySource {
  return {
    async get(ref: BodyRef) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: ref.key, VersionId: ref.versionId }));
      if (!out.Body) throw new Error(`${ref.key} version ${ref.versionId} has no body`);
      return out.Body.transformToByteArray();
    },
  };
}
