import { writeUnits } from './capacity.js';
import { partitionPoint, removeFrom, upsert } from './sorted.js';
import { comparatorOf, itemSize, itemsEqual, keyString, type Item } from './values.js';
import type { KeySchema, TableKey } from './table.js';

/** An item as a global secondary index holds it: its index key, its table key, its projected attributes. */
export interface IndexEntry {
  hash: string;
  sort: string | undefined;
  tableKey: TableKey;
  item: Item;
  size: number;
}

export type Projection = { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] };

/**
 * A global secondary index: sparse (only items that carry its key attributes are in it), ordered by its sort key
 * and then by the table's key (DynamoDB leaves the order of equal index keys open; a fixed one makes pages
 * resumable). Kept in step with every write, as DynamoDB Local does (DynamoDB itself updates it shortly after).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html
 */
export class GlobalIndex {
  readonly partitions = new Map<string, IndexEntry[]>();
  itemCount = 0;
  sizeBytes = 0;
  private readonly projected: Set<string> | undefined;
  readonly compareSort;

  constructor(
    readonly name: string,
    readonly schema: KeySchema,
    readonly projection: Projection,
    private readonly table: KeySchema,
  ) {
    const keys = [table.hash.name, table.range?.name, schema.hash.name, schema.range?.name].filter((n): n is string => n !== undefined);
    this.projected = projection.ProjectionType === 'ALL' ? undefined : new Set([...keys, ...(projection.ProjectionType === 'INCLUDE' ? (projection.NonKeyAttributes ?? []) : [])]);
    this.compareSort = schema.range ? comparatorOf(schema.range.type) : () => 0;
  }

  /** Index order: sort key, then the table's partition and sort keys. */
  readonly compare = (a: { sort: string | undefined; tableKey: TableKey }, b: { sort: string | undefined; tableKey: TableKey }): number => {
    const bySort = a.sort === undefined || b.sort === undefined ? 0 : this.compareSort(a.sort, b.sort);
    if (bySort !== 0) return bySort;
    const byHash = comparatorOf(this.table.hash.type)(a.tableKey.hash, b.tableKey.hash);
    if (byHash !== 0 || !this.table.range) return byHash;
    return comparatorOf(this.table.range.type)(a.tableKey.range!, b.tableKey.range!);
  };

  private entryOf(tableKey: TableKey, item: Item): IndexEntry | undefined {
    const hash = keyString(item[this.schema.hash.name]);
    const sort = this.schema.range ? keyString(item[this.schema.range.name]) : undefined;
    if (hash === undefined || (this.schema.range && sort === undefined)) return undefined;
    let projected = item;
    if (this.projected) {
      projected = {};
      for (const name of this.projected) if (item[name]) projected[name] = item[name];
    }
    return { hash, sort, tableKey, item: projected, size: itemSize(projected) };
  }

  /** Moves an item's entry as a write changes it; returns the write units that cost. */
  update(tableKey: TableKey, old: Item | undefined, next: Item | undefined): number {
    const before = old && this.entryOf(tableKey, old);
    const after = next && this.entryOf(tableKey, next);
    if (before) {
      const partition = this.partitions.get(before.hash)!;
      removeFrom(partition, before, this.compare);
      if (partition.length === 0) this.partitions.delete(before.hash);
      this.itemCount--;
      this.sizeBytes -= before.size;
    }
    if (after) {
      let partition = this.partitions.get(after.hash);
      if (!partition) this.partitions.set(after.hash, (partition = []));
      upsert(partition, after, this.compare);
      this.itemCount++;
      this.sizeBytes += after.size;
    }
    if (before && after) {
      if (before.hash !== after.hash || before.sort !== after.sort) return writeUnits(before.size) + writeUnits(after.size);
      return itemsEqual(before.item, after.item) ? 0 : writeUnits(after.size);
    }
    return before || after ? writeUnits((before ?? after)!.size) : 0;
  }

  /** Where a page that ended at `start` resumes, going forward. */
  after(partition: IndexEntry[], start: { sort: string | undefined; tableKey: TableKey }): number {
    return partitionPoint(partition, (e) => this.compare(e, start) <= 0);
  }
}
