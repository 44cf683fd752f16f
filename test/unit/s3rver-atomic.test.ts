import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeS3rverAtomic } from '../../lib/local/s3rver-atomic.js';

// Fault injection in renames onto an object's files (s3rver names them <key>._S3rver_<resource>): the next rename
// onto a file ending in `fail` throws; the next onto one ending in `hold` waits until `release` is called.
const faults = vi.hoisted(() => ({
  fail: undefined as string | undefined,
  hold: undefined as { suffix: string; reached: () => void; released: Promise<void> } | undefined,
}));
vi.mock('node:fs/promises', async (original) => {
  const fs = await original<typeof import('node:fs/promises')>();
  return {
    ...fs,
    rename: async (from: string, to: string) => {
      if (faults.fail !== undefined && to.endsWith(faults.fail)) {
        faults.fail = undefined;
        throw Object.assign(new Error(`EIO: i/o error, rename '${from}'`), { code: 'EIO' });
      }
      const held = faults.hold;
      if (held && to.endsWith(held.suffix)) {
        faults.hold = undefined;
        held.reached();
        await held.released;
      }
      return fs.rename(from, to);
    },
  };
});

/** Holds the next rename onto a file ending in `suffix`: `reached` resolves once it is held, `release` lets it go. */
function holdRename(suffix: string) {
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const isReached = new Promise<void>((resolve) => (reached = resolve));
  faults.hold = { suffix, reached, released };
  return { reached: isReached, release };
}

type Store = Parameters<typeof makeS3rverAtomic>[0];
const FilesystemStore = createRequire(import.meta.url)('s3rver/lib/stores/filesystem') as new (dir: string) => Store;

async function text(object: Awaited<ReturnType<Store['getObject']>>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of object!.content as Readable) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString();
}

