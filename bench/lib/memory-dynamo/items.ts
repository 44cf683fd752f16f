import { Capacity, readUnits } from './capacity.js';
import type { Database } from './database.js';
import { validation } from './errors.js';
import { checkScope } from './evaluate.js';
import { parseProjection } from './expressions.js';
import { projector } from './projection.js';
import { checkItem, type Item } from './values.js';
import { planDelete, planPut, planUpdate, type KeyedInput, type PlannedWrite, type PutInput } from './writes.js';

interface ReadInput {
  TableName?: string;
  Key?: Item;
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ReturnConsumedCapacity?: string;
}
type WithReturns = { ReturnValues?: string; ReturnConsumedCapacity?: string };
type BatchRead = Omit<ReadInput, 'TableName' | 'Key' | 'ReturnConsumedCapacity'> & { Keys?: Item[] };
type BatchWrite = { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } };

/** A reader of a table's items with a request's projection (ProjectionExpression with its #names). */
function reader(input: Omit<ReadInput, 'TableName'>) {
  const parsed = input.ProjectionExpression === undefined ? undefined : parseProjection(input.ProjectionExpression);
  const scope = { names: input.ExpressionAttributeNames };
  checkScope(scope, [parsed]);
  return projector(parsed, scope) ?? ((item: Item) => item);
}

/** Plans a single write (once ReturnValues is known to be one it allows), commits it, answers what it asks. */
function answer(input: WithReturns, allowed: string[], plan: () => PlannedWrite) {
  const returns = input.ReturnValues ?? 'NONE';
  if (!allowed.includes(returns)) throw validation('Return values set to invalid value');
  const write = plan();
  const capacity = new Capacity();
  write.table.commit(write.key, write.old, write.next, write.size, capacity);
  const pick = (item: Item | undefined) => item && Object.fromEntries(Object.entries(item).filter(([name]) => write.updated!.has(name)));
  const attributes =
    returns === 'ALL_OLD' ? write.old?.item : returns === 'ALL_NEW' ? write.next : returns === 'UPDATED_OLD' ? pick(write.old?.item) : returns === 'UPDATED_NEW' ? pick(write.next) : undefined;
  const ConsumedCapacity = capacity.reportOne(input.ReturnConsumedCapacity);
  return { ...(attributes && Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}), ...(ConsumedCapacity ? { ConsumedCapacity } : {}) };
}

function keysOnce(keys: string[]): void {
  if (new Set(keys).size !== keys.length) throw validation('Provided list of item keys contains duplicates');
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB.html */
export const itemOperations = {
  GetItem: (input: ReadInput, db: Database) => {
    const table = db.table(input.TableName);
    const key = table.keyOf(checkItem(input.Key, 'Key'));
    const project = reader(input);
    const stored = table.get(key);
    const capacity = new Capacity();
    // A read of nothing still costs the smallest read.
    capacity.add(table.name, readUnits(Math.max(1, stored?.size ?? 0), input.ConsistentRead));
    const ConsumedCapacity = capacity.reportOne(input.ReturnConsumedCapacity);
    return { ...(stored ? { Item: project(stored.item) } : {}), ...(ConsumedCapacity ? { ConsumedCapacity } : {}) };
  },

  PutItem: (input: PutInput & WithReturns, db: Database) => answer(input, ['NONE', 'ALL_OLD'], () => planPut(db, input)),

  UpdateItem: (input: KeyedInput & WithReturns, db: Database) => answer(input, ['NONE', 'ALL_OLD', 'UPDATED_OLD', 'ALL_NEW', 'UPDATED_NEW'], () => planUpdate(db, input)),

  DeleteItem: (input: KeyedInput & WithReturns, db: Database) => answer(input, ['NONE', 'ALL_OLD'], () => planDelete(db, input)),

  /** Every key is read: nothing is left unprocessed. Items not found cost nothing (as in DynamoDB Local). */
  BatchGetItem: (input: { RequestItems?: Record<string, BatchRead>; ReturnConsumedCapacity?: string }, db: Database) => {
    const requests = Object.entries(input.RequestItems ?? {});
    const count = requests.reduce((n, [, r]) => n + (r.Keys?.length ?? 0), 0);
    if (count === 0) throw validation('The requestItems parameter must not be empty');
    if (count > 100) throw validation('Too many items requested for the BatchGetItem call');
    const capacity = new Capacity();
    const Responses: Record<string, Item[]> = {};
    for (const [name, request] of requests) {
      const table = db.table(name);
      const project = reader(request);
      const keys = (request.Keys ?? []).map((k) => table.keyOf(checkItem(k, 'Key')));
      keysOnce(keys.map((k) => `${k.hash}\u0000${k.range}`));
      const found = keys.flatMap((k) => table.get(k) ?? []);
      capacity.add(name, found.reduce((units, s) => units + readUnits(s.size, request.ConsistentRead), 0));
      Responses[name] = found.map((s) => project(s.item));
    }
    const ConsumedCapacity = capacity.report(input.ReturnConsumedCapacity);
    return { Responses, UnprocessedKeys: {}, ...(ConsumedCapacity ? { ConsumedCapacity } : {}) };
  },

  /** All checked first, then all written: a bad request writes nothing; nothing is ever left unprocessed. */
  BatchWriteItem: (input: { RequestItems?: Record<string, BatchWrite[]>; ReturnConsumedCapacity?: string }, db: Database) => {
    const requests = Object.entries(input.RequestItems ?? {});
    const count = requests.reduce((n, [, r]) => n + r.length, 0);
    if (count === 0) throw validation('The requestItems parameter must not be empty');
    if (count > 25) throw validation('Too many items requested for the BatchWriteItem call');
    const writes = requests.flatMap(([TableName, list]) => {
      const planned = list.map((r) => (r.PutRequest ? planPut(db, { TableName, Item: r.PutRequest.Item }) : planDelete(db, { TableName, Key: r.DeleteRequest?.Key })));
      keysOnce(planned.map((w) => `${w.key.hash}\u0000${w.key.range}`));
      return planned;
    });
    const capacity = new Capacity();
    for (const w of writes) w.table.commit(w.key, w.table.get(w.key), w.next, w.size, capacity);
    const ConsumedCapacity = capacity.report(input.ReturnConsumedCapacity);
    return { UnprocessedItems: {}, ...(ConsumedCapacity ? { ConsumedCapacity } : {}) };
  },
};
