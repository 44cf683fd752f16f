import { validation } from './errors.js';
import type { Condition, Operand, Parsed, Path, Segment } from './expressions.js';
import { addNumbers } from './numbers.js';
import { checkValue, compareValues, typeOf, valuesEqual, type AttributeValue, type Item } from './values.js';

/** A request's ExpressionAttributeNames and ExpressionAttributeValues. */
export interface Scope {
  names?: Record<string, string>;
  values?: Record<string, AttributeValue>;
}

/**
 * DynamoDB refuses a #name or :value that no expression of the request uses, and one that is used but not given.
 * Values are checked (numbers made canonical) here, once per request.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html
 */
export function checkScope(scope: Scope, parsed: (Parsed<unknown> | undefined)[]): void {
  const names = new Set<string>();
  const values = new Set<string>();
  for (const p of parsed) {
    if (!p) continue;
    for (const n of p.names) {
      if (scope.names?.[n] === undefined) throw validation(`Invalid ${p.what}: An expression attribute name used in the document path is not defined; attribute name: ${n}`);
      names.add(n);
    }
    for (const v of p.values) {
      if (scope.values?.[v] === undefined) throw validation(`Invalid ${p.what}: An expression attribute value used in expression is not defined; attribute value: ${v}`);
      if (!values.has(v)) checkValue(scope.values[v]);
      values.add(v);
    }
  }
  for (const [given, used, kind] of [[scope.names, names, 'ExpressionAttributeNames'], [scope.values, values, 'ExpressionAttributeValues']] as const) {
    const unused = Object.keys(given ?? {}).filter((k) => !used.has(k));
    if (unused.length > 0) throw validation(`Value provided in ${kind} unused in expressions: keys: {${unused.join(', ')}}`);
  }
}

const TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'L', 'M', 'SS', 'NS', 'BS']);

/** Paths of one expression may not overlap (one inside another, or the same twice). */
export function checkOverlap(paths: Segment[][], what: string): void {
  const show = (path: Segment[]) => `[${path.join(', ')}]`;
  for (let i = 0; i < paths.length; i++) {
    for (let j = i + 1; j < paths.length; j++) {
      const [a, b] = [paths[i]!, paths[j]!];
      if (a.slice(0, b.length).every((s, k) => s === b[k]) || b.slice(0, a.length).every((s, k) => s === a[k])) {
        throw validation(`Invalid ${what}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${show(a)}, path two: ${show(b)}`);
      }
    }
  }
}

/** A path with its #names replaced by the attribute names they stand for. */
export function resolvePath(path: Path, scope: Scope): Segment[] {
  return path.segments.map((s) => (typeof s === 'string' && s.startsWith('#') ? scope.names![s]! : s));
}

export function getPath(item: Item | undefined, segments: Segment[]): AttributeValue | undefined {
  let value: AttributeValue | undefined = item && item[segments[0] as string];
  for (let i = 1; i < segments.length && value; i++) {
    const s = segments[i]!;
    value = typeof s === 'number' ? value.L?.[s] : value.M?.[s];
  }
  return value;
}

/** Characters of strings (UTF-16 units, as DynamoDB Local counts), bytes of binaries, members, elements. */
function sizeOf(v: AttributeValue): number | undefined {
  if (v.S !== undefined) return v.S.length;
  if (v.B !== undefined) return Buffer.byteLength(v.B, 'base64');
  const many = v.SS ?? v.NS ?? v.BS ?? v.L;
  if (many) return many.length;
  return v.M ? Object.keys(v.M).length : undefined;
}

