import { Command } from 'commander';

// Each command loads what it needs when it runs: `start` spawns DynamoDB Local before the API's modules load, and
// they load while the JVM starts.
// On Node 20 the AWS SDK warns, on every start, that its releases after January 2027 will need Node 22. feedpub
// pins exact SDK versions, which support Node 20, and the README says until when feedpub supports it; this is the
// switch the SDK documents for that warning (aws/aws-sdk-js-v3#7983). Set it to false to see the warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const program = new Command('feedpub').description('Serverless publisher of RSS, Atom and JSON feeds');

program
  .command('start')
  .description('run feedpub locally: DynamoDB Local, s3rver, the API and the regenerator (PORT, default 3000)')
  .option('--timings', 'print where the start-up time went')
  .action(async (options: { timings?: boolean }) => {
    const { StartTimings } = await import('../local/start-timings.js');
    const timings = new StartTimings();
    timings.record('node, tsx and the CLI', 0);
    // Until the stack is up a signal ends the process at once; its servers end with it (lib/local/servers.ts).
    const early = () => process.exit(130);
    for (const signal of STOP_SIGNALS) process.once(signal, early);
    const { startLocalStack } = await import('../local/start.js');
    const stack = await startLocalStack(process.env, timings).catch((error: unknown) => {
      process.stderr.write(`feedpub start: ${(error as Error).message}\n`);
      process.exit(1);
    });
    for (const signal of STOP_SIGNALS) process.removeListener(signal, early);
    // The first signal stops feedpub in order (lanes, then servers); a second one ends it at once.
    let stopping = false;
    const shutdown = () => {
      if (stopping) process.exit(130);
      stopping = true;
      process.stdout.write('stopping feedpub...\n');
      void stack.stop().then(() => process.exit(0));
    };
    for (const signal of STOP_SIGNALS) process.on(signal, shutdown);
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
    if (options.timings) {
      timings.record('ready', 0);
      process.stdout.write(`${timings.format()}\n`);
      void stack.caughtUp.then(() => process.stdout.write(`${timings.format()}\n`));
    }
  });

program
  .command('redrive')
  .description('regenerate every feed that is behind its revision or parked (local stack; in AWS invoke the RedriveFunction)')
  .action(async () => {
    const [{ attachToRunningStack }, { buildRegeneration }, { createDocumentClient, createS3Client }] = await Promise.all([
      import('../local/start.js'),
      import('../regen/build-regeneration.js'),
      import('../store/clients.js'),
    ]);
    const config = await attachToRunningStack();
    const report = await buildRegeneration(config, createDocumentClient(), createS3Client()).redrive();
    process.stdout.write(`regenerated ${report.regenerated.length} document(s)${report.regenerated.length ? `: ${report.regenerated.join(', ')}` : ''}\n`);
    for (const f of report.failed) process.stdout.write(`FAILED ${f.documentId}: ${f.reason}\n`);
    process.exitCode = report.failed.length > 0 ? 1 : 0;
  });

// The keys commands' modules (the SDK, the key admin) load only when a keys command runs.
if (process.argv[2] === 'keys') (await import('./keys.js')).addKeyCommands(program);
else program.command('keys').description('publisher keys: create, list, revoke, which (see feedpub keys --help)');

program
  .command('import')
  .description('publish a Jekyll _posts folder (or files) through the API; repeatable, each feed rendered once')
  .argument('<paths...>', 'folders (read recursively) and files')
  .option('--api <url>', 'API base URL (default: the running local stack)')
  .option('--key <key>', 'publisher key (default: FEEDPUB_API_KEY or the local key)')
  .option('--concurrency <n>', 'batch requests in flight', (v) => Number(v), 4)
  .option('--batch-size <n>', 'posts per batch request (1-100)', (v) => Number(v), 50)
  .option('--dry-run', 'parse and validate locally; write nothing')
  .option('--no-wait', 'return once every file is stored, without waiting for the feeds to be published')
  .option('--timezone <zone>', 'with --dry-run: zone of dates without offset (default FEEDPUB_TIMEZONE or UTC)')
  .option('--site-url <url>', 'with --dry-run: site URL for relative links')
  .action(async (paths: string[], options: { api?: string; key?: string; concurrency: number; batchSize: number; dryRun?: boolean; wait: boolean; timezone?: string; siteUrl?: string }) => {
    const [{ collectFiles, importPosts }, { dataDirectory, localApiKey }, { runningStack }, { createProgress, formatReport }] = await Promise.all([
      import('../import/importer.js'),
      import('../local/data-dir.js'),
      import('../local/start.js'),
      import('./import-output.js'),
    ]);
    const files = collectFiles(paths);
    const local = options.dryRun || options.api ? undefined : runningStack();
    const api = options.api ?? local?.url ?? '';
    const key = options.key ?? process.env.FEEDPUB_API_KEY ?? (local ? localApiKey(dataDirectory()).key : '');
    if (!options.dryRun && !key) throw new Error('no publisher key: pass --key or set FEEDPUB_API_KEY');
    const progress = createProgress(files.length);
    let publishing: ReturnType<typeof createProgress> | undefined;
    const report = await importPosts(files, {
      api,
      key,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      dryRun: options.dryRun,
      timeZone: options.timezone ?? process.env.FEEDPUB_TIMEZONE,
      siteUrl: options.siteUrl ?? process.env.FEEDPUB_SITE_URL,
      onFile: progress.update,
      wait: options.wait,
      onPublishing: (left, total) => {
        if (!publishing) {
          progress.stop();
          publishing = createProgress(total, { phase: 'publishing', unit: 'feeds' });
        }
        publishing.update(total - left, total);
      },
    });
    progress.stop();
    publishing?.stop();
    process.stdout.write(`${formatReport(report, Boolean(options.dryRun))}\n`);
    process.exitCode = report.failed.length > 0 ? 1 : 0;
  });

await program.parseAsync();
