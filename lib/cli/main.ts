import { Command } from 'commander';
import { startLocalStack } from '../local/start.js';

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

await program.parseAsync();
