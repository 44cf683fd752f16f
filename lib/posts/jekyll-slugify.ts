// Jekyll's Utils.slugify, for the modes a post's URL uses:
// https://github.com/jekyll/jekyll/blob/master/lib/jekyll/utils.rb (slugify, replace_character_sequence_with_hyphen)
// - default: every run of characters that are not letters, marks or decimal digits becomes "-";
// - pretty: the same, but "._~!$&'()+,;=@" are kept too (they are readable in a URL and allowed in file names).
// Then one "-" is removed at each end, and the result is lower-cased unless `cased`.
const REPLACED = {
  default: /[^\p{M}\p{L}\p{Nd}]+/gu,
  pretty: /[^\p{M}\p{L}\p{Nd}._~!$&'()+,;=@]+/gu,
} as const;

export type SlugifyMode = keyof typeof REPLACED;

export function jekyllSlugify(text: string, mode: SlugifyMode = 'default', cased = false): string {
  const slug = text.replace(REPLACED[mode], '-').replace(/^-|-$/g, '');
  return cased ? slug : slug.toLowerCase();
}

/**
 * Jekyll's default title for a post without one (Utils.titleize_slug): the slug's "-"-separated words, each
 * capitalized as Ruby's String#capitalize does (first letter upper case, the rest lower case), joined by spaces.
 */
export function titleizeSlug(slug: string): string {
  const words = slug.split('-');
  // Ruby's String#split drops empty strings at the end: "a-b-" is two words.
  while (words.length > 0 && words[words.length - 1] === '') words.pop();
  return words
    .map((word) => {
      const [first = '', ...rest] = [...word];
      return first.toUpperCase() + rest.join('').toLowerCase();
    })
    .join(' ');
}