describe('s3rver made atomic: its cache', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /**
   * s3rver's file store with its disk reads held at a gate (after the bytes are read), wrapped as the local S3
   * server wraps it, with a cache of 4,000 bytes (objects of 1,000 bytes: a fifth one evicts the first).
   */
  async function gatedStore() {
    const dir = mkdtempSync(join(tmpdir(), 's3rver-atomic-'));
    dirs.push(dir);
    const store = new FilesystemStore(dir);
    const fromDisk = store.getObject.bind(store);
    let gate: Promise<void> | undefined;
    let readsAtGate = 0;
    store.getObject = async (bucket, key, options) => {
      const object = await fromDisk(bucket, key, options);
      if (!object?.content) return object;
      const body = Buffer.from(await text(object));
      readsAtGate++;
      await gate;
      return { ...object, content: body };
    };
    makeS3rverAtomic(store, 4_000);
    await store.putBucket('b');
    const put = (key: string, body: string) => store.putObject({ bucket: 'b', key, content: Buffer.from(body.padEnd(1_000, '.')), metadata: { 'content-type': 'text/plain' } });
    const hold = () => {
      let open!: () => void;
      gate = new Promise((resolve) => (open = resolve));
      return { open, reached: async () => { while (readsAtGate === 0) await new Promise((r) => setTimeout(r, 1)); } };
    };
    return { store, put, hold };
  }

  it('never keeps the bytes of a disk read that a write overtook: the next reader gets the new bytes', async () => {
    const { store, put, hold } = await gatedStore();
    await put('feed.xml', 'v1');
    for (const other of ['a', 'b', 'c', 'd']) await put(other, other); // feed.xml is out of the cache now
    const gate = hold();
    const slowRead = store.getObject('b', 'feed.xml'); // reads v1 from disk, then waits at the gate
    await gate.reached();
    await put('feed.xml', 'v2'); // the write completes (and caches v2) while the read is held
    gate.open();
    expect((await text(await slowRead)).startsWith('v1')).toBe(true); // it began before the write: either is right
    const next = await store.getObject('b', 'feed.xml');
    expect((await text(next)).startsWith('v2')).toBe(true);
    expect(String(next!.metadata.etag)).not.toBe('');
  });

  it('still serves an unchanged object from the cache after a read from disk', async () => {
    const { store, put } = await gatedStore();
    await put('feed.xml', 'v1');
    for (const other of ['a', 'b', 'c', 'd']) await put(other, other);
    expect((await text(await store.getObject('b', 'feed.xml'))).startsWith('v1')).toBe(true);
    // A second read is a hit: served even with the disk copy gone.
    rmSync(store.getResourcePath('b', 'feed.xml', 'object'));
    expect((await text(await store.getObject('b', 'feed.xml'))).startsWith('v1')).toBe(true);
  });

  /** A wrapped store with its default cache, and a write of one key with a body and a content type. */
  async function plainStore() {
    const dir = mkdtempSync(join(tmpdir(), 's3rver-atomic-'));
    dirs.push(dir);
    const store = new FilesystemStore(dir);
    makeS3rverAtomic(store);
    await store.putBucket('b');
    const put = (body: string, type: string, key = 'feed') => store.putObject({ bucket: 'b', key, content: Buffer.from(body), metadata: { 'content-type': type } });
    return { dir, store, put };
  }

  /** What a new server process on the same directory serves (nothing cached): the files on disk. */
  async function fromDisk(dir: string, key: string) {
    const store = new FilesystemStore(dir);
    makeS3rverAtomic(store);
    const object = await store.getObject('b', key);
    return { body: await text(object), type: object!.metadata['content-type'] };
  }

  it('leaves on disk the last body and headers written, whether a rewrite keeps the headers or changes them', async () => {
    const { dir, put } = await plainStore();
    await put('v1', 'text/plain');
    await put('v2', 'text/plain');
    expect(await fromDisk(dir, 'feed')).toEqual({ body: 'v2', type: 'text/plain' });
    await put('v3', 'application/xml');
    expect(await fromDisk(dir, 'feed')).toEqual({ body: 'v3', type: 'application/xml' });
    await put('v4', 'application/xml');
    expect(await fromDisk(dir, 'feed')).toEqual({ body: 'v4', type: 'application/xml' });
  });

  it('after a write that failed part way, serves the object as it was, takes its ETag, and writes every file next time', async () => {
    const { dir, store, put } = await plainStore();
    const v1 = await put('v1', 'text/plain');
    faults.fail = '_object'; // the body's rename, after the MD5 and metadata files were renamed into place
    await expect(put('v2', 'application/xml')).rejects.toThrow(/EIO/);
    const seen = await store.getObject('b', 'feed');
    expect({ body: await text(seen), type: seen!.metadata['content-type'], etag: seen!.metadata.etag }).toEqual({ body: 'v1', type: 'text/plain', etag: JSON.stringify(v1.md5) });
    // As on S3, the failed PUT changed nothing: a write conditional on v1's ETag is taken.
    await store.putObject({ bucket: 'b', key: 'feed', content: Buffer.from('v3'), metadata: { 'content-type': 'text/plain', 'if-match': JSON.stringify(v1.md5) } });
    expect(await fromDisk(dir, 'feed')).toEqual({ body: 'v3', type: 'text/plain' });
    expect(await text(await store.getObject('b', 'feed'))).toBe('v3');
  });

  it('ends a failed write only once its every rename has settled: none lands after the next write', async () => {
    const { dir, put } = await plainStore();
    await put('v1', 'text/plain');
    faults.fail = '_object.md5';
    const held = holdRename('_metadata.json');
    let failedWriteEnded = false;
    const failed = put('v2', 'application/xml').finally(() => (failedWriteEnded = true));
    failed.catch(() => undefined);
    const next = put('v3', 'text/plain'); // queued behind v2's write, as every write of a key is
    await held.reached; // v2's MD5 rename has failed; its metadata rename is held
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(failedWriteEnded).toBe(false);
    held.release();
    await expect(failed).rejects.toThrow(/EIO/);
    await next;
    await put('v4', 'text/plain');
    expect(await fromDisk(dir, 'feed')).toEqual({ body: 'v4', type: 'text/plain' });
  });

  /** A server process started anew on `dir` (nothing cached), counting the reads it sends to the files. */
  function restarted(dir: string) {
    const store = new FilesystemStore(dir);
    const reads = { count: 0 };
    const fromFiles = store.getObject.bind(store);
    store.getObject = (bucket, key, options) => {
      reads.count++;
      return fromFiles(bucket, key, options);
    };
    const atomic = makeS3rverAtomic(store);
    return { store, reads, atomic };
  }

  const etagOf = (body: string) => JSON.stringify(createHash('md5').update(body).digest('hex'));

  it('serves a read that misses the cache while a write of its key is under way what that write stored, without reading its files', async () => {
    const { dir, put } = await plainStore();
    await put('v1', 'text/plain');
    const { store, reads } = restarted(dir);
    const held = holdRename('_object'); // v2's body, held after its MD5 and metadata files were renamed into place
    const writing = store.putObject({ bucket: 'b', key: 'feed', content: Buffer.from('v2'), metadata: { 'content-type': 'text/plain' } });
    await held.reached;
    const reading = store.getObject('b', 'feed');
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(reads.count).toBe(0); // it waits for the write rather than reading the files of two writes
    held.release();
    await writing;
    const object = await reading;
    const body = await text(object);
    expect({ body, etag: object!.metadata.etag }).toEqual({ body: 'v2', etag: etagOf('v2') });
  });

  it('serves a read that misses the cache while a write of its key is still receiving its body from the files, without waiting for the upload', async () => {
    const { dir, put } = await plainStore();
    await put('v1', 'text/plain');
    const { store, reads } = restarted(dir);
    const upload = new PassThrough();
    upload.write('v2, first half ');
    const writing = store.putObject({ bucket: 'b', key: 'feed', content: upload, metadata: { 'content-type': 'text/plain' } });
    // The upload is not finished (its end is never sent before the read is answered): the read is served at once.
    const object = await store.getObject('b', 'feed');
    expect({ body: await text(object), etag: object!.metadata.etag, reads: reads.count }).toEqual({ body: 'v1', etag: etagOf('v1'), reads: 1 });
    upload.end('and the rest');
    await writing;
    expect(await text(await store.getObject('b', 'feed'))).toBe('v2, first half and the rest');
  });

  it('serves files that never agree with their bytes\' own ETag, and keeps them until the key is written again', async () => {
    const { dir, put } = await plainStore();
    await put('v1', 'text/plain');
    const { store, reads } = restarted(dir);
    writeFileSync(store.getResourcePath('b', 'feed', 'object.md5'), createHash('md5').update('other').digest('hex'));
    const object = await store.getObject('b', 'feed');
    expect({ body: await text(object), etag: object!.metadata.etag }).toEqual({ body: 'v1', etag: etagOf('v1') });
    const attempts = reads.count;
    expect(attempts).toBeGreaterThan(100); // it waited for them to agree
    // The next read does not wait again: no file read at all.
    expect(await text(await store.getObject('b', 'feed'))).toBe('v1');
    expect(reads.count).toBe(attempts);
    // A write replaces them, files and all.
    await store.putObject({ bucket: 'b', key: 'feed', content: Buffer.from('v2'), metadata: { 'content-type': 'text/plain' } });
    expect(await fromDisk(dir, 'feed')).toEqual({ body: 'v2', type: 'text/plain' });
  });

  it('records where each request\'s time went, for the log of slow requests', async () => {
    const { dir, put } = await plainStore();
    await put('v1', 'text/plain');
    const { atomic } = restarted(dir);
    const [writePhases, readPhases, missPhases] = [{}, {}, {}] as Record<string, number>[];
    const held = holdRename('_object');
    const writing = atomic.forRequest(writePhases!).putObject({ bucket: 'b', key: 'feed', content: Buffer.from('v2'), metadata: { 'content-type': 'text/plain' } });
    await held.reached;
    const heldFrom = performance.now();
    const reading = atomic.forRequest(readPhases!).getObject('b', 'feed');
    for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
    const heldFor = performance.now() - heldFrom;
    held.release();
    await writing;
    expect(await text(await reading)).toBe('v2');
    // The write's renames include the time its body's rename was held; the read waited for the write, off the disk.
    expect(Object.keys(writePhases!).sort()).toEqual(['bodyMs', 'filesMs', 'mkdirMs', 'queuedMs', 'renamesMs', 'statMs']);
    expect(writePhases!.renamesMs).toBeGreaterThanOrEqual(heldFor);
    expect(readPhases!.waitedForWriteMs).toBeGreaterThanOrEqual(heldFor);
    expect(readPhases!.diskReads).toBeUndefined();
    // A read of another key that nothing cached goes to the files once.
    await put('other', 'text/plain', 'page');
    const { atomic: fresh } = restarted(dir);
    expect(await text(await fresh.forRequest(missPhases!).getObject('b', 'page'))).toBe('other');
    expect(missPhases!.diskReads).toBe(1);
  });
});
