import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { FeedpubConfig } from '../config.js';
import { acceptHubRequest } from './accept-request.js';
import { announce, type AnnouncedFile } from './announce.js';
import { addressPolicy } from './callback-address.js';
import { CallbackClient } from './callback-client.js';
import { DynamoSubscriptionStore } from './dynamo-subscriptions.js';
import { feedTopicOf } from './feed-topics.js';
import { loadHubConfig, type HubConfig } from './hub-config.js';
import { createHubJobHandler } from './hub-handler.js';
import type { BodySource, HubQueue } from './queue.js';
import { SqsHubQueue } from './sqs-queue.js';

/** The queues of a deployment, named by the stack (cdk/constructs/hub.ts). */
export const HUB_QUEUE_ENV = { control: 'FEEDPUB_HUB_CONTROL_QUEUE_URL', delivery: 'FEEDPUB_HUB_DELIVERY_QUEUE_URL' } as const;

/** The hub's queue in AWS, from the queue URLs the stack gives each function; undefined where none is given. */
export function sqsHubQueue(env: Record<string, string | undefined> = process.env): HubQueue | undefined {
  const [control, delivery] = [env[HUB_QUEUE_ENV.control], env[HUB_QUEUE_ENV.delivery]];
  return control && delivery ? new SqsHubQueue(new SQSClient({}), { control, delivery }) : undefined;
}

/** The hub's settings: FEEDPUB_HUB_* over the site's hub URL (served next to the feeds, docs/DESIGN.md). */
export const hubConfigOf = (config: FeedpubConfig, env: Record<string, string | undefined> = process.env): HubConfig => loadHubConfig(env, config.site.hubUrl);

/**
 * The WebSub hub wired to the table and a queue: what `POST /hub` calls, what renders call with the bytes they
 * wrote, and the handler of its jobs (verifications, notifications, deliveries). `bodies` finds the bytes of
 * deliveries that carry a reference (s3BodySource in AWS); given by the caller, so that only the hub function
 * bundles the S3 client for it (the API's bundle stays under 1 MB). `legacyLayout: false` where the table holds no
 * subscription of before layout 4 (the local stack's, moved when opened): DynamoSubscriptionStore.
 */
export function buildHub(config: FeedpubConfig, hubConfig: HubConfig, doc: DynamoDBDocumentClient, queue: HubQueue, bodies?: BodySource, options: { legacyLayout?: boolean } = {}) {
  const subscriptions = new DynamoSubscriptionStore(doc, config.tableName, Date.now, options.legacyLayout ?? true);
  const topicOf = feedTopicOf(config.site.feedsUrl);
  return {
    accept: (body: string, contentType: string | undefined) => acceptHubRequest(body, contentType, { config: hubConfig, topicOf, subscriptions, queue }),
    announce: (files: AnnouncedFile[]) => announce(queue, files, { inlineBodyMaxBytes: hubConfig.inlineBodyMaxBytes }).then(() => undefined),
    handler: () =>
      createHubJobHandler({
        config: hubConfig,
        subscriptions,
        queue,
        client: new CallbackClient({ policy: addressPolicy(hubConfig.allowPrivateCallbacks), timeoutMs: hubConfig.requestTimeoutMs }),
        ...(bodies ? { bodies } : {}),
      }),
  };
}

export type Hub = ReturnType<typeof buildHub>;
