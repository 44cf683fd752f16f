import { createHash } from 'node:crypto';
import { Capacity } from './capacity.js';
import type { Database } from './database.js';
import { DynamoError, transactionCanceled, validation, type CancellationReason } from './errors.js';
import { checkItem } from './values.js';
import { planConditionCheck, planDelete, planPut, planUpdate, type KeyedInput, type PlannedWrite, type PutInput } from './writes.js';

interface TransactItem {
  Put?: PutInput;
  Update?: KeyedInput;
  Delete?: KeyedInput;
  ConditionCheck?: KeyedInput;
}
interface TransactWriteInput {
  TransactItems?: TransactItem[];
  ClientRequestToken?: string;
  ReturnConsumedCapacity?: string;
}

const ACTIONS = ['Put', 'Update', 'Delete', 'ConditionCheck'] as const;
const PLANS = { Put: planPut, Update: planUpdate, Delete: planDelete, ConditionCheck: planConditionCheck };
const TOKEN_MS = 10 * 60_000;
const MAX_BYTES = 4 * 1024 * 1024;

/** The one action of a TransactItem. */
function actionOf(t: TransactItem): (typeof ACTIONS)[number] {
  const actions = ACTIONS.filter((a) => t[a]);
  if (actions.length !== 1) throw validation('TransactItems can only contain one of Check, Put, Update or Delete');
  return actions[0]!;
}

/**
 * A repeated ClientRequestToken (an SDK retry of a transaction that did commit) answers success again without
 * writing again; the same token with another request is refused.
 */
function alreadyDone(db: Database, token: string | undefined, raw: string): object | undefined {
  if (!token) return undefined;
  const now = Date.now();
  for (const [t, seen] of db.transactions) {
    if (now - seen.at < TOKEN_MS) break;
    db.transactions.delete(t);
  }
  const seen = db.transactions.get(token);
  if (!seen) return undefined;
  if (seen.request !== createHash('sha1').update(raw).digest('base64')) {
    throw new DynamoError('IdempotentParameterMismatchException', 'Request parameters do not match the original request with the same client request token');
  }
  return seen.answer;
}

/**
 * All or nothing: every action is checked against the table as it is (no other request runs meanwhile), and
 * only when every condition holds are the writes committed, one after the other (so their stream records are
 * consecutive). A failed condition cancels the whole with one reason per action, in order. Writes count double;
 * a ConditionCheck counts nothing, as in DynamoDB Local.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 */
export function transactWriteItems(input: TransactWriteInput, db: Database, raw: string) {
  const items = input.TransactItems ?? [];
  if (items.length === 0 || items.length > 100) throw validation(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100, and greater than or equal to 1`);
  const done = alreadyDone(db, input.ClientRequestToken, raw);
  if (done) return done;
  const actions = items.map(actionOf);
  // The request as a whole first: one action per item.
  const targets = items.map((t, i) => {
    const request = t[actions[i]!]!;
    const table = db.table(request.TableName);
    const key = actions[i] === 'Put' ? table.itemKey(checkItem((request as PutInput).Item)) : table.keyOf(checkItem((request as KeyedInput).Key, 'Key'));
    return `${table.name}\u0000${key.hash}\u0000${key.range}`;
  });
  if (new Set(targets).size !== targets.length) throw validation('Transaction request cannot include multiple operations on one item');

  const plans: PlannedWrite[] = [];
  const reasons: CancellationReason[] = [];
  for (const [i, t] of items.entries()) {
    try {
      plans.push(PLANS[actions[i]!](db, t[actions[i]!]!));
      reasons.push({ Code: 'None' });
    } catch (error) {
      if (!(error instanceof DynamoError) || error.type !== 'ConditionalCheckFailedException') throw error;
      // DynamoDB Local ends the message with a period for condition checks only.
      const Message = `The conditional request failed${actions[i] === 'ConditionCheck' ? '.' : ''}`;
      reasons.push({ Code: 'ConditionalCheckFailed', Message, ...(error.extra.Item ? { Item: error.extra.Item as Record<string, unknown> } : {}) });
    }
  }
  if (plans.length < items.length) throw transactionCanceled(reasons);
  if (plans.reduce((n, p) => n + p.size, 0) > MAX_BYTES) throw validation('Transaction size has exceeded the maximum allowed size of 4 MB');

  const capacity = new Capacity();
  for (const [i, p] of plans.entries()) if (actions[i] !== 'ConditionCheck') p.table.commit(p.key, p.old, p.next, p.size, capacity, 2);
  const ConsumedCapacity = capacity.report(input.ReturnConsumedCapacity);
  const answer = ConsumedCapacity ? { ConsumedCapacity } : {};
  if (input.ClientRequestToken) db.transactions.set(input.ClientRequestToken, { request: createHash('sha1').update(raw).digest('base64'), at: Date.now(), answer });
  return answer;
}
