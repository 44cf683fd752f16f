import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

/**
 * How every function is bundled: ESM, minified, with source maps, the AWS SDK clients bundled at the pinned
 * versions (only the ones imported, tree-shaken) rather than taken from the runtime.
 */
export const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: 'node22',
  mainFields: ['module', 'main'],
  externalModules: [],
  // CommonJS dependencies (gray-matter, sanitize-html) call require(); give the ESM bundle one.
  // sanitize-html's CSS parser (postcss) is never called: feedpub keeps no style attribute.
  esbuildArgs: { '--alias:postcss': join(ROOT, 'lib/bundling/no-postcss.cjs') },
  banner: "import { createRequire as __feedpubCreateRequire } from 'module'; const require = __feedpubCreateRequire(import.meta.url);",
};

export interface FeedpubFunctionProps {
  /** Entry file under functions/, e.g. 'api'. */
  entry: string;
  description: string;
  environment: Record<string, string>;
  memorySize?: number;
  timeout?: Duration;
  reservedConcurrency?: number;
}

/** One Lambda function of feedpub, with the defaults all of them share. */
export class FeedpubFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: FeedpubFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(ROOT, 'functions', `${props.entry}.ts`),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: join(ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(30),
      description: props.description,
      environment: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'feedpub', ...props.environment },
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      bundling: BUNDLING,
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
    });
  }

  get function(): IFunction {
    return this.fn;
  }
}
