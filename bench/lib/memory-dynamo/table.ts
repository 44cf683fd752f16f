import { writeUnits, type Capacity } from './capacity.js';
import { invalidParameter, validation } from './errors.js';
import type { GlobalIndex } from './global-index.js';
import { partitionPoint, removeFrom, upsert } from './sorted.js';
import type { Stream } from './streams.js';
import { comparatorOf, itemsEqual, itemSize, keyString, typeOf, type Item, type ScalarType } from './values.js';

export interface KeyAttribute {
  name: string;
  type: ScalarType;
}
export interface KeySchema {
  hash: KeyAttribute;
  range?: KeyAttribute;
}
/** An item's key as key strings (see keyString): what partitions are found by and ordered by. */
export interface TableKey {
  hash: string;
  range: string | undefined;
}
export interface Stored {
  item: Item;
  size: number;
}
export interface Entry {
  sort: string | undefined;
  stored: Stored;
}

const MAX_ITEM_BYTES = 400 * 1024;

/**
 * A table: partitions by partition key, each an array ordered by sort key (so a Query is a binary search and a
 * slice), its global secondary indexes, and its stream. Items are never changed in place: a write stores a new
 * object, so answers and stream records can share them.
 */
export class MemoryTable {
  readonly partitions = new Map<string, Entry[]>();
  /** Partition keys in order, for Scan; rebuilt after partitions come or go. */
  private hashOrder: string[] | undefined;
  itemCount = 0;
  sizeBytes = 0;
  readonly compareHash;
  readonly compareRange;

  constructor(
    readonly name: string,
    readonly schema: KeySchema,
    readonly indexes: GlobalIndex[],
    readonly stream: Stream | undefined,
    /** What CreateTable was given, for DescribeTable. */
    readonly definition: Record<string, unknown>,
    readonly createdAt = Date.now() / 1000,
  ) {
    this.compareHash = comparatorOf(schema.hash.type);
    this.compareRange = schema.range ? comparatorOf(schema.range.type) : () => 0;
  }

  readonly compareEntries = (a: { sort: string | undefined }, b: { sort: string | undefined }) => this.compareRange(a.sort!, b.sort!);

  /** The key of a Key parameter: exactly the key attributes, each of its type. */
  keyOf(key: Item | undefined): TableKey {
    const names = Object.keys(key ?? {});
    const { hash, range } = this.schema;
    const fits = (a: KeyAttribute) => key![a.name] !== undefined && typeOf(key![a.name]!) === a.type;
    if (names.length !== (range ? 2 : 1)) throw validation('The number of conditions on the keys is invalid');
    if (!fits(hash) || (range && !fits(range))) throw validation('The provided key element does not match the schema');
    return this.itemKey(key!);
  }

  /** The key of an item to store, which must carry the key attributes, of their types, not empty. */
  itemKey(item: Item): TableKey {
    const key = (a: KeyAttribute | undefined) => {
      if (!a) return undefined;
      const value = item[a.name];
      if (!value) throw validation('One of the required keys was not given a value');
      const raw = keyString(value);
      if (raw === undefined || typeOf(value) !== a.type) throw invalidParameter('Type mismatch for key');
      if (raw === '') throw validation(`One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: ${a.name}`);
      return raw;
    };
    return { hash: key(this.schema.hash)!, range: key(this.schema.range) };
  }

  /** The key attributes of an item (stream records' Keys, pages' LastEvaluatedKey). */
  keyAttributes(item: Item): Item {
    const { hash, range } = this.schema;
    return range ? { [hash.name]: item[hash.name]!, [range.name]: item[range.name]! } : { [hash.name]: item[hash.name]! };
  }

  get(key: TableKey): Stored | undefined {
    const partition = this.partitions.get(key.hash);
    if (!partition) return undefined;
    if (!this.schema.range) return partition[0]?.stored;
    const at = partitionPoint(partition, (e) => this.compareRange(e.sort!, key.range!) < 0);
    const entry = partition[at];
    return entry && this.compareRange(entry.sort!, key.range!) === 0 ? entry.stored : undefined;
  }

  /**
   * Checks an item about to be stored (its size, its index keys) before anything is written, so that a
   * transaction fails whole; returns its size.
   */
  check(item: Item): number {
    const size = itemSize(item);
    if (size > MAX_ITEM_BYTES) throw validation('Item size has exceeded the maximum allowed size');
    for (const index of this.indexes) {
      for (const a of [index.schema.hash, index.schema.range]) {
        const value = a && item[a.name];
        if (!value) continue;
        if (typeOf(value) !== a.type) throw invalidParameter('Type mismatch for Index Key');
        if (keyString(value) === '') throw invalidParameter(`One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: ${index.name}, IndexKey: ${a.name}`);
      }
    }
    return size;
  }

  /**
   * Stores `next` (or deletes the item when undefined) in place of `old`, with its index entries and its stream
   * record; counts the write units (times `factor`: 2 in a transaction). A write that changes nothing writes no
   * record, as DynamoDB Local does and as DynamoDB documents.
   */
  commit(key: TableKey, old: Stored | undefined, next: Item | undefined, size: number, capacity: Capacity, factor = 1): void {
    capacity.add(this.name, writeUnits(Math.max(old?.size ?? 0, size)) * factor);
    if (old ? itemsEqual(old.item, next) : !next) return;
    let partition = this.partitions.get(key.hash);
    if (next) {
      if (!partition) {
        this.partitions.set(key.hash, (partition = []));
        this.hashOrder = undefined;
      }
      upsert(partition, { sort: key.range, stored: { item: next, size } }, this.compareEntries);
    } else {
      removeFrom(partition!, { sort: key.range }, this.compareEntries);
      if (partition!.length === 0) {
        this.partitions.delete(key.hash);
        this.hashOrder = undefined;
      }
    }
    this.itemCount += (next ? 1 : 0) - (old ? 1 : 0);
    this.sizeBytes += size - (old?.size ?? 0);
    for (const index of this.indexes) {
      const units = index.update(key, old?.item, next);
      if (units > 0) capacity.add(this.name, units * factor, index.name);
    }
    this.stream?.record(this.keyAttributes((next ?? old!.item)), old?.item, next);
  }

  /** Partition keys in key order (Scan's order here; DynamoDB's follows hashes of them). */
  hashes(): string[] {
    this.hashOrder ??= [...this.partitions.keys()].sort(this.compareHash);
    return this.hashOrder;
  }
}
