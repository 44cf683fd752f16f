import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { KeyedQueue, sleep } from '../concurrency.js';

interface StoredObject {
  content: Readable | Buffer | null;
  metadata: Record<string, string | number>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<StoredObject | null>;
  putObject(object: { bucket: string; key: string; content: Readable | Buffer; metadata: Record<string, string> }): Promise<{ size: number; md5: string }>;
  deleteObject(bucket: string, key: string): Promise<unknown>;
}

async function toBuffer(content: Readable | Buffer): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

const md5 = (body: Buffer) => createHash('md5').update(body).digest('hex');

/**
 * Where a request's time went inside the store (ms per phase, and counts), for the log of slow requests that
 * s3-server-process.ts writes: a request held for seconds says whether it queued behind a write of its key, waited
 * for its body, for the file system, or re-read files that did not agree.
 */
export type Phases = Record<string, number>;
const count = (phases: Phases | undefined, phase: string, n = 1) => {
  if (phases) phases[phase] = (phases[phase] ?? 0) + n;
};
async function timed<T>(phases: Phases | undefined, phase: string, work: () => Promise<T>): Promise<T> {
  if (!phases) return work();
  const started = performance.now();
  try {
    return await work();
  } finally {
    count(phases, phase, performance.now() - started);
  }
}

/** The patched store, and a view of it for one request that records that request's phases. */
export interface AtomicStore {
  forRequest(phases: Phases): FilesystemStore;
}

// s3rver's own model classes: its error type (the code maps to the HTTP status; PreconditionFailed: 412) and the
// list of request headers it passes to the store as metadata.
const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error') as new (code: string, message: string) => Error;
const S3Object = createRequire(import.meta.url)('s3rver/lib/models/object') as {
  new (bucket: string, key: string, content: Readable, metadata: Record<string, string | number>): StoredObject;
  ALLOWED_METADATA: string[];
};
const CONDITIONS = ['if-match', 'if-none-match'];

/**
 * s3rver, made to behave like S3 where feedpub relies on it, and cheap where every reader's poll goes through it:
 *
 * - Atomic replacement: S3 shows a reader the old bytes or the new ones. s3rver rewrites an object's files in
 *   place; here they are written aside and renamed into place, and a read is served only when its bytes match the
 *   stored MD5 (the ETag), re-reading while a write is half done.
 * - Conditional writes (If-Match, If-None-Match: *), which s3rver ignores and the regenerator's fencing relies on.
 * - A coherent cache: this process is the only writer of its directory, so the objects it wrote or read are kept
 *   in memory (up to a number of bytes) and served without touching the disk. A poll of an unchanged feed, mostly
 *   a 304, then costs no file operation at all. A read from disk is kept only if no write of its key began or ended
 *   while it read: otherwise the older bytes it read could replace the newer ones a write had just cached, and
 *   every reader would be served them (with their ETag, so a conditional GET kept answering 304) until the key was
 *   written again.
 */
