import { invalidParameter, validation } from './errors.js';
import { checkOverlap, required, resolvePath, type Scope } from './evaluate.js';
import type { Segment, UpdateAction } from './expressions.js';
import { addNumbers } from './numbers.js';
import { sortSet, typeOf, type AttributeValue, type Item } from './values.js';

/**
 * UpdateItem's expression applied to an item (or to a new one, made of the key): every operand is read from the
 * item as it was before the update, then SET, REMOVE, ADD and DELETE act on a copy. Stored items are never
 * changed in place.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 */
export function applyUpdate(actions: UpdateAction[], old: Item | undefined, key: Item, scope: Scope): { item: Item; updated: Set<string> } {
  const paths = actions.map((a) => resolvePath(a.path, scope));
  checkPaths(paths, key);
  const values = actions.map((a) => (a.value ? required(a.value, old, scope) : undefined));
  const item: Item = { ...(old ?? key) };
  // Several elements removed from one list: from the last, so that each index means what it did before.
  const order = actions.map((_, i) => i).sort((x, y) => {
    const [a, b] = [paths[x]!.at(-1), paths[y]!.at(-1)];
    return actions[x]!.section === 'REMOVE' && actions[y]!.section === 'REMOVE' && typeof a === 'number' && typeof b === 'number' ? b - a : 0;
  });
  for (const i of order) {
    const value = values[i];
    const section = actions[i]!.section;
    write(item, paths[i]!, (current) => (section === 'SET' ? value : section === 'REMOVE' ? undefined : section === 'ADD' ? add(current, value!) : remove(current, value!)));
  }
  return { item, updated: new Set(paths.map((p) => p[0] as string)) };
}

function checkPaths(paths: Segment[][], key: Item): void {
  for (const path of paths) {
    if (path[0] as string in key) throw invalidParameter(`Cannot update attribute ${path[0]}. This attribute is part of the key`);
  }
  checkOverlap(paths, 'UpdateExpression');
}

const invalidPath = () => validation('The document path provided in the update expression is invalid for update');
/** ADD or DELETE of a value whose type does not go with the attribute's. */
const mismatch = () => validation('An operand in the update expression has an incorrect data type');

type Change = (current: AttributeValue | undefined) => AttributeValue | undefined;

/** Replaces (or, for undefined, removes) the value at a path, copying the maps and lists on the way. */
function write(item: Item, path: Segment[], change: Change): void {
  const [first, ...rest] = path as [string, ...Segment[]];
  if (rest.length === 0) return assign(item, first, change(item[first]));
  const parent = item[first];
  if (!parent) throw invalidPath();
  item[first] = writeInside(parent, rest, change);
}

function assign(map: Item, name: string, value: AttributeValue | undefined): void {
  if (value === undefined) delete map[name];
  else map[name] = value;
}

function writeInside(parent: AttributeValue, [segment, ...rest]: Segment[], change: Change): AttributeValue {
  if (typeof segment === 'number') {
    if (!parent.L) throw invalidPath();
    const list = [...parent.L];
    if (rest.length > 0) {
      if (!list[segment]) throw invalidPath();
      list[segment] = writeInside(list[segment], rest, change);
    } else {
      const value = change(list[segment]);
      // Past the end, SET appends; REMOVE of a missing element does nothing.
      if (value === undefined) list.splice(segment, segment < list.length ? 1 : 0);
      else if (segment >= list.length) list.push(value);
      else list[segment] = value;
    }
    return { L: list };
  }
  if (!parent.M) throw invalidPath();
  const map = { ...parent.M };
  if (rest.length > 0) {
    if (!map[segment!]) throw invalidPath();
    map[segment!] = writeInside(map[segment!]!, rest, change);
  } else {
    assign(map, segment!, change(map[segment!]));
  }
  return { M: map };
}

const SETS = ['SS', 'NS', 'BS'] as const;

/** ADD: a number to a number, members to a set; an absent attribute starts from the value. */
function add(current: AttributeValue | undefined, value: AttributeValue): AttributeValue {
  const set = SETS.find((t) => value[t]);
  if (value.N === undefined && !set) throw validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${typeOf(value)}`);
  if (!current) return value;
  if (value.N !== undefined) {
    if (current.N === undefined) throw mismatch();
    return { N: addNumbers(current.N, value.N) };
  }
  if (!current[set!]) throw mismatch();
  const members = current[set!]!;
  return { [set!]: sortSet(set!, [...members, ...value[set!]!.filter((m) => !members.includes(m))]) };
}

/** DELETE: members out of a set; a set left empty is removed, as DynamoDB keeps no empty sets. */
function remove(current: AttributeValue | undefined, value: AttributeValue): AttributeValue | undefined {
  const set = SETS.find((t) => value[t]);
  if (!set) throw validation(`Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: ${typeOf(value)}`);
  if (!current) return undefined;
  if (!current[set]) throw mismatch();
  const left = current[set].filter((m) => !value[set]!.includes(m));
  return left.length > 0 ? { [set]: left } : undefined;
}
