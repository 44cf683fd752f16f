import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ServiceStack } from './service-stack.js';
import { readSettings } from './settings.js';
import { StatefulStack } from './stateful-stack.js';

/** Builds the two stacks; used by `cdk` (cdk.json) and by the tests. */
export function buildApp(app = new App()) {
  const settings = readSettings(app.node);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const stateful = new StatefulStack(app, 'FeedpubData', { env, settings, description: 'feedpub: table, feeds bucket, CloudFront, HTTP API' });
  const service = new ServiceStack(app, 'FeedpubService', {
    env,
    settings,
    table: stateful.table,
    bucket: stateful.bucket,
    bucketArnExport: stateful.bucketArnExport,
    feedsUrl: stateful.feedsUrl,
    httpApi: stateful.httpApi,
    description: 'feedpub: API, regeneration, WebSub hub, alarms',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stateful, service };
}

if (import.meta.url === `file://${process.argv[1]}`) buildApp().app.synth();
