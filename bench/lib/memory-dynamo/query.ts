import { Capacity, readUnits } from './capacity.js';
import type { Database } from './database.js';
import { validation } from './errors.js';
import { checkScope, evaluateCondition, resolvePath, type Scope } from './evaluate.js';
import { parseCondition, parseProjection, type Condition, type Operand, type Parsed } from './expressions.js';
import type { GlobalIndex, IndexEntry } from './global-index.js';
import { bounds, keyCondition } from './key-condition.js';
import { projector, type Projector } from './projection.js';
import { partitionPoint } from './sorted.js';
import type { Entry, MemoryTable } from './table.js';
import { checkItem, keyString, type AttributeValue, type Item } from './values.js';

interface ReadManyInput {
  TableName?: string;
  IndexName?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
  ScanIndexForward?: boolean;
  Limit?: number;
  ExclusiveStartKey?: Item;
  ConsistentRead?: boolean;
  Select?: string;
  Segment?: number;
  TotalSegments?: number;
  ReturnConsumedCapacity?: string;
}

const MAX_PAGE_BYTES = 1024 * 1024;

/**
 * What one Query or Scan reads: at most Limit items, or 1 MB; the filter applies after (filtered items still
 * count as read), then the projection.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
 */
class Page {
  readonly items: Item[] = [];
  count = 0;
  scanned = 0;
  bytes = 0;
  /** The key of the last item read, when the page filled up: where the next page starts. */
  lastKey: Item | undefined;

  constructor(
    private readonly limit: number,
    private readonly filter: Condition | undefined,
    private readonly scope: Scope,
    private readonly project: Projector | undefined,
    private readonly countOnly: boolean,
    private readonly keyOf: (item: Item) => Item,
  ) {}

  /** Reads one item; false once the page is full. */
  read(item: Item, size: number): boolean {
    this.scanned++;
    this.bytes += size;
    if (!this.filter || evaluateCondition(this.filter, item, this.scope)) {
      this.count++;
      if (!this.countOnly) this.items.push(this.project ? this.project(item) : item);
    }
    if (this.scanned < this.limit && this.bytes < MAX_PAGE_BYTES) return true;
    this.lastKey = this.keyOf(item);
    return false;
  }

  answer(capacity: Capacity, mode: string | undefined) {
    const ConsumedCapacity = capacity.reportOne(mode);
    return {
      ...(this.countOnly ? {} : { Items: this.items }),
      Count: this.count,
      ScannedCount: this.scanned,
      ...(this.lastKey ? { LastEvaluatedKey: this.lastKey } : {}),
      ...(ConsumedCapacity ? { ConsumedCapacity } : {}),
    };
  }
}

function pathsIn(c: Condition | Operand): Operand[] {
  switch (c.kind) {
    case 'and':
    case 'or':
      return [...pathsIn(c.a), ...pathsIn(c.b)];
    case 'not':
      return pathsIn(c.a);
    case 'compare':
      return [c.a, c.b];
    case 'between':
      return [c.a, c.low, c.high];
    case 'in':
      return [c.a, ...c.list];
    case 'function':
      return c.args;
    default:
      return [c];
  }
}

/** What Query and Scan share: the table or index, the expressions, the page. */
function prepare(input: ReadManyInput, db: Database, key?: Parsed<Condition>) {
  const table = db.table(input.TableName);
  const index = input.IndexName === undefined ? undefined : table.indexes.find((i) => i.name === input.IndexName);
  if (input.IndexName !== undefined && !index) throw validation(`The table does not have the specified index: ${input.IndexName}`);
  if (index && input.ConsistentRead) throw validation('Consistent reads are not supported on global secondary indexes');
  if (input.Limit !== undefined && !(Number.isInteger(input.Limit) && input.Limit >= 1)) throw validation('Limit must be greater than or equal to 1');
  if (input.Select === 'SPECIFIC_ATTRIBUTES' && input.ProjectionExpression === undefined) throw validation('Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES');
  const filter = input.FilterExpression === undefined ? undefined : parseCondition(input.FilterExpression, 'FilterExpression');
  const projection = input.ProjectionExpression === undefined ? undefined : parseProjection(input.ProjectionExpression);
  const scope: Scope = { names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues };
  checkScope(scope, [key, filter, projection]);
  const schema = index?.schema ?? table.schema;
  const keyOf = (item: Item) => ({ ...table.keyAttributes(item), ...(index ? pick(item, [schema.hash.name, schema.range?.name]) : {}) });
  const page = new Page(input.Limit ?? Infinity, filter?.ast, scope, projector(projection, scope), input.Select === 'COUNT', keyOf);
  return { table, index, schema, scope, filter, page };
}

