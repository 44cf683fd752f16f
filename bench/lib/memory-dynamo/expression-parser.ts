import { validation } from './errors.js';
import type { Comparator, Condition, ConditionFunction, Operand, Path, Section, Segment, UpdateAction } from './expressions.js';

/**
 * A recursive-descent parser of DynamoDB's expression grammars: OR binds looser than AND, AND than NOT, and
 * comparisons, BETWEEN, IN and functions bind tightest. Keywords are case-insensitive, function names are not.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html#Expressions.OperatorsAndFunctions.Syntax
 */
type Token = { type: 'name' | 'value' | 'word' | 'number' | 'punct'; text: string };
const TOKEN = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(\d+)|(<>|<=|>=|[=<>(),.[\]+-]))/y;
const COMPARATORS = new Set(['=', '<>', '<', '<=', '>', '>=']);
const CONDITION_FUNCTIONS = new Set(['attribute_exists', 'attribute_not_exists', 'attribute_type', 'begins_with', 'contains']);
const SECTIONS = new Set(['SET', 'REMOVE', 'ADD', 'DELETE']);

export function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) {
      if (text.slice(at).trim() === '') break;
      throw validation(`Invalid ${what}: Syntax error; token: "${text.slice(at).trim()[0]}", near: "${text.slice(at, at + 10).trim()}"`);
    }
    const type = m[1] ? 'name' : m[2] ? 'value' : m[3] ? 'word' : m[4] ? 'number' : 'punct';
    tokens.push({ type, text: m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5]! });
  }
  return tokens;
}

export class Parser {
  private pos = 0;
  readonly names = new Set<string>();
  readonly values = new Set<string>();

  constructor(
    private readonly tokens: Token[],
    private readonly what: string,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private fail(): never {
    const token = this.peek();
    throw validation(`Invalid ${this.what}: Syntax error; token: ${token ? `"${token.text}"` : '<EOF>'}`);
  }

  /** Consumes the punctuation or (case-insensitive) keyword if it comes next. */
  accept(text: string): boolean {
    const t = this.peek();
    if (!t || (t.type === 'punct' ? t.text !== text : t.type !== 'word' || t.text.toUpperCase() !== text)) return false;
    this.pos++;
    return true;
  }

  expect(text: string): void {
    if (!this.accept(text)) this.fail();
  }

  done(): void {
    if (this.pos < this.tokens.length) this.fail();
  }

  path(): Path {
    const segments: Segment[] = [this.pathName()];
    for (;;) {
      if (this.accept('.')) segments.push(this.pathName());
      else if (this.accept('[')) {
        const t = this.peek();
        if (t?.type !== 'number') this.fail();
        this.pos++;
        segments.push(Number(t.text));
        this.expect(']');
      } else return { kind: 'path', segments };
    }
  }

  private pathName(): string {
    const t = this.peek();
    if (t?.type === 'name') this.names.add(t.text);
    else if (t?.type !== 'word') this.fail();
    this.pos++;
    return t.text;
  }

  private isCall(name?: string): boolean {
    const t = this.peek();
    return t?.type === 'word' && (name === undefined || t.text === name) && this.peek(1)?.text === '(';
  }

  /** An operand of a condition: a path, a :value, or size(path). */
  operand(): Operand {
    const t = this.peek();
    if (t?.type === 'value') {
      this.pos++;
      this.values.add(t.text);
      return { kind: 'value', ref: t.text };
    }
    if (this.isCall('size')) {
      this.pos += 2;
      const path = this.path();
      this.expect(')');
      return { kind: 'size', path };
    }
    return this.path();
  }

  condition(): Condition {
    let c = this.conjunction();
    while (this.accept('OR')) c = { kind: 'or', a: c, b: this.conjunction() };
    return c;
  }

  private conjunction(): Condition {
    let c = this.negation();
    while (this.accept('AND')) c = { kind: 'and', a: c, b: this.negation() };
    return c;
  }

  private negation(): Condition {
    return this.accept('NOT') ? { kind: 'not', a: this.negation() } : this.primary();
  }

  private primary(): Condition {
    if (this.accept('(')) {
      const c = this.condition();
      this.expect(')');
      return c;
    }
    const t = this.peek();
    if (t && this.isCall() && CONDITION_FUNCTIONS.has(t.text)) {
      this.pos += 2;
      const args = [this.operand()];
      while (this.accept(',')) args.push(this.operand());
      this.expect(')');
      if (args.length !== (t.text.startsWith('attribute_') && t.text !== 'attribute_type' ? 1 : 2) || args[0]!.kind !== 'path') {
        throw validation(`Invalid ${this.what}: Incorrect number or type of operands for function: ${t.text}`);
      }
      return { kind: 'function', name: t.text as ConditionFunction, args };
    }
    if (t && this.isCall() && t.text !== 'size') throw validation(`Invalid ${this.what}: Invalid function name; function: ${t.text}`);
    const a = this.operand();
    const op = this.peek();
    if (op?.type === 'punct' && COMPARATORS.has(op.text)) {
      this.pos++;
      return { kind: 'compare', op: op.text as Comparator, a, b: this.operand() };
    }
    if (this.accept('BETWEEN')) {
      const low = this.operand();
      this.expect('AND');
      return { kind: 'between', a, low, high: this.operand() };
    }
    if (this.accept('IN')) {
      this.expect('(');
      const list = [this.operand()];
      while (this.accept(',')) list.push(this.operand());
      this.expect(')');
      return { kind: 'in', a, list };
    }
    return this.fail();
  }

  updates(): UpdateAction[] {
    const actions: UpdateAction[] = [];
    const seen = new Set<string>();
    while (this.peek()) {
      const word = this.peek()!.text.toUpperCase();
      if (this.peek()!.type !== 'word' || !SECTIONS.has(word)) this.fail();
      if (seen.has(word)) throw validation(`Invalid ${this.what}: The "${word}" section can only be used once in an update expression;`);
      seen.add(word);
      this.pos++;
      const section = word as Section;
      do {
        const path = this.path();
        if (section === 'SET') this.expect('=');
        actions.push(section === 'REMOVE' ? { section, path } : { section, path, value: section === 'SET' ? this.setValue() : this.operand() });
      } while (this.accept(','));
    }
    return actions;
  }

  private setValue(): Operand {
    const a = this.setOperand();
    for (const op of ['+', '-'] as const) if (this.accept(op)) return { kind: 'arithmetic', op, a, b: this.setOperand() };
    return a;
  }

  private setOperand(): Operand {
    if (this.isCall('if_not_exists')) {
      this.pos += 2;
      const path = this.path();
      this.expect(',');
      const fallback = this.setOperand();
      this.expect(')');
      return { kind: 'if_not_exists', path, fallback };
    }
    if (this.isCall('list_append')) {
      this.pos += 2;
      const a = this.setOperand();
      this.expect(',');
      const b = this.setOperand();
      this.expect(')');
      return { kind: 'list_append', a, b };
    }
    return this.isCall('size') ? this.fail() : this.operand();
  }
}

