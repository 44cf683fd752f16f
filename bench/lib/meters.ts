import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { feedDirectory, isFeed, parseFeedId } from '../../lib/feeds/feed-ref.js';
import type { LocalFeedpubOptions } from '../../lib/local/local-feedpub.js';
import { countItemWrites } from '../../test/support/item-writes.js';

export type Clients = Parameters<NonNullable<LocalFeedpubOptions['wrapClients']>>[0];
export type MiddlewareStack = { middlewareStack: { add(mw: unknown, options: { step: string; name: string }): void } };
type Capacity = { CapacityUnits?: number };
type Update = { Key?: { PK?: unknown; SK?: unknown }; UpdateExpression?: string };

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);

/** A render's record: the update of a document's RENDER item that sets what is in S3. */
function recordedDocument(command: string, input: Record<string, any>): string | undefined {
  const update: Update | undefined = command === 'UpdateItemCommand' ? input : command === 'TransactWriteItemsCommand' ? input.TransactItems?.[0]?.Update : undefined;
  if (update?.Key?.SK !== 'RENDER' || !String(update.UpdateExpression).includes('objects = :objects')) return undefined;
  return String(update.Key.PK).slice('FEED#'.length);
}

/** One attempt to take a feed's render lease (lib/store/dynamo-feed-state.ts), as the client saw it (epoch ms). */
export interface LeaseTry {
  /** A live render's, or a background turn's (a release of held writes). */
  kind: 'live' | 'background';
  sentAt: number;
  doneAt: number;
  taken: boolean;
  /** When not taken: the kind of the holder it found. */
  heldBy?: 'live' | 'background';
}

/** The feed directory (`feeds`, `feeds/tags/<segment>`) whose lease an update takes, if it is an acquisition. */
function leaseOf(command: string, input: Record<string, any>): string | undefined {
  if (command !== 'UpdateItemCommand' || input.Key?.SK !== 'RENDER' || !String(input.UpdateExpression).startsWith('SET leaseOwner = :owner, leaseUntil')) return undefined;
  const ref = parseFeedId(String(input.Key.PK).slice('FEED#'.length));
  return isFeed(ref) ? feedDirectory(ref) : undefined;
}

/**
 * What the local stack spends, measured on the real clients: DynamoDB capacity units as DynamoDB reports them
 * (ReturnConsumedCapacity=TOTAL on every call), item writes by key (hot items), S3 PUTs and bytes, renders per
 * document.
 */