const pick = (item: Item, names: (string | undefined)[]) => Object.fromEntries(names.flatMap((n) => (n && item[n] ? [[n, item[n]]] : [])));

/** An ExclusiveStartKey: the table's key, and an index's key too when reading an index. */
function startKey(input: ReadManyInput, table: MemoryTable, index: GlobalIndex | undefined) {
  const start = checkItem(input.ExclusiveStartKey, 'ExclusiveStartKey');
  const { hash, range } = table.schema;
  const names = new Set([hash.name, range?.name, index?.schema.hash.name, index?.schema.range?.name].filter((n): n is string => n !== undefined));
  if (Object.keys(start).length !== names.size || [...names].some((n) => !start[n])) throw validation("Exclusive Start Key must have same size as table's key schema");
  const tableKey = table.keyOf(pick(start, [hash.name, range?.name]));
  if (!index) return { tableKey, hash: tableKey.hash, sort: tableKey.range };
  return { tableKey, hash: keyString(start[index.schema.hash.name]), sort: index.schema.range && keyString(start[index.schema.range.name]) };
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html */
export function query(input: ReadManyInput, db: Database) {
  if (input.KeyConditionExpression === undefined) throw validation('Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.');
  const parsedKey = parseCondition(input.KeyConditionExpression, 'KeyConditionExpression');
  const { table, index, schema, scope, filter, page } = prepare(input, db, parsedKey);
  const condition = keyCondition(parsedKey.ast, schema, scope);
  for (const o of filter ? pathsIn(filter.ast) : []) {
    const name = o.kind === 'path' ? resolvePath(o, scope)[0] : undefined;
    if (name === schema.hash.name || name === schema.range?.name) throw validation(`Filter Expression can only contain non-primary key attributes: Primary key attribute: ${name}`);
  }
  const entries: readonly (Entry | IndexEntry)[] = (index ? index.partitions : table.partitions).get(condition.hash) ?? [];
  let [lo, hi] = bounds(entries, condition.range, schema.range?.type ?? 'S');
  const forward = input.ScanIndexForward !== false;
  if (input.ExclusiveStartKey) {
    const start = startKey(input, table, index);
    if (start.hash !== condition.hash) throw validation('The provided starting key does not match the range key predicate');
    const compare = index ? index.compare : table.compareEntries;
    const probe = { sort: start.sort, tableKey: start.tableKey };
    if (forward) lo = Math.max(lo, partitionPoint(entries, (e) => compare(e as never, probe) <= 0));
    else hi = Math.min(hi, partitionPoint(entries, (e) => compare(e as never, probe) < 0));
  }
  for (let i = forward ? lo : hi - 1; forward ? i < hi : i >= lo; i += forward ? 1 : -1) {
    const e = entries[i]!;
    const [item, size] = 'stored' in e ? [e.stored.item, e.stored.size] : [e.item, e.size];
    if (!page.read(item, size)) break;
  }
  const capacity = new Capacity();
  capacity.add(table.name, readUnits(page.bytes, input.ConsistentRead), index?.name);
  return page.answer(capacity, input.ReturnConsumedCapacity);
}

/** A stable spread of partition keys over the segments of a parallel scan. */
function segmentOf(hash: string, segments: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < hash.length; i++) h = Math.imul(h ^ hash.charCodeAt(i), 0x01000193);
  return (h >>> 0) % segments;
}

/** Partitions in key order (DynamoDB's order follows hashes), each in sort key order. Tables only, not indexes. */
export function scan(input: ReadManyInput, db: Database) {
  if (input.IndexName !== undefined) throw validation('memory-dynamo does not scan indexes (feedpub never does)');
  const { table, page } = prepare(input, db);
  const hashes = table.hashes();
  let h = 0;
  let from = 0;
  if (input.ExclusiveStartKey) {
    const start = startKey(input, table, undefined);
    h = partitionPoint(hashes, (x) => table.compareHash(x, start.tableKey.hash) < 0);
    const partition = hashes[h] === start.tableKey.hash ? table.partitions.get(start.tableKey.hash)! : [];
    from = partitionPoint(partition, (e) => table.compareEntries(e, start) <= 0);
  }
  const segments = input.TotalSegments;
  scanning: for (; h < hashes.length; h++, from = 0) {
    if (segments && segmentOf(hashes[h]!, segments) !== input.Segment) continue;
    const partition = table.partitions.get(hashes[h]!)!;
    for (let i = from; i < partition.length; i++) {
      if (!page.read(partition[i]!.stored.item, partition[i]!.stored.size)) break scanning;
    }
  }
  const capacity = new Capacity();
  capacity.add(table.name, readUnits(page.bytes, input.ConsistentRead));
  return page.answer(capacity, input.ReturnConsumedCapacity);
}
