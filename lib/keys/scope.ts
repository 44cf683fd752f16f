import type { FieldIssue } from '../errors.js';

/**
 * What a publisher key may touch. Empty lists are no limit: a key with neither is unscoped (the owner's). A key
 * scoped by category writes only posts whose categories all lie in its list (and at least one); scoped by tag, the
 * same for tags; scoped by both, both.
 */
export interface KeyScope {
  categories: string[];
  tags: string[];
}

export const UNSCOPED: KeyScope = { categories: [], tags: [] };

export const isScoped = (scope: KeyScope) => scope.categories.length > 0 || scope.tags.length > 0;

type Labels = Pick<KeyScope, 'categories' | 'tags'>;

const DIMENSIONS = [
  { field: 'categories', one: 'category' },
  { field: 'tags', one: 'tag' },
] as const;

const listed = (names: string[]) => names.map((n) => `'${n}'`).join(', ');

/**
 * The scope rule, the only one (docs/DESIGN.md, "Keys and scopes"): why a post with these categories and tags lies
 * outside `scope`, naming the first category (or tag) the key may not touch; undefined when it lies inside. `whose`
 * says whose labels they are in the message ("the post", "the stored post").
 */
export function outsideScope(scope: KeyScope, post: Labels, whose = 'the post'): FieldIssue | undefined {
  for (const { field, one } of DIMENSIONS) {
    const allowed = scope[field];
    if (allowed.length === 0) continue;
    const names = post[field];
    if (names.length === 0) {
      return { field, rule: 'key_scope', message: `${whose} has no ${one}; this key writes only posts in ${listed(allowed)}` };
    }
    const outside = names.find((name) => !allowed.includes(name));
    if (outside !== undefined) {
      return { field, rule: 'key_scope', message: `${whose} is in ${one} '${outside}', which is not this key's (${listed(allowed)})` };
    }
  }
  return undefined;
}

/**
 * A write is allowed when the post it replaces or deletes (`stored`) and the post it leaves (`next`) both lie in
 * the scope: so a scoped key can neither touch another desk's post nor move its own out of its scope.
 */
export function writeOutsideScope(scope: KeyScope, stored: Labels | undefined, next: Labels | undefined): FieldIssue | undefined {
  if (!isScoped(scope)) return undefined;
  return (stored && outsideScope(scope, stored, 'the stored post')) || (next && outsideScope(scope, next)) || undefined;
}

/**
 * Reading follows writing: a scoped key reads only the posts it may write (outsideScope). Listing, it names a feed
 * of its own, one of its categories (or, scoped by tag alone, one of its tags), so a listing never walks the whole
 * site to find its few posts; the listing then leaves out the posts of that feed it may not write.
 */
export function listOutsideScope(scope: KeyScope, query: { category?: string; tag?: string }): FieldIssue | undefined {
  if (!isScoped(scope)) return undefined;
  const [field, allowed, value] = scope.categories.length > 0 ? (['category', scope.categories, query.category] as const) : (['tag', scope.tags, query.tag] as const);
  if (value === undefined) return { field, rule: 'key_scope', message: `a scoped key lists one ${field} of its own at a time: add ?${field}= (one of ${listed(allowed)})` };
  if (!allowed.includes(value)) return { field, rule: 'key_scope', message: `${field} '${value}' is not this key's (${listed(allowed)})` };
  return undefined;
}
