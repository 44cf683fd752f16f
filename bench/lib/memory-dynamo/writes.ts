import type { Database } from './database.js';
import { conditionFailed } from './errors.js';
import { checkScope, evaluateCondition, type Scope } from './evaluate.js';
import { parseCondition, parseUpdate } from './expressions.js';
import type { MemoryTable, Stored, TableKey } from './table.js';
import { applyUpdate } from './update.js';
import { checkItem, type AttributeValue, type Item } from './values.js';

export interface ConditionalInput {
  TableName?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
  ReturnValuesOnConditionCheckFailure?: string;
}
export interface PutInput extends ConditionalInput {
  Item?: Item;
}
export interface KeyedInput extends ConditionalInput {
  Key?: Item;
  UpdateExpression?: string;
}

/** A write checked against the table as it is, ready to commit: no other request runs in between. */
export interface PlannedWrite {
  table: MemoryTable;
  key: TableKey;
  old: Stored | undefined;
  /** The item after the write; undefined for a delete (and for a condition check, which writes nothing). */
  next: Item | undefined;
  size: number;
  /** Top-level attributes an update named (UPDATED_OLD, UPDATED_NEW). */
  updated?: Set<string>;
}

const scopeOf = (input: ConditionalInput): Scope => ({ names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues });

/** Parses the request's expressions, checks its #names and :values, and evaluates its condition on the item. */
function checked(input: ConditionalInput, old: Stored | undefined, update?: string) {
  const condition = input.ConditionExpression === undefined ? undefined : parseCondition(input.ConditionExpression);
  const actions = update === undefined ? undefined : parseUpdate(update);
  const scope = scopeOf(input);
  checkScope(scope, [condition, actions]);
  if (condition && !evaluateCondition(condition.ast, old?.item, scope)) {
    throw conditionFailed(input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' ? old?.item : undefined);
  }
  return { actions: actions?.ast ?? [], scope };
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html */
export function planPut(db: Database, input: PutInput): PlannedWrite {
  const table = db.table(input.TableName);
  const item = checkItem(input.Item);
  const key = table.itemKey(item);
  const size = table.check(item);
  const old = table.get(key);
  checked(input, old);
  return { table, key, old, next: item, size };
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html */
export function planUpdate(db: Database, input: KeyedInput): PlannedWrite {
  const table = db.table(input.TableName);
  const keyItem = checkItem(input.Key, 'Key');
  const key = table.keyOf(keyItem);
  const old = table.get(key);
  const { actions, scope } = checked(input, old, input.UpdateExpression);
  const { item, updated } = applyUpdate(actions, old?.item, keyItem, scope);
  return { table, key, old, next: item, size: table.check(item), updated };
}

/** https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html */
export function planDelete(db: Database, input: KeyedInput): PlannedWrite {
  const table = db.table(input.TableName);
  const key = table.keyOf(checkItem(input.Key, 'Key'));
  const old = table.get(key);
  checked(input, old);
  return { table, key, old, next: undefined, size: 0 };
}

/** A transaction's ConditionCheck: a condition on an item, no write. */
export function planConditionCheck(db: Database, input: KeyedInput): PlannedWrite {
  const table = db.table(input.TableName);
  const key = table.keyOf(checkItem(input.Key, 'Key'));
  const old = table.get(key);
  checked(input, old);
  return { table, key, old, next: old?.item, size: old?.size ?? 0 };
}
