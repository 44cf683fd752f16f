import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
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
 * the file in place, then its metadata files, so a GET racing a PUT can read an empty or torn object, or torn
 * metadata JSON (a 500). This makes the local store behave like S3: content and metadata files are written aside
 * and renamed into place, and a read is served only when its bytes match the stored MD5 (the ETag), re-reading
 * while a write is half done.
 */
export function makeS3rverAtomic(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const body = await toBuffer(object.content);
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const suffix = randomBytes(6).toString('hex');
    const staging = `${path}.${suffix}.tmp`;
    await writeFile(staging, body);
    const digest = md5(body);
    // s3rver's own metadata writer, aimed at a staging key, then each file renamed over the object's.
    const stagingKey = `${object.key}.${suffix}.staging`;
    await store.putMetadata(object.bucket, stagingKey, object.metadata, digest);
    for (const resource of ['object.md5', 'metadata.json']) {
      await rename(store.getResourcePath(object.bucket, stagingKey, resource), store.getResourcePath(object.bucket, object.key, resource));
    }
    await rename(staging, path);
    return { size: body.length, md5: digest };
  };

  // Bodies already checked, by file: a file is never written in place (see above), so the same inode, size and
  // mtime means the same bytes. Polls of an unchanged feed (mostly 304s) then read no body and hash nothing.
  const verified = new Map<string, { stamp: string; etag: string; body: Buffer }>();
  const getObject = store.getObject.bind(store);
  store.getObject = async (bucket, key, options) => {
    const ranged = options?.start !== undefined || options?.end !== undefined;
    const path = store.getResourcePath(bucket, key, 'object');
    for (let attempt = 0; ; attempt++) {
      const stamp = ranged ? undefined : await fileStamp(path);
      let object: StoredObject | null;
      try {
        object = await getObject(bucket, key, options);
      } catch (error) {
        // Metadata written by something other than putObject above (older data) may still be read half written.
        if (!(error instanceof SyntaxError) || attempt >= 100) throw error;
        await sleep(5);
        continue;
      }
      if (!object?.content || ranged) return object;
      const etag = String(object.metadata.etag);
      const known = verified.get(path);
      let body: Buffer;
      if (known && known.stamp === stamp && known.etag === etag) {
        (object.content as Readable).destroy();
        body = known.body;
      } else {
        body = await toBuffer(object.content);
        if (!etag.includes(md5(body)) && attempt < 100) {
          await sleep(5);
          continue;
        }
        if (stamp && stamp === (await fileStamp(path))) remember(verified, path, { stamp, etag, body });
      }
      object.content = body;
      object.metadata['content-length'] = body.length;
      return object;
    }
  };
}

async function fileStamp(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

const VERIFIED_ENTRIES = 2_000;

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  cache.delete(key);
  cache.set(key, value);
  if (cache.size > VERIFIED_ENTRIES) cache.delete(cache.keys().next().value!);
}
