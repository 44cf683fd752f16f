import type { LocalFeedpubOptions } from '../../lib/local/local-feedpub.js';

type Clients = Parameters<NonNullable<LocalFeedpubOptions['wrapClients']>>[0];
type Stack = { middlewareStack: { add(mw: unknown, options: { step: string; name: string }): void } };
type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

const READS = new Set(['GetItemCommand', 'QueryCommand', 'ScanCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);

/**
 * What the local stack spends, measured on the real clients: DynamoDB capacity units as DynamoDB reports them
 * (ReturnConsumedCapacity=TOTAL on every call), S3 PUTs and bytes, renders per feed.
 */
export function meters() {
  const m = { rcu: 0, wcu: 0, puts: 0, bytes: 0, renders: new Map<string, number>(), lastWrite: 0, lastFeedWrite: 0 };
  const wrap = ({ doc, s3 }: Clients): Clients => {
    (doc as unknown as Stack).middlewareStack.add(
      (next: (a: unknown) => Promise<{ output: { ConsumedCapacity?: Capacity | Capacity[] } }>, context: { commandName?: string }) =>
        async (args: { input: Record<string, unknown> }) => {
          args.input.ReturnConsumedCapacity = 'TOTAL';
          const result = await next(args);
          const used = ([] as Capacity[]).concat(result.output.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
          if (READS.has(context.commandName ?? '')) m.rcu += used;
          else m.wcu += used;
          const key = args.input.Key as { PK?: string; SK?: string } | undefined;
          if (context.commandName === 'UpdateItemCommand' && key?.SK === 'RENDER' && String(args.input.UpdateExpression).includes('renderedRev')) {
            const id = String(key.PK).slice('FEED#'.length);
            m.renders.set(id, (m.renders.get(id) ?? 0) + 1);
          }
          return result;
        },
      { step: 'initialize', name: 'benchCapacity' },
    );
    (s3 as unknown as Stack).middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: { Body?: string; Key?: string } }) => {
        const result = await next(args);
        if (context.commandName === 'PutObjectCommand') {
          m.puts++;
          m.bytes += Buffer.byteLength(args.input.Body ?? '');
          m.lastWrite = performance.now();
          // A feed file (not a post page, not the directory): what readers subscribe to.
          if (/^feeds\/.*\/?(rss\.xml|atom\.xml|feed\.json)$/.test(args.input.Key ?? '')) m.lastFeedWrite = m.lastWrite;
        }
        return result;
      },
      { step: 'initialize', name: 'benchS3' },
    );
    return { doc, s3 };
  };
  const snapshot = () => ({ rcu: m.rcu, wcu: m.wcu, puts: m.puts, bytes: m.bytes, renders: new Map(m.renders) });
  return { wrap, snapshot, lastWrite: () => m.lastWrite, lastFeedWrite: () => m.lastFeedWrite };
}

export type Snapshot = ReturnType<ReturnType<typeof meters>['snapshot']>;

export function delta(after: Snapshot, before: Snapshot) {
  const renders = new Map<string, number>();
  for (const [k, v] of after.renders) if (v - (before.renders.get(k) ?? 0) > 0) renders.set(k, v - (before.renders.get(k) ?? 0));
  return { rcu: after.rcu - before.rcu, wcu: after.wcu - before.wcu, puts: after.puts - before.puts, bytes: after.bytes - before.bytes, renders };
}

/**
 * Waits until no S3 write happened for `quietMs`. With `after`, first waits (up to `firstWriteMs`) for a write
 * later than that instant: the renders an import's release starts come after the import returns.
 */
export async function quiet(m: ReturnType<typeof meters>, quietMs = 1000, after?: number, firstWriteMs = 15_000): Promise<number> {
  const start = performance.now();
  for (;;) {
    const now = performance.now();
    const waitingForFirst = after !== undefined && m.lastWrite() <= after && now - start < firstWriteMs;
    if (!waitingForFirst && now - Math.max(m.lastWrite(), start) >= quietMs) return m.lastWrite();
    await new Promise((r) => setTimeout(r, 50));
  }
}
