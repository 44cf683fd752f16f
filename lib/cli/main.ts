import { Command } from 'commander';
import { generateKey, hashKey } from '../api/auth.js';
import { attachToRunningStack, startLocalStack } from '../local/start.js';
import { buildRegeneration } from '../regen/build-regeneration.js';
import { redrive } from '../regen/redrive.js';
import { createDocumentClient, createS3Client } from '../store/clients.js';
import { DynamoApiKeyRepository } from '../store/dynamo-api-keys.js';

const program = new Command('feedpub').description('Serverless publisher of RSS, Atom and JSON feeds');

program
  .command('start')
  .description('run feedpub locally: DynamoDB Local, s3rver, the API and the regenerator (PORT, default 3000)')
  .action(async () => {
    const stack = await startLocalStack();
    const { url } = stack.feedpub;
    process.stdout.write(
      [
        `feedpub is running at ${url}`,
        `  data:        ${stack.dataDir}`,
        `  API key:     ${stack.apiKey.key}   (from ${stack.apiKey.source})`,
        `  site feeds:  ${url}/feeds/rss.xml  ${url}/feeds/atom.xml  ${url}/feeds/feed.json`,
        '',
        'Publish a post:',
        `  curl -s -X POST ${url}/posts -H "Authorization: Bearer ${stack.apiKey.key}" \\`,
        `    -H 'Content-Type: application/json' -d '{"title":"Hello","content":"<p>First post</p>","categories":["news"]}'`,
        '',
      ].join('\n'),
    );
    const shutdown = () => {
      process.stdout.write('stopping feedpub...\n');
      void stack.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  });

program
  .command('redrive')
  .description('regenerate every feed that is behind its revision or parked (local stack; in AWS invoke the RedriveFunction)')
  .action(async () => {
    const config = attachToRunningStack();
    const { state, regenerator } = buildRegeneration(config, createDocumentClient(), createS3Client());
    const report = await redrive(state, regenerator);
    process.stdout.write(`regenerated ${report.regenerated.length} feed(s)${report.regenerated.length ? `: ${report.regenerated.join(', ')}` : ''}\n`);
    for (const f of report.failed) process.stdout.write(`FAILED ${f.feedId}: ${f.reason}\n`);
    process.exitCode = report.failed.length > 0 ? 1 : 0;
  });

const keys = program.command('keys').description('publisher keys (stored hashed)');
keys
  .command('create')
  .description('create a publisher key and print it once; --table for a deployed stack (AWS credentials from the environment)')
  .requiredOption('--name <name>', 'who the key is for')
  .option('--table <table>', 'DynamoDB table of a deployed stack (TableName output); default: the running local stack')
  .action(async (options: { name: string; table?: string }) => {
    const tableName = options.table ?? attachToRunningStack().tableName;
    const key = generateKey();
    await new DynamoApiKeyRepository(createDocumentClient(), tableName).put(hashKey(key), options.name);
    process.stdout.write(`${key}\n`);
  });

await program.parseAsync();
