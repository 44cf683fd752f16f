import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
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
  store.putObject = (object) => oneAtATime(`${object.bucket}/${object.key}`, () => putAtomically(store, object));

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
      // A stream, as s3rver expects (a HEAD destroys it unread).
      object.content = Readable.from([body]);
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

// s3rver's error type: its code maps to the HTTP status (PreconditionFailed: 412).
const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error') as new (code: string, message: string) => Error;
const S3Object = createRequire(import.meta.url)('s3rver/lib/models/object') as { ALLOWED_METADATA: string[] };
const CONDITIONS = ['if-match', 'if-none-match'];

/**
 * S3 conditional writes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): a PUT with
 * If-Match stores only over that ETag, one with If-None-Match: * only where there is no object, else 412. s3rver
 * ignores both; the regenerator's fencing relies on them, so the local server keeps them too. s3rver passes a
 * request's headers to the store only as allowed metadata, so the two headers are allowed there and taken out
 * again before anything is stored.
 */
export function allowConditionalHeaders(): void {
  for (const header of CONDITIONS) if (!S3Object.ALLOWED_METADATA.includes(header)) S3Object.ALLOWED_METADATA.push(header);
}

const unquote = (etag: string) => etag.replace(/^W\//, '').replace(/"/g, '').trim();

async function putAtomically(store: FilesystemStore, object: Parameters<FilesystemStore['putObject']>[0]): Promise<{ size: number; md5: string }> {
  const [ifMatch, ifNoneMatch] = CONDITIONS.map((header) => object.metadata[header]);
  for (const header of CONDITIONS) delete object.metadata[header];
  // The body is read whole first, also when the write is refused: the client is never cut off mid-request.
  const body = await toBuffer(object.content);
  if (ifMatch !== undefined || ifNoneMatch !== undefined) {
    const current = await readFile(store.getResourcePath(object.bucket, object.key, 'object.md5'), 'utf8').catch(() => undefined);
    if (ifNoneMatch !== undefined && current !== undefined) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    if (ifMatch !== undefined && (current === undefined || unquote(ifMatch) !== current.trim())) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
  }
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
}

/** Writes of one key, one at a time: a condition is checked and the write done with no other write between. */
const queues = new Map<string, Promise<unknown>>();
function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => queues.get(key) === settled && queues.delete(key));
  return run;
}
