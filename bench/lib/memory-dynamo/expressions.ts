import { validation } from './errors.js';
import { Parser, tokenize } from './expression-parser.js';

/**
 * The expression languages of DynamoDB (conditions, filters, key conditions, updates, projections), parsed once
 * per distinct text and cached: names (#n) and values (:v) stay references, resolved per request.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html
 */
export type Segment = string | number;
export interface Path {
  kind: 'path';
  /** Attribute names (literal, or #references) and list indexes. */
  segments: Segment[];
}
export type Operand =
  | Path
  | { kind: 'value'; ref: string }
  | { kind: 'size'; path: Path }
  | { kind: 'if_not_exists'; path: Path; fallback: Operand }
  | { kind: 'list_append'; a: Operand; b: Operand }
  | { kind: 'arithmetic'; op: '+' | '-'; a: Operand; b: Operand };
export type Comparator = '=' | '<>' | '<' | '<=' | '>' | '>=';
export type Condition =
  | { kind: 'compare'; op: Comparator; a: Operand; b: Operand }
  | { kind: 'between'; a: Operand; low: Operand; high: Operand }
  | { kind: 'in'; a: Operand; list: Operand[] }
  | { kind: 'and' | 'or'; a: Condition; b: Condition }
  | { kind: 'not'; a: Condition }
  | { kind: 'function'; name: ConditionFunction; args: Operand[] };
export type ConditionFunction = 'attribute_exists' | 'attribute_not_exists' | 'attribute_type' | 'begins_with' | 'contains';
export type Section = 'SET' | 'REMOVE' | 'ADD' | 'DELETE';
export interface UpdateAction {
  section: Section;
  path: Path;
  value?: Operand;
}

export interface Parsed<T> {
  ast: T;
  /** Which expression of the request this is, as DynamoDB's messages name it. */
  what: string;
  /** The #names and :values the text refers to (DynamoDB refuses unused or undefined ones). */
  names: string[];
  values: string[];
}

const cache = new Map<string, Parsed<unknown>>();

function parse<T>(kind: string, text: string, what: string, rule: (p: Parser) => T): Parsed<T> {
  const key = `${kind}\u0000${text}`;
  const hit = cache.get(key);
  if (hit) return hit as Parsed<T>;
  if (text.trim() === '') throw validation(`Invalid ${what}: The expression can not be empty;`);
  const parser = new Parser(tokenize(text, what), what);
  const ast = rule(parser);
  parser.done();
  const parsed = { ast, what, names: [...parser.names], values: [...parser.values] };
  // Requests repeat a handful of texts; a bound keeps generated ones (with literal values) from piling up.
  if (cache.size > 10_000) cache.clear();
  cache.set(key, parsed);
  return parsed;
}

export const parseCondition = (text: string, what = 'ConditionExpression') => parse(`c:${what}`, text, what, (p) => p.condition());
export const parseUpdate = (text: string) => parse('u', text, 'UpdateExpression', (p) => p.updates());
export const parseProjection = (text: string) =>
  parse('p', text, 'ProjectionExpression', (p) => {
    const paths = [p.path()];
    while (p.accept(',')) paths.push(p.path());
    return paths;
  });
