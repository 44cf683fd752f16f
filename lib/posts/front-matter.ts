import matter from 'gray-matter';
import yaml from 'js-yaml';
import { UnreadablePost } from '../errors.js';
import { FLAG_SCHEMA } from './ruby-yaml.js';

export type FrontMatter = Record<string, unknown>;

const unreadable = (field: string, rule: string, message: string) => new UnreadablePost([{ field, rule, message }]);

/** Front matter needs a few levels (a list of author mappings is 3); js-yaml recurses per level and would overflow. */
const MAX_YAML_DEPTH = 20;

/**
 * js-yaml's loader tells a listener of every node it opens and closes, before it reads the node's children: past
 * MAX_YAML_DEPTH levels the parse stops there, before any deeper recursion. (Aliases are not expanded: js-yaml
 * shares the anchored value, so an alias bomb costs its text, and nothing here walks the value recursively.)
 */
function loadYaml(source: string, schema: yaml.Schema): unknown {
  let depth = 0;
  const listener = (event: 'open' | 'close') => {
    depth += event === 'open' ? 1 : -1;
    if (depth > MAX_YAML_DEPTH) throw unreadable('front_matter', 'max_depth', `nests lists and mappings deeper than ${MAX_YAML_DEPTH} levels`);
  };
  return yaml.load(source, { schema, listener });
}

// Every scalar stays a string (YAML's failsafe schema): "+0800" is not the number 800, "2021-12-08" is not
// a Date in UTC, and the date is read exactly once, by the rules of dates.ts, in the site's zone.
const yamlEngine = (source: string): object => (loadYaml(source, yaml.FAILSAFE_SCHEMA) as object | null | undefined) ?? {};

export interface SplitFile {
  data: FrontMatter;
  body: string;
  /** Reads one key as Ruby's YAML would type it: a boolean, null, or (for anything else) a string. */
  flag(key: string): unknown;
}

/**
 * Splits a Jekyll file into its front matter and body. A file Jekyll would not read as a post (no "---" on the
 * first line) is an UnreadablePost that says why.
 */
export function splitFrontMatter(text: string): SplitFile {
  const source = text.replace(/^\uFEFF/, '');
  if (!/^---[ \t]*\r?\n/.test(source)) {
    if (/^\s*\n---[ \t]*\r?\n/.test(source)) {
      throw unreadable('front_matter', 'first_line', 'must start on the first line; a blank line comes before "---", so Jekyll does not read this file as a post');
    }
    throw unreadable('front_matter', 'required', 'is missing; Jekyll reads a file as a post only when it starts with "---" front matter');
  }
  try {
    const parsed = matter(source, { engines: { yaml: yamlEngine } });
    const data = parsed.data as unknown;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw unreadable('front_matter', 'yaml_mapping', 'must be a YAML mapping of keys to values');
    }
    let typed: FrontMatter | undefined;
    const flag = (key: string) => {
      typed ??= (loadYaml(parsed.matter, FLAG_SCHEMA) as FrontMatter | null) ?? {};
      return typed[key];
    };
    return { data: data as FrontMatter, body: parsed.content, flag };
  } catch (error) {
    if (error instanceof UnreadablePost) throw error;
    throw unreadable('front_matter', 'yaml', `is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}