const wrongType = (operator: string, v: AttributeValue) => validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: ${operator}, operand type: ${typeOf(v)}`);

/** An operand's value against an item; undefined when it refers to an attribute the item lacks. */
export function evaluateOperand(o: Operand, item: Item | undefined, scope: Scope): AttributeValue | undefined {
  switch (o.kind) {
    case 'path':
      return getPath(item, resolvePath(o, scope));
    case 'value':
      return scope.values![o.ref];
    case 'size': {
      const v = getPath(item, resolvePath(o.path, scope));
      const n = v && sizeOf(v);
      return n === undefined ? undefined : { N: String(n) };
    }
    case 'if_not_exists':
      return getPath(item, resolvePath(o.path, scope)) ?? evaluateOperand(o.fallback, item, scope);
    case 'list_append': {
      const [a, b] = operands(o.a, o.b, 'L', 'list_append', item, scope);
      return { L: [...a.L!, ...b.L!] };
    }
    case 'arithmetic': {
      const [a, b] = operands(o.a, o.b, 'N', o.op, item, scope);
      return { N: addNumbers(a.N!, b.N!, o.op === '-') };
    }
  }
}

/**
 * Both operands of a function or operator of an update, of the type it takes. A :value of the wrong type is a
 * fault of the expression, found before the item is read; an attribute of the wrong type, of the item.
 */
function operands(x: Operand, y: Operand, type: 'L' | 'N', operator: string, item: Item | undefined, scope: Scope): [AttributeValue, AttributeValue] {
  for (const o of [x, y]) {
    const v = o.kind === 'value' ? scope.values![o.ref]! : undefined;
    if (v && !(type in v)) throw wrongType(operator, v);
  }
  const [a, b] = [evaluateOperand(x, item, scope), evaluateOperand(y, item, scope)];
  if (!a || !b) throw missingAttribute();
  if (!(type in a) || !(type in b)) throw validation('An operand in the update expression has an incorrect data type');
  return [a, b];
}

const missingAttribute = () => validation('The provided expression refers to an attribute that does not exist in the item');

/** In an update, an operand must exist. */
export function required(o: Operand, item: Item | undefined, scope: Scope): AttributeValue {
  const v = evaluateOperand(o, item, scope);
  if (!v) throw missingAttribute();
  return v;
}

/**
 * A condition against an item (undefined: no such item). Comparisons with a missing attribute or across types
 * are false, except <>, which is true (as DynamoDB Local answers).
 */
export function evaluateCondition(c: Condition, item: Item | undefined, scope: Scope): boolean {
  switch (c.kind) {
    case 'and':
      return evaluateCondition(c.a, item, scope) && evaluateCondition(c.b, item, scope);
    case 'or':
      return evaluateCondition(c.a, item, scope) || evaluateCondition(c.b, item, scope);
    case 'not':
      return !evaluateCondition(c.a, item, scope);
    case 'compare': {
      const a = evaluateOperand(c.a, item, scope);
      const b = evaluateOperand(c.b, item, scope);
      if (c.op === '=') return valuesEqual(a, b) && a !== undefined;
      if (c.op === '<>') return !valuesEqual(a, b) || a === undefined;
      const order = a && b && compareValues(a, b);
      if (order === undefined) return false;
      return c.op === '<' ? order < 0 : c.op === '<=' ? order <= 0 : c.op === '>' ? order > 0 : order >= 0;
    }
    case 'between': {
      const [a, low, high] = [evaluateOperand(c.a, item, scope), evaluateOperand(c.low, item, scope), evaluateOperand(c.high, item, scope)];
      if (!a || !low || !high) return false;
      const above = compareValues(a, low);
      const below = compareValues(a, high);
      return above !== undefined && below !== undefined && above >= 0 && below <= 0;
    }
    case 'in': {
      const a = evaluateOperand(c.a, item, scope);
      return a !== undefined && c.list.some((o) => valuesEqual(a, evaluateOperand(o, item, scope)));
    }
    case 'function':
      return callFunction(c.name, c.args.map((o) => evaluateOperand(o, item, scope)));
  }
}

function callFunction(name: string, [a, b]: (AttributeValue | undefined)[]): boolean {
  switch (name) {
    case 'attribute_exists':
      return a !== undefined;
    case 'attribute_not_exists':
      return a === undefined;
    case 'attribute_type':
      if (!TYPES.has(b?.S ?? '')) throw validation(`Invalid ConditionExpression: Invalid attribute type name found; type: ${b?.S}, valid types: {${[...TYPES].join(',')}}`);
      return a !== undefined && b!.S! in a;
    case 'begins_with':
      if (b?.S === undefined && b?.B === undefined) throw validation(`Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: ${b ? typeOf(b) : 'missing'}`);
      if (a?.S !== undefined && b.S !== undefined) return a.S.startsWith(b.S);
      return a?.B !== undefined && b.B !== undefined && Buffer.from(a.B, 'base64').subarray(0, Buffer.byteLength(b.B, 'base64')).equals(Buffer.from(b.B, 'base64'));
    case 'contains':
      if (!a || !b) return false;
      if (a.S !== undefined) return b.S !== undefined && a.S.includes(b.S);
      if (a.L) return a.L.some((e) => valuesEqual(e, b));
      return (a.SS && b.S !== undefined && a.SS.includes(b.S)) || (a.NS && b.N !== undefined && a.NS.includes(b.N)) || (a.BS && b.B !== undefined && a.BS.includes(b.B)) || false;
    default:
      return false;
  }
}