export function makeS3rverAtomic(store: FilesystemStore, cacheBytes = 64 * 1024 * 1024): AtomicStore {
  const cache = new ObjectCache(cacheBytes);
  // Writes begun or ended per path (odd while one is under way): a read from disk goes into the cache only if the
  // count was even and did not move while it read.
  const generations = new Map<string, number>();
  const bump = (path: string) => generations.set(path, (generations.get(path) ?? 0) + 1);
  // The write or delete of each path under way (one at a time: `writes` below): a read that misses the cache waits
  // for it and takes what it cached, rather than reading files of which some are that write's and some not.
  const underWay = new Map<string, Promise<unknown>>();
  const changing = async <T>(path: string, write: () => Promise<T>): Promise<T> => {
    bump(path);
    const running = write();
    underWay.set(path, running);
    try {
      return await running;
    } finally {
      if (underWay.get(path) === running) underWay.delete(path);
      bump(path);
    }
  };
  /** After the write of `path` under way, if any, ends: what it cached (the wait counted in the request's phases). */
  const afterWrite = async (path: string, phases?: Phases): Promise<CachedObject | undefined> => {
    const running = underWay.get(path);
    if (!running) return undefined;
    return timed(phases, 'waitedForWriteMs', async () => {
      await running.catch(() => undefined);
      return cache.get(path);
    });
  };
  const buckets = new Map<string, unknown>();
  // Writes of one key, one at a time: a condition is checked and the write done with no other write between.
  const writes = new KeyedQueue();

  const { getBucket, putBucket, deleteBucket, getObject, deleteObject } = {
    getBucket: store.getBucket.bind(store),
    putBucket: store.putBucket.bind(store),
    deleteBucket: store.deleteBucket.bind(store),
    getObject: store.getObject.bind(store),
    deleteObject: store.deleteObject.bind(store),
  };
  store.getBucket = async (bucket) => {
    if (!buckets.has(bucket)) {
      const found = await getBucket(bucket);
      if (!found) return found;
      buckets.set(bucket, found);
    }
    return buckets.get(bucket);
  };
  store.putBucket = async (bucket) => {
    buckets.delete(bucket);
    return putBucket(bucket);
  };
  store.deleteBucket = async (bucket) => {
    buckets.delete(bucket);
    cache.clear();
    return deleteBucket(bucket);
  };

  const putObject = (object: Parameters<FilesystemStore['putObject']>[0], phases?: Phases) => {
    const queued = performance.now();
    return writes.run(`${object.bucket}/${object.key}`, async () => {
      count(phases, 'queuedMs', performance.now() - queued);
      const path = store.getResourcePath(object.bucket, object.key, 'object');
      // The body is read whole first, also when the write is refused: the client is never cut off mid-request. Until
      // then the files are untouched, so reads are served from them (or the cache) rather than wait for the upload.
      const body = await timed(phases, 'bodyMs', () => toBuffer(object.content));
      return changing(path, async () => {
        const known = cache.get(path);
        try {
          const written = await putAtomically(store, { ...object, content: body }, known, phases);
          cache.set(path, written.cached);
          return { size: written.cached.body.length, md5: written.md5 };
        } catch (error) {
          // A write that failed part way may have renamed some of its files into place. Readers keep the object as
          // it was (as S3 shows a failed PUT: not at all); the next write writes every file again.
          if (known) cache.set(path, { ...known, metadataFile: undefined });
          throw error;
        }
      });
    });
  };
  store.putObject = (object) => putObject(object);

  store.deleteObject = (bucket, key) =>
    writes.run(`${bucket}/${key}`, async () => {
      const path = store.getResourcePath(bucket, key, 'object');
      return changing(path, async () => {
        cache.delete(path);
        return deleteObject(bucket, key);
      });
    });

  const readObject = async (bucket: string, key: string, options?: { start?: number; end?: number }, phases?: Phases): Promise<StoredObject | null> => {
    const ranged = options?.start !== undefined || options?.end !== undefined;
    const path = store.getResourcePath(bucket, key, 'object');
    const served = (object: CachedObject) => new S3Object(bucket, key, Readable.from([object.body]), object.metadata);
    const hit = ranged ? undefined : (cache.get(path) ?? (await afterWrite(path, phases)));
    if (hit) return served(hit);
    const generation = generations.get(path);
    for (let attempt = 0; ; attempt++) {
      let object: StoredObject | null;
      try {
        count(phases, 'diskReads');
        object = await timed(phases, 'diskReadMs', () => getObject(bucket, key, options));
      } catch (error) {
        // Metadata written by something other than putObject above (older data) may still be read half written.
        if (!(error instanceof SyntaxError) || attempt >= 100) throw error;
        await sleep(5);
        continue;
      }
      if (!object?.content || ranged) return object;
      const content = object.content;
      const body = await timed(phases, 'diskReadMs', () => toBuffer(content));
      const digest = md5(body);
      const whole = String(object.metadata.etag).includes(digest);
      if (!whole && attempt < 100) {
        // A write of the key began while this read: its bytes, once it ends; otherwise (files left by something
        // else) a moment, and the files again.
        if (!underWay.has(path)) await timed(phases, 'retrySleepMs', () => sleep(5));
        const written = await afterWrite(path, phases);
        if (written) return served(written);
        continue;
      }
      // Files that never came to agree (left by a write cut off part way, or by a crash) are served with their bytes'
      // own ETag, and kept like any other read: the next reads do not wait for them again.
      const metadata = { ...object.metadata, 'content-length': body.length, ...(whole ? {} : { etag: JSON.stringify(digest) }) };
      // Not while a write of the key is under way either (an odd count): it may cache its bytes before this returns.
      if (generations.get(path) === generation && (generation ?? 0) % 2 === 0) cache.set(path, { body, metadata });
      // A stream, as s3rver expects (a HEAD destroys it unread).
      return new S3Object(bucket, key, Readable.from([body]), metadata);
    }
  };
  store.getObject = (bucket, key, options) => readObject(bucket, key, options);

  return {
    forRequest: (phases) =>
      Object.assign(Object.create(store) as FilesystemStore, {
        getObject: (bucket: string, key: string, options?: { start?: number; end?: number }) => readObject(bucket, key, options, phases),
        putObject: (object: Parameters<FilesystemStore['putObject']>[0]) => putObject(object, phases),
      }),
  };
}

/**
 * S3 conditional writes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): a PUT with
 * If-Match stores only over that ETag, one with If-None-Match: * only where there is no object, else 412. s3rver
 * passes a request's headers to the store only as allowed metadata, so the two headers are allowed there and taken
 * out again before anything is stored.
 */
