import { Command } from 'commander';
import { importPosts } from '../import/importer.js';
import { dataDirectory, localApiKey } from '../local/data-dir.js';
import { attachToRunningStack, runningStack, startLocalStack } from '../local/start.js';
import { createProgress, formatReport } from './import-output.js';
import { addKeyCommands } from './keys.js';
import { buildRegeneration } from '../regen/build-regeneration.js';
import { createDocumentClient, createS3Client } from '../store/clients.js';

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
    const report = await buildRegeneration(config, createDocumentClient(), createS3Client()).redrive();
    process.stdout.write(`regenerated ${report.regenerated.length} document(s)${report.regenerated.length ? `: ${report.regenerated.join(', ')}` : ''}\n`);
    for (const f of report.failed) process.stdout.write(`FAILED ${f.documentId}: ${f.reason}\n`);
    process.exitCode = report.failed.length > 0 ? 1 : 0;
  });

addKeyCommands(program);

program
  .command('import')
  .description('publish a Jekyll site (its folder, its _posts folder, or post files) through the API, as Jekyll reads it; repeatable, each feed rendered once')
  .argument('<paths...>', "a site's folder (with _config.yml), a _posts folder, or post files")
  .option('--api <url>', 'API base URL (default: the running local stack)')
  .option('--key <key>', 'publisher key, unscoped (default: FEEDPUB_API_KEY or the local key)')
  .option('--concurrency <n>', 'batch requests in flight', (v) => Number(v), 4)
  .option('--batch-size <n>', 'posts per batch request (1-100)', (v) => Number(v), 50)
  .option('--dry-run', 'read every file as an import does; send nothing')
  .option('--no-wait', 'return once every file is stored, without waiting for the feeds to be published')
  .option('--keep-settings', "leave the site's stored settings as they are instead of storing those of _config.yml")
  .option('--timezone <zone>', "zone of dates without an offset when _config.yml names none (default: the site's on the API; in a dry run FEEDPUB_TIMEZONE or UTC)")
  .option('--site-url <url>', 'URL for relative front-matter links when _config.yml names none (default as --timezone)')
  .action(async (paths: string[], options: { api?: string; key?: string; concurrency: number; batchSize: number; dryRun?: boolean; wait: boolean; keepSettings?: boolean; timezone?: string; siteUrl?: string }) => {
    const local = options.dryRun || options.api ? undefined : runningStack();
    const api = options.api ?? local?.url ?? '';
    const key = options.key ?? process.env.FEEDPUB_API_KEY ?? (local ? localApiKey(dataDirectory()).key : '');
    if (!options.dryRun && !key) throw new Error('no publisher key: pass --key or set FEEDPUB_API_KEY');
    let progress: ReturnType<typeof createProgress> | undefined;
    let publishing: ReturnType<typeof createProgress> | undefined;
    const importing = importPosts(paths, {
      api,
      key,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      dryRun: options.dryRun,
      keepSettings: options.keepSettings,
      timeZone: options.timezone ?? (options.dryRun ? process.env.FEEDPUB_TIMEZONE : undefined),
      siteUrl: options.siteUrl ?? (options.dryRun ? process.env.FEEDPUB_SITE_URL : undefined),
      onFile: (done, total) => (progress ??= createProgress(total)).update(done, total),
      wait: options.wait,
      onPublishing: (left, total) => {
        if (!publishing) {
          progress?.stop();
          publishing = createProgress(total, { phase: 'publishing', unit: 'feeds' });
        }
        publishing.update(total - left, total);
      },
    });
    // A path that is not there, a _config.yml Jekyll could not read, settings the API refused: said, nothing sent.
    const report = await importing.catch((error: unknown) => {
      if (!(error instanceof Error)) throw error;
      const cause = error.cause instanceof Error && !error.message.includes(error.cause.message) ? ` (${error.cause.message})` : '';
      process.stderr.write(`feedpub import: ${error.message}${cause}\n`);
      return undefined;
    });
    progress?.stop();
    publishing?.stop();
    if (!report) return void (process.exitCode = 1);
    process.stdout.write(`${formatReport(report, Boolean(options.dryRun))}\n`);
    process.exitCode = report.failed.length > 0 ? 1 : 0;
  });

await program.parseAsync();
