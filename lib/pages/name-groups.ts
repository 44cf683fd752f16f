/**
 * Names split by initial, as Chinese indexes do: a Latin name by its first letter, a Chinese one by the first
 * letter of its pinyin (东财滚动新闻 under D, beside dongfang), digits together, anything else apart.
 *
 * The pinyin initial comes from the Unicode collation Node carries (ICU, CLDR's "zh" pinyin order), not from a
 * dictionary: CLDR places an index boundary (U+FDD0 followed by the letter) before the first character of each
 * initial, so a character's initial is the last boundary that sorts before it. No pinyin starts with I, U or V.
 */
const zh = new Intl.Collator('zh');
const PINYIN_INITIALS = [...'ABCDEFGHJKLMNOPQRSTWXYZ'].map((letter) => ({ letter: letter.toLowerCase(), boundary: `\uFDD0${letter}` }));

export const GROUPS = [...'abcdefghijklmnopqrstuvwxyz', '0-9', 'other'] as const;
export type Group = (typeof GROUPS)[number];

export function groupLabel(group: Group): string {
  return group === 'other' ? 'Other' : group.toUpperCase();
}

function pinyinInitial(char: string): Group {
  let found: Group = 'other';
  for (const { letter, boundary } of PINYIN_INITIALS) {
    if (zh.compare(boundary, char) > 0) break;
    found = letter as Group;
  }
  return found;
}

export function groupOf(name: string): Group {
  const first = [...name.normalize('NFKC').trimStart()][0] ?? '';
  if (/\p{Script=Han}/u.test(first)) return pinyinInitial(first);
  const base = first.normalize('NFD')[0] ?? '';
  if (/[a-z]/i.test(base)) return base.toLowerCase() as Group;
  if (/\p{Nd}/u.test(first)) return '0-9';
  return 'other';
}

/** Names in reading order: Chinese by pinyin, then Latin; exact ties by code points, so the order is stable. */
export function byName(a: string, b: string): number {
  return zh.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}
