import yaml from 'js-yaml';

// Jekyll reads YAML with Ruby's Psych, which follows YAML 1.1: a plain (unquoted) yes/no/on/off is a boolean
// as much as true/false, in any case, and ~ or null (any case) is null. js-yaml follows YAML 1.2, where `future: yes`
// is the string "yes". Quoted scalars are never resolved, so `published: "false"` stays a string, as in Ruby.
// https://yaml.org/type/bool.html and Psych's ScalarScanner#tokenize.
const TRUE = /^(?:yes|true|on)$/i;
const FALSE = /^(?:no|false|off)$/i;

const psychBool = new yaml.Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string | null) => data !== null && (TRUE.test(data) || FALSE.test(data)),
  construct: (data: string) => TRUE.test(data),
});

const psychNull = new yaml.Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: string | null) => data === null || data === '' || data === '~' || /^null$/i.test(data),
  construct: () => null,
});

/** For _config.yml: js-yaml's safe schema (numbers, dates, ...) with Psych's booleans. */
export const CONFIG_SCHEMA = new yaml.Schema({ include: [yaml.DEFAULT_SAFE_SCHEMA], implicit: [psychBool] });

/** Only booleans and nulls resolved, every other scalar a string: to read a flag of the front matter as Jekyll does. */
export const FLAG_SCHEMA = new yaml.Schema({ include: [yaml.FAILSAFE_SCHEMA], implicit: [psychNull, psychBool] });
