import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { sleep } from '../concurrency.js';

interface StoredObject {
  content: Readable | Buffer | null;
  metadata: Record<string, string | number>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<StoredObject | null>;
  putObject(object: { bucket: string; key: string; content: Readable | Buffer; metadata: Record<string, string> }): Promise<{ size: number; md5: string }>;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
}

async function toBuffer(content: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

const md5 = (body: Buffer) => createHash('md5').update(body).digest('hex');

/**
 * S3 replaces an object atomically: a reader sees the old bytes or the new ones. s3rver truncates and rewrites
 * the file in place, then its metadata, so a GET racing a PUT can read an empty or torn object. This makes the
 * local store behave like S3: content is written aside and renamed into place, and a read is served only when
 * its bytes match the stored MD5 (the ETag), re-reading while a write is half done.
 */
export function makeS3rverAtomic(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const body = await toBuffer(object.content);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const staging = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(staging, body);
    const digest = md5(body);
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(staging, path);
    return { size: body.length, md5: digest };
  };

  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    for (let attempt = 0; ; attempt++) {
      const object = await getObject(bucket, key, options);
      if (!object?.content || options?.start !== undefined || options?.end !== undefined) return object;
      const body = await toBuffer(object.content);
      if (String(object.metadata.etag).includes(md5(body)) || attempt >= 100) {
        object.content = body;
        object.metadata['content-length'] = body.length;
        return object;
      }
      await sleep(5);
    }
  };
}
