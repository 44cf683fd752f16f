import { Command, InvalidArgumentError } from 'commander';

// Each command loads what it needs when it runs: `start` spawns DynamoDB Local before the API's modules load, and
// they load while the JVM starts.
// On Node 20 the AWS SDK warns, on every start, that its releases after January 2027 will need Node 22. feedpub
// pins exact SDK versions, which support Node 20, and the README says until when feedpub supports it; this is the
// switch the SDK documents for that warning (aws/aws-sdk-js-v3#7983). Set it to false to see the warning.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** An option's value as a whole number in [min, max], or commander's refusal naming the rule. */
const wholeNumber = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
  return n;
};

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
  .command('hub')
  .description('the WebSub hub')
  .command('move-subscriptions')
  .description("move subscriptions stored before layout 4 to their feed's partition: run once after upgrading a deployment made before it")
  .option('--table <table>', 'DynamoDB table of a deployed stack (its TableName output; AWS credentials and region from the environment); default: the running local stack')
  .action(async (options: { table?: string }) => {
    const [{ attachToRunningStack }, { moveSubscriptions }, { createDocumentClient }] = await Promise.all([
      import('../local/start.js'),
      import('../hub/move-subscriptions.js'),
      import('../store/clients.js'),
    ]);
    try {
      const moved = await moveSubscriptions(createDocumentClient(), options.table ?? (await attachToRunningStack()).tableName);
      process.stdout.write(`moved ${moved} subscription(s)\n`);
    } catch (error) {
      process.stderr.write(`feedpub hub move-subscriptions: ${(error as Error).message}\n`);
      process.exitCode = 1;
    }
  });

program
  .command('import')
  .description('publish a Jekyll site (its folder, its _posts folder, or post files) through the API, as Jekyll reads it; repeatable, each feed rendered once')
  .argument('<paths...>', "a site's folder (with _config.yml), a _posts folder, or post files")
  .option('--api <url>', 'API base URL (default: the running local stack)')
  .option('--key <key>', 'publisher key, unscoped (default: FEEDPUB_API_KEY or the local key)')
  .option('--concurrency <n>', 'batch requests in flight (1-64)', wholeNumber(1, 64), 4)
  .option('--batch-size <n>', 'posts per batch request (1-100)', wholeNumber(1, 100), 50)
  .option('--dry-run', 'read every file as an import does; send nothing')
  .option('--no-wait', 'return once every file is stored, without waiting for the feeds to be published')
  .option('--keep-settings', "leave the site's stored settings as they are instead of storing those of _config.yml")
  .option('--timezone <zone>', "zone of dates without an offset when _config.yml names none (default: the site's on the API; in a dry run FEEDPUB_TIMEZONE or UTC)")
  .option('--site-url <url>', 'URL for relative front-matter links when _config.yml names none (default as --timezone)')
  .action(async (paths: string[], options: { api?: string; key?: string; concurrency: number; batchSize: number; dryRun?: boolean; wait: boolean; keepSettings?: boolean; timezone?: string; siteUrl?: string }) => {
    const [{ importPosts }, { dataDirectory, localApiKey }, { runningStack }, { createProgress, formatReport }] = await Promise.all([
      import('../import/importer.js'),
      import('../local/data-dir.js'),
      import('../local/start.js'),
      import('./import-output.js'),
    ]);
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