export function meters() {
  const m = { rcu: 0, wcu: 0, puts: 0, bytes: 0, renders: new Map<string, number>(), lastWrite: 0 };
  // When each feed document's last PUTs were sent and answered (epoch ms, as the readers' clock): what a late
  // reader's document waited for, the render or the serving.
  const feedPuts = new Map<string, { sentAt: number; doneAt: number }[]>();
  // Each feed's lease acquisitions, by feed directory: whether a late document's render waited for the lease.
  const leaseTries = new Map<string, LeaseTry[]>();
  /** Sends a lease acquisition and keeps how it went: taken, or found held (and by what kind of holder). */
  const timedLease = async <T>(directory: string, input: Record<string, unknown>, send: () => Promise<T>): Promise<T> => {
    const kind = String(input.UpdateExpression).includes('leaseKind = :kind') ? 'background' : 'live';
    const sentAt = performance.timeOrigin + performance.now();
    const keep = (entry: Omit<LeaseTry, 'kind' | 'sentAt' | 'doneAt'>) => {
      const tries = leaseTries.get(directory) ?? [];
      tries.push({ kind, sentAt, doneAt: performance.timeOrigin + performance.now(), ...entry });
      if (tries.length > 2000) tries.splice(0, tries.length - 2000);
      leaseTries.set(directory, tries);
    };
    try {
      const result = await send();
      keep({ taken: true });
      return result;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) keep({ taken: false, heldBy: error.Item?.leaseKind?.S === 'background' ? 'background' : 'live' });
      throw error;
    }
  };
  let items: ReturnType<typeof countItemWrites> | undefined;
  const wrap = ({ doc, s3 }: Clients): Clients => {
    items = countItemWrites(doc);
    (doc as unknown as MiddlewareStack).middlewareStack.add(
      (next: (a: unknown) => Promise<{ output: { ConsumedCapacity?: Capacity | Capacity[] } }>, context: { commandName?: string }) =>
        async (args: { input: Record<string, unknown> }) => {
          args.input.ReturnConsumedCapacity = 'TOTAL';
          const lease = leaseOf(context.commandName ?? '', args.input);
          const result = lease ? await timedLease(lease, args.input, () => next(args)) : await next(args);
          const used = ([] as Capacity[]).concat(result.output.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
          if (READS.has(context.commandName ?? '')) m.rcu += used;
          else m.wcu += used;
          const rendered = recordedDocument(context.commandName ?? '', args.input);
          if (rendered) m.renders.set(rendered, (m.renders.get(rendered) ?? 0) + 1);
          return result;
        },
      { step: 'initialize', name: 'benchCapacity' },
    );
    (s3 as unknown as MiddlewareStack).middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: { Body?: string; Key?: string } }) => {
        const sentAt = performance.timeOrigin + performance.now();
        const result = await next(args);
        if (context.commandName === 'PutObjectCommand') {
          const key = args.input.Key ?? '';
          if (key.startsWith('feeds/')) feedPuts.set(key, [...(feedPuts.get(key) ?? []), { sentAt, doneAt: performance.timeOrigin + performance.now() }].slice(-20));
          m.puts++;
          m.bytes += Buffer.byteLength(args.input.Body ?? '');
          m.lastWrite = performance.now();
        }
        return result;
      },
      { step: 'initialize', name: 'benchS3' },
    );
    return { doc, s3 };
  };
  const snapshot = () => ({ rcu: m.rcu, wcu: m.wcu, puts: m.puts, bytes: m.bytes, renders: new Map(m.renders), writes: new Map(items?.writes ?? []) });
  /** The last PUTs of a feed document answered before `at` (at most 20 kept per document). */
  const putsBefore = (key: string, at: number) => (feedPuts.get(key) ?? []).filter((p) => p.doneAt <= at);
  /** A feed directory's lease acquisitions sent in [from, to] (at most 2,000 kept per feed). */
  const leaseTriesBetween = (directory: string, from: number, to: number) => (leaseTries.get(directory) ?? []).filter((t) => t.sentAt >= from && t.sentAt <= to);
  return { wrap, snapshot, lastWrite: () => m.lastWrite, putsBefore, leaseTriesBetween };
}

export type Meters = ReturnType<typeof meters>;
export type Snapshot = ReturnType<Meters['snapshot']>;

const diff = (after: Map<string, number>, before: Map<string, number>) => {
  const out = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
};

export function delta(after: Snapshot, before: Snapshot) {
  const writes = diff(after.writes, before.writes);
  const total = [...writes.values()].reduce((a, b) => a + b, 0);
  const [hotKey, hotWrites] = [...writes].reduce((max, e) => (e[1] > max[1] ? e : max), ['', 0]);
  return {
    rcu: after.rcu - before.rcu,
    wcu: after.wcu - before.wcu,
    puts: after.puts - before.puts,
    bytes: after.bytes - before.bytes,
    renders: diff(after.renders, before.renders),
    itemWrites: total,
    hottest: { key: hotKey, writes: hotWrites, share: total === 0 ? 0 : hotWrites / total },
  };
}

/** Waits until no S3 write happened for `quietMs`: the lanes have caught up. */
export async function quiet(m: Meters, quietMs = 1000): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (performance.now() - Math.max(m.lastWrite(), start) >= quietMs) return m.lastWrite();
    await new Promise((r) => setTimeout(r, 50));
  }
}
