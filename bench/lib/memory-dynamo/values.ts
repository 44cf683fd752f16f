import { invalidParameter, validation } from './errors.js';
import { canonicalNumber, compareNumbers, numberSize } from './numbers.js';

/**
 * An attribute value as the JSON protocol carries it: exactly one of these keys.
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
 */
export interface AttributeValue {
  S?: string;
  N?: string;
  B?: string;
  BOOL?: boolean;
  NULL?: boolean;
  L?: AttributeValue[];
  M?: Item;
  SS?: string[];
  NS?: string[];
  BS?: string[];
}
export type Item = Record<string, AttributeValue>;
export type TypeName = keyof AttributeValue;
export type ScalarType = 'S' | 'N' | 'B';

const TYPES = new Set<string>(['S', 'N', 'B', 'BOOL', 'NULL', 'L', 'M', 'SS', 'NS', 'BS']);

export function typeOf(value: AttributeValue): TypeName {
  for (const key in value) return key as TypeName;
  throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
}

/**
 * Checks a value from a request and puts its numbers in canonical form, in place (the request is ours to keep).
 * Stored items are never changed afterwards: updates copy, so stream records and answers can share them.
 */
export function checkValue(value: AttributeValue): void {
  if (typeof value !== 'object' || value === null) throw validation('Supplied AttributeValue is empty, must contain exactly one of the supported datatypes');
  const keys = Object.keys(value);
  if (keys.length !== 1 || !TYPES.has(keys[0]!)) throw validation('Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes');
  if (value.N !== undefined) value.N = canonicalNumber(value.N);
  else if (value.L) for (const v of value.L) checkValue(v);
  else if (value.M) for (const k in value.M) checkValue(value.M[k]!);
  else if (value.NS) value.NS = checkSet('number', value.NS.map(canonicalNumber)).sort(compareNumbers);
  else if (value.SS) value.SS = checkSet('string', value.SS).sort(compareStrings);
  else if (value.BS) value.BS = checkSet('binary', value.BS).sort(compareBinary);
  else if (value.NULL !== undefined && value.NULL !== true) throw validation('One or more parameter values were invalid: Null attribute value types must have the value of true');
}

function checkSet(kind: string, members: string[]): string[] {
  if (members.length === 0) throw invalidParameter(`An ${kind} set  may not be empty`);
  if (new Set(members).size !== members.length) throw invalidParameter(`Input collection [${members.join(', ')}] contains duplicates`);
  return members;
}

export function checkItem(item: Item | undefined, what = 'Item'): Item {
  if (!item || typeof item !== 'object') throw validation(`1 validation error detected: Value null at '${what.toLowerCase()}' failed to satisfy constraint: Member must not be null`);
  for (const name in item) checkValue(item[name]!);
  return item;
}

/**
 * Strings order by their UTF-8 bytes, which is code point order. JavaScript compares UTF-16 units, which puts
 * characters past U+FFFF (surrogate pairs) before U+E000..U+FFFF: those units are moved back into place here.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * A key string that JavaScript's own comparison orders by code point: the UTF-16 units of characters past U+FFFF
 * and of U+E000..U+FFFF moved as compareStrings moves them. Done once per key, so that the binary searches of a
 * partition compare natively.
 */
export function sortable(s: string): string {
  if (!/[\ud800-\uffff]/.test(s)) return s;
  return s.replace(/[\ud800-\uffff]/g, (c) => String.fromCharCode(c.charCodeAt(0) < 0xe000 ? c.charCodeAt(0) + 0x2000 : c.charCodeAt(0) - 0x800));
}

const compareNative = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The key string of a key attribute's value: sortable S, canonical N, base64 B. */
export const keyString = (v: AttributeValue | undefined) => (v?.S !== undefined ? sortable(v.S) : (v?.N ?? v?.B));

export function compareBinary(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'base64'), Buffer.from(b, 'base64'));
}

/** Sets come back with their members in order, as DynamoDB Local keeps them. */
export const sortSet = (type: 'SS' | 'NS' | 'BS', members: string[]) => members.sort(type === 'SS' ? compareStrings : type === 'NS' ? compareNumbers : compareBinary);

/** How key strings of a type order. */
export const comparatorOf = (type: ScalarType) => (type === 'S' ? compareNative : type === 'N' ? compareNumbers : compareBinary);

/** Orders two scalars of one type (S, N or B); undefined when they cannot be ordered. */
export function compareValues(a: AttributeValue, b: AttributeValue): number | undefined {
  if (a.S !== undefined) return b.S !== undefined ? compareStrings(a.S, b.S) : undefined;
  if (a.N !== undefined) return b.N !== undefined ? compareNumbers(a.N, b.N) : undefined;
  if (a.B !== undefined) return b.B !== undefined ? compareBinary(a.B, b.B) : undefined;
  return undefined;
}

const sameMembers = (a: string[], b: string[]) => a.length === b.length && a.every((m) => b.includes(m));

export function valuesEqual(a: AttributeValue | undefined, b: AttributeValue | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const type = typeOf(a);
  if (!(type in b)) return false;
  switch (type) {
    case 'L':
      return a.L!.length === b.L!.length && a.L!.every((v, i) => valuesEqual(v, b.L![i]));
    case 'M':
      return itemsEqual(a.M!, b.M!);
    case 'SS':
    case 'NS':
    case 'BS':
      return sameMembers(a[type]!, b[type]!);
    default:
      return a[type] === b[type];
  }
}

export function itemsEqual(a: Item | undefined, b: Item | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => valuesEqual(a[k], b[k]));
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
const binary = (b64: string) => Buffer.byteLength(b64, 'base64');

/**
 * Bytes a value takes, by DynamoDB's rules: strings and binaries their length, numbers about a byte per two
 * digits, lists and maps 3 bytes plus 1 per element, booleans and nulls 1 byte.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return utf8(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return binary(v.B);
  if (v.L) return v.L.reduce((n, e) => n + valueSize(e) + 1, 3);
  if (v.M) return Object.keys(v.M).reduce((n, k) => n + utf8(k) + valueSize(v.M![k]!) + 1, 3);
  if (v.SS) return v.SS.reduce((n, s) => n + utf8(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, s) => n + binary(s), 0);
  return 1;
}

export function itemSize(item: Item): number {
  let size = 0;
  for (const name in item) size += utf8(name) + valueSize(item[name]!);
  return size;
}
