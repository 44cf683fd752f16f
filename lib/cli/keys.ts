import type { Command } from 'commander';
import { generateKey, hashKey } from '../keys/key-format.js';
import { isScoped, type KeyScope } from '../keys/scope.js';
import { attachToRunningStack } from '../local/start.js';
import { feedNameSchema } from '../posts/post-input.js';
import { createDocumentClient } from '../store/clients.js';
import { DynamoKeyAdmin, KEY_NAME_PATTERN, OWNER_KEY_NAME, type KeyListing } from '../store/dynamo-key-admin.js';

/** A mistake on the command line: said on stderr, exit code 1. */
class UsageError extends Error {}

const collect = (value: string, previous: string[]) => [...previous, value];

function scopeNames(option: string, values: string[]): string[] {
  return [
    ...new Set(
      values.map((value) => {
        const parsed = feedNameSchema.safeParse(value);
        if (!parsed.success) throw new UsageError(`--${option} '${value}': ${parsed.error.issues[0]!.message}`);
        return parsed.data;
      }),
    ),
  ];
}

function keyName(name: string): string {
  if (!KEY_NAME_PATTERN.test(name)) throw new UsageError(`--name '${name}': 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  if (name === OWNER_KEY_NAME) throw new UsageError(`--name '${name}': the local stack's own key has this name`);
  return name;
}

const describeScope = (scope: KeyScope) =>
  isScoped(scope)
    ? [scope.categories.length > 0 ? `categories ${scope.categories.join(', ')}` : '', scope.tags.length > 0 ? `tags ${scope.tags.join(', ')}` : ''].filter(Boolean).join('; ')
    : 'unscoped (all posts, holds)';

const minute = (iso: string | undefined) => (iso ? `${iso.slice(0, 16).replace('T', ' ')}Z` : 'never');

function formatList(listed: KeyListing[]): string {
  const rows = [['NAME', 'ID', 'SCOPE', 'CREATED', 'LAST USED (±1 h)'], ...listed.map((k) => [k.name, k.id, describeScope(k.scope), minute(k.createdAt), minute(k.lastUsedAt)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** The table: a deployed stack's (`--table`, AWS credentials from the environment) or the running local stack's. */
async function openKeys(table: string | undefined): Promise<DynamoKeyAdmin> {
  const admin = new DynamoKeyAdmin(createDocumentClient(), table ?? (await attachToRunningStack()).tableName);
  const adopted = await admin.adoptLegacyKeys();
  if (adopted.length > 0) process.stderr.write(`named ${adopted.length} key(s) made before keys had names: ${adopted.join(', ')}\n`);
  return admin;
}

/** Runs a command; what goes wrong is one line on stderr and exit code 1 (never a key: none is printed before it is stored). */
const run =
  <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
  async (...args: A) => {
    try {
      await action(...args);
    } catch (error) {
      process.stderr.write(`feedpub keys: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  };

const TABLE_HELP = 'DynamoDB table of a deployed stack (its TableName output; AWS credentials and region from the environment); default: the running local stack';

/** `feedpub keys create|list|revoke`: key management needs table access, which no publisher key gives. */
export function addKeyCommands(program: Command): void {
  const keys = program.command('keys').description('publisher keys: create (printed once), list, revoke; stored hashed');

  keys
    .command('create')
    .description('create a publisher key and print it once, alone on stdout; --category/--tag limit what it may write')
    .requiredOption('--name <name>', 'unique name: who or what the key is for')
    .option('--category <name>', 'may write only posts in this category (repeat for more)', collect, [])
    .option('--tag <name>', 'may write only posts with this tag (repeat for more)', collect, [])
    .option('--table <table>', TABLE_HELP)
    .action(
      run(async (options: { name: string; category: string[]; tag: string[]; table?: string }) => {
        const name = keyName(options.name);
        const scope = { categories: scopeNames('category', options.category), tags: scopeNames('tag', options.tag) };
        const admin = await openKeys(options.table);
        const key = generateKey();
        const created = await admin.create(hashKey(key), name, scope);
        process.stdout.write(`${key}\n`);
        process.stderr.write(`created key '${created.name}' (id ${created.id}), ${describeScope(scope)}. It is shown only now: keep it in a secret store.\n`);
      }),
    );

  keys
    .command('list')
    .description('every key: name, id, scope, created, last used (never the key or its hash)')
    .option('--json', 'as JSON')
    .option('--table <table>', TABLE_HELP)
    .action(
      run(async (options: { json?: boolean; table?: string }) => {
        const listed = await (await openKeys(options.table)).list();
        process.stdout.write(options.json ? `${JSON.stringify(listed.map(({ scope, ...k }) => ({ ...k, ...scope })), null, 2)}\n` : `${formatList(listed)}\n`);
      }),
    );

  keys
    .command('which')
    .description('name the key read from stdin (one a secret scanner found, say), so that it can be revoked')
    .option('--table <table>', TABLE_HELP)
    .action(
      run(async (options: { table?: string }) => {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        const found = await (await openKeys(options.table)).byHash(hashKey(Buffer.concat(chunks).toString('utf8').trim()));
        if (!found) throw new Error('no such key (revoked already, or from another table)');
        process.stdout.write(`${found.name} ${found.id} ${describeScope(found.scope)}\n`);
      }),
    );

  keys
    .command('revoke')
    .description('end a key: refused within 1 s locally, within 60 s in AWS')
    .argument('<name>', 'the name it was created with')
    .option('--table <table>', TABLE_HELP)
    .action(
      run(async (name: string, options: { table?: string }) => {
        const revoked = await (await openKeys(options.table)).revoke(name);
        process.stderr.write(`revoked key '${revoked.name}' (id ${revoked.id})\n`);
      }),
    );
}
