import { checkOverlap, resolvePath, type Scope } from './evaluate.js';
import type { Parsed, Path, Segment } from './expressions.js';
import type { AttributeValue, Item } from './values.js';

/** The requested paths as a tree; `true` marks a path taken whole. */
type Tree = Map<Segment, Tree | true>;

export type Projector = (item: Item) => Item;

/**
 * A ProjectionExpression as a function from items to the attributes it asks for, nested paths included (list
 * elements come back in index order, packed, as DynamoDB returns them).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html
 */
export function projector(parsed: Parsed<Path[]> | undefined, scope: Scope): Projector | undefined {
  if (!parsed) return undefined;
  const tree: Tree = new Map();
  const paths = parsed.ast.map((p) => resolvePath(p, scope));
  checkOverlap(paths, 'ProjectionExpression');
  for (const segments of paths) {
    let node = tree;
    for (const [i, s] of segments.entries()) {
      const last = i === segments.length - 1;
      const child = node.get(s);
      if (child === true) break;
      if (last) node.set(s, true);
      else if (child) node = child;
      else node.set(s, (node = new Map()));
    }
  }
  return (item) => pick({ M: item }, tree)?.M ?? {};
}

function pick(source: AttributeValue, tree: Tree | true): AttributeValue | undefined {
  if (tree === true) return source;
  if (source.M) {
    const M: Item = {};
    for (const [s, sub] of tree) {
      const v = typeof s === 'string' && source.M[s] ? pick(source.M[s], sub) : undefined;
      if (v) M[s as string] = v;
    }
    return Object.keys(M).length > 0 ? { M } : undefined;
  }
  if (source.L) {
    const indexes = [...tree.keys()].filter((s): s is number => typeof s === 'number').sort((a, b) => a - b);
    const L = indexes.flatMap((i) => {
      const v = source.L![i] ? pick(source.L![i], tree.get(i)!) : undefined;
      return v ? [v] : [];
    });
    return L.length > 0 ? { L } : undefined;
  }
  return undefined;
}
