/** Binary searches over the sorted arrays that hold a partition's items (its sort key order). */

/** The first index whose element fails `before` (which must hold for a prefix of the list, then never). */
export function partitionPoint<T>(list: readonly T[], before: (element: T) => boolean): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(list[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Puts `element` in its place, replacing the one that compares equal. */
export function upsert<T>(list: T[], element: T, compare: (a: T, b: T) => number): void {
  const at = partitionPoint(list, (e) => compare(e, element) < 0);
  if (at < list.length && compare(list[at]!, element) === 0) list[at] = element;
  else list.splice(at, 0, element);
}

/** Takes out the element that compares equal, if any. */
export function removeFrom<T, P>(list: T[], probe: P, compare: (a: T, b: P) => number): void {
  const at = partitionPoint(list, (e) => compare(e, probe) < 0);
  if (at < list.length && compare(list[at]!, probe) === 0) list.splice(at, 1);
}
