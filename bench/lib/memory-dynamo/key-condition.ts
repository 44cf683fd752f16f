import { invalidParameter, validation } from './errors.js';
import { resolvePath, type Scope } from './evaluate.js';
import type { Comparator, Condition, Operand } from './expressions.js';
import { partitionPoint } from './sorted.js';
import type { KeySchema } from './table.js';
import { comparatorOf, keyString, typeOf, type AttributeValue } from './values.js';

/** A Query's key condition: the partition, and the stretch of sort keys (key strings) it reads. */
export interface KeyCondition {
  hash: string;
  range?: { op: Comparator | 'BETWEEN' | 'begins_with'; values: string[] };
}

const FLIPPED: Record<string, Comparator> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const missedKey = () => validation('Query condition missed key schema element');

/**
 * `hash = :v`, optionally AND one condition on the sort key (=, <, <=, >, >=, BETWEEN, begins_with), in either
 * order, a key on either side of a comparison.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.KeyConditionExpressions.html
 */
export function keyCondition(c: Condition, schema: KeySchema, scope: Scope): KeyCondition {
  const parts = c.kind === 'and' ? [c.a, c.b] : [c];
  if (parts.some((p) => p.kind === 'and')) throw validation('Conditions can be of length 1 or 2 only');
  let hash: string | undefined;
  let range: KeyCondition['range'];
  const nameOf = (o: Operand) => {
    const segments = o.kind === 'path' ? resolvePath(o, scope) : [];
    if (segments.length !== 1) throw validation('Invalid KeyConditionExpression: a key condition names one key attribute and compares it with values');
    return segments[0] as string;
  };
  const raw = (o: Operand, type: string) => {
    if (o.kind !== 'value') throw validation('Invalid KeyConditionExpression: a key condition compares a key attribute with values');
    const v: AttributeValue = scope.values![o.ref]!;
    if (typeOf(v) !== type) throw invalidParameter('Condition parameter type does not match schema type');
    return keyString(v)!;
  };
  for (const part of parts) {
    let name: string;
    let op: NonNullable<KeyCondition['range']>['op'];
    let operands: Operand[];
    if (part.kind === 'compare') {
      if (part.op === '<>') throw validation('Invalid operator used in KeyConditionExpression: <>');
      const flip = part.a.kind === 'value';
      [name, op, operands] = [nameOf(flip ? part.b : part.a), flip ? FLIPPED[part.op]! : part.op, [flip ? part.a : part.b]];
    } else if (part.kind === 'between') {
      [name, op, operands] = [nameOf(part.a), 'BETWEEN', [part.low, part.high]];
    } else if (part.kind === 'function' && part.name === 'begins_with') {
      [name, op, operands] = [nameOf(part.args[0]!), 'begins_with', [part.args[1]!]];
    } else {
      throw validation(`Invalid operator used in KeyConditionExpression: ${part.kind === 'function' ? part.name : part.kind.toUpperCase()}`);
    }
    if (name === schema.hash.name && op === '=' && hash === undefined) {
      hash = raw(operands[0]!, schema.hash.type);
    } else if (name === schema.range?.name && range === undefined) {
      const operandType = operands[0]!.kind === 'value' ? typeOf(scope.values![operands[0]!.ref]!) : undefined;
      if (op === 'begins_with' && (schema.range.type === 'N' || operandType === 'N')) {
        throw validation(`Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${operandType}`);
      }
      range = { op, values: operands.map((o) => raw(o, schema.range!.type)) };
      if (op === 'BETWEEN' && comparatorOf(schema.range.type)(range.values[0]!, range.values[1]!) > 0) {
        const [low, high] = operands.map((o) => `AttributeValue: {${schema.range!.type}:${String(Object.values(scope.values![(o as { ref: string }).ref]!)[0])}}`);
        throw validation(`Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: ${low}, upper bound operand: ${high}`);
      }
    } else {
      throw missedKey();
    }
  }
  if (hash === undefined) throw missedKey();
  return { hash, range };
}

const startsWith = (raw: string, prefix: string, type: string) =>
  type === 'B' ? Buffer.from(raw, 'base64').subarray(0, Buffer.byteLength(prefix, 'base64')).equals(Buffer.from(prefix, 'base64')) : raw.startsWith(prefix);

/** The indexes [lo, hi) of a sorted partition whose sort keys the condition admits. */
export function bounds(entries: readonly { sort: string | undefined }[], range: KeyCondition['range'], type: string): [number, number] {
  if (!range) return [0, entries.length];
  const compare = comparatorOf(type as 'S');
  const [a, b] = range.values as [string, string];
  const below = (v: string) => partitionPoint(entries, (e) => compare(e.sort!, v) < 0);
  const upTo = (v: string) => partitionPoint(entries, (e) => compare(e.sort!, v) <= 0);
  switch (range.op) {
    case '=':
      return [below(a), upTo(a)];
    case '<':
      return [0, below(a)];
    case '<=':
      return [0, upTo(a)];
    case '>':
      return [upTo(a), entries.length];
    case '>=':
      return [below(a), entries.length];
    case 'BETWEEN':
      return [below(a), upTo(b)];
    case 'begins_with':
      // Keys with the prefix follow the keys below it, and precede every other key above it.
      return [below(a), partitionPoint(entries, (e) => compare(e.sort!, a) < 0 || startsWith(e.sort!, a, type))];
    default:
      throw validation(`Invalid operator used in KeyConditionExpression: ${String(range.op)}`);
  }
}
