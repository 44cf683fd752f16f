/** The deepest nesting any request of this API needs is 5 (`{"posts": [{"authors": [{...}]}]}`); this leaves room. */
export const MAX_JSON_DEPTH = 20;

/**
 * Where a JSON text nests deeper than `max` arrays and objects: the path of the value that does (`posts.0.title`),
 * or undefined when it does not. One pass over the text, no recursion, so that a body of 5,000 nested arrays is
 * refused before anything recursive (JSON.stringify, a validator, a logger) walks it and overflows the stack. The
 * text need not be valid JSON; JSON.parse judges that afterwards.
 */
export function tooDeepAt(text: string, max = MAX_JSON_DEPTH): string | undefined {
  // Per open container: the key of the member being read (objects) or the index of the element (arrays).
  const path: (string | number)[] = [];
  let expectingKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (expectingKey) path[path.length - 1] = keyOf(text.slice(start, i + 1));
      expectingKey = false;
    } else if (c === '[' || c === '{') {
      if (path.length === max) return fieldOf(path);
      path.push(c === '[' ? 0 : '');
      expectingKey = c === '{';
    } else if (c === ']' || c === '}') {
      path.pop();
      expectingKey = false;
    } else if (c === ',') {
      const last = path[path.length - 1];
      if (typeof last === 'number') path[path.length - 1] = last + 1;
      else expectingKey = last !== undefined;
    }
  }
  return undefined;
}

function keyOf(quoted: string): string {
  try {
    return String(JSON.parse(quoted));
  } catch {
    return quoted.slice(1, -1);
  }
}

/** The path down to the last member name: the field a publisher wrote (`posts.0.title`, not `posts.0.title.0.0.0…`). */
function fieldOf(path: (string | number)[]): string {
  let end = path.length;
  while (end > 0 && typeof path[end - 1] === 'number') end--;
  return path.slice(0, end).join('.') || 'body';
}