export function allowConditionalHeaders(): void {
  for (const header of CONDITIONS) if (!S3Object.ALLOWED_METADATA.includes(header)) S3Object.ALLOWED_METADATA.push(header);
}

const unquote = (etag: string) => etag.replace(/^W\//, '').replace(/"/g, '').trim();

interface CachedObject {
  body: Buffer;
  /** As s3rver's getObject gives it: stored headers, etag, last-modified, content-length. */
  metadata: Record<string, string | number>;
  /** The metadata file this process last wrote for the object, when it wrote it: a write with the same skips it. */
  metadataFile?: string;
}

// Staging files' names: unique within this process, the only writer of its directory.
let staged = 0;

async function putAtomically(store: FilesystemStore, object: Parameters<FilesystemStore['putObject']>[0] & { content: Buffer }, known?: CachedObject, phases?: Phases): Promise<{ md5: string; cached: CachedObject }> {
  const [ifMatch, ifNoneMatch] = CONDITIONS.map((header) => object.metadata[header]);
  for (const header of CONDITIONS) delete object.metadata[header];
  const body = object.content;
  if (ifMatch !== undefined || ifNoneMatch !== undefined) {
    const current = known ? unquote(String(known.metadata.etag)) : await readFile(store.getResourcePath(object.bucket, object.key, 'object.md5'), 'utf8').catch(() => undefined);
    if (ifNoneMatch !== undefined && current !== undefined) throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    if (ifMatch !== undefined && (current === undefined || unquote(ifMatch) !== current.trim())) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
  }
  const path = store.getResourcePath(object.bucket, object.key, 'object');
  await timed(phases, 'mkdirMs', () => ensureDirectory(dirname(path)));
  const suffix = `${process.pid}-${++staged}`;
  const staging = `${path}.${suffix}.tmp`;
  const digest = md5(body);
  const stored = storedMetadata(object.metadata);
  const metadataFile = JSON.stringify(stored, null, 2);
  // The body, s3rver's MD5 file and its metadata JSON (unless it holds these very bytes already: a feed is
  // rewritten with the same headers), staged beside the object's, then each renamed over it. In parallel: a read
  // that finds the files of two writes checks the body against the MD5 and retries. Each file less is four file
  // operations less (open, write, close, rename) on the server's one thread and its file-system threads.
  const sidecars: [resource: string, content: string][] = [['object.md5', digest], ...(known?.metadataFile === metadataFile ? [] : [['metadata.json', metadataFile] as [string, string]])];
  const stagingKey = `${object.key}.${suffix}.staging`;
  await timed(phases, 'filesMs', () => Promise.all([writeFile(staging, body), ...sidecars.map(([resource, content]) => writeFile(store.getResourcePath(object.bucket, stagingKey, resource), content))]));
  // Every rename settled before this write ends, failed or not: none may land after the next write's.
  const renamed = await timed(phases, 'renamesMs', () =>
    Promise.allSettled(sidecars.map(([resource]) => rename(store.getResourcePath(object.bucket, stagingKey, resource), store.getResourcePath(object.bucket, object.key, resource)))),
  );
  const failed = renamed.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  await timed(phases, 'renamesMs', () => rename(staging, path));
  // What s3rver's own reader would give from the files: their mtime is the object's Last-Modified.
  const { mtime } = await timed(phases, 'statMs', () => stat(path));
  return { md5: digest, cached: { body, metadata: { ...stored, etag: JSON.stringify(digest), 'last-modified': mtime.toUTCString(), 'content-length': body.length }, metadataFile } };
}

/** What s3rver's putMetadata keeps of an object's metadata: the allowed headers and user metadata. */
function storedMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([key]) => S3Object.ALLOWED_METADATA.includes(key) || key.startsWith('x-amz-meta-')));
}

const directories = new Set<string>();
/** mkdir once per directory: a feed is rewritten thousands of times in the same place. */
async function ensureDirectory(dir: string): Promise<void> {
  if (directories.has(dir)) return;
  await mkdir(dir, { recursive: true });
  directories.add(dir);
}

/** Objects by file path, least recently used out first once their bodies pass `capacity` bytes. */
class ObjectCache {
  private readonly entries = new Map<string, CachedObject>();
  private bytes = 0;

  constructor(private readonly capacity: number) {}

  get(path: string): CachedObject | undefined {
    const hit = this.entries.get(path);
    if (hit) {
      this.entries.delete(path);
      this.entries.set(path, hit);
    }
    return hit;
  }

  set(path: string, object: CachedObject): void {
    this.delete(path);
    if (object.body.length > this.capacity / 4) return;
    this.entries.set(path, object);
    this.bytes += object.body.length;
    while (this.bytes > this.capacity) this.delete(this.entries.keys().next().value!);
  }

  delete(path: string): void {
    const old = this.entries.get(path);
    if (!old) return;
    this.entries.delete(path);
    this.bytes -= old.body.length;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
