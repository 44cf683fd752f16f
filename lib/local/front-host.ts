import { Worker } from 'node:worker_threads';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { ApiHandler } from '../api/lambda-handler.js';
import type { SiteConfig } from '../config.js';
import { logger } from '../log.js';
import type { Origin } from './http-front.js';

/** What the front's thread is started with. */
export interface FrontSetup {
  origin: Omit<Origin, 'headersOf'>;
  /** The site, for the headers of its documents (lib/feeds/document-headers.ts). */
  site: SiteConfig;
  port: number;
}

/** Messages from the front's thread. */
export type FromFront =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'api'; id: number; event: APIGatewayProxyEventV2 }
  | { type: 'closed' };

/** Messages to it: an API request's result (none: the handler failed), or close. */
export type ToFront = { type: 'answer'; id: number; result?: APIGatewayProxyResultV2 } | { type: 'close' };

export interface RunningFront {
  url: string;
  /** Closes the server (open connections are cut) and ends its thread. */
  stop(): Promise<void>;
}

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'feedpub-api-local',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:feedpub-api-local',
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: 'local',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The local front (API Gateway and CloudFront in one base URL, lib/local/http-front.ts) in a thread of its own. In
 * AWS, readers are served by CloudFront, never by the functions that render; here every reader's poll is proxied
 * to the S3 server, and on the thread that renders it would take that thread from the renders (a poll every 10 ms
 * of each of a post's 9 documents is about 900 GETs a second). The API's requests come back to this thread, whose
 * handler runs beside the lanes, as the API function runs beside them in AWS.
 */
export async function startHttpFront(api: ApiHandler, setup: FrontSetup): Promise<RunningFront> {
  const worker = new Worker(new URL('./front-thread.mjs', import.meta.url), { workerData: setup });
  const answer = (message: ToFront) => worker.postMessage(message);
  let closed: (() => void) | undefined;
  let stopping = false;
  const listening = new Promise<number>((resolve, reject) => {
    worker.on('message', (message: FromFront) => {
      if (message.type === 'listening') resolve(message.port);
      else if (message.type === 'failed') reject(Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
      else if (message.type === 'closed') closed?.();
      else
        void api(message.event, lambdaContext(message.event.requestContext.requestId)).then(
          (result) => answer({ type: 'answer', id: message.id, result }),
          (error: unknown) => {
            logger.error('local API handler failed', { error: error as Error, requestId: message.event.requestContext.requestId });
            answer({ type: 'answer', id: message.id });
          },
        );
    });
    worker.once('error', (error) => {
      logger.error('local front thread failed', { error });
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!stopping) logger.error('local front thread ended', { code });
      reject(new Error(`The local front's thread ended (code ${code})`));
      closed?.();
    });
  });
  let port: number;
  try {
    port = await listening;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      stopping = true;
      await new Promise<void>((resolve) => {
        closed = resolve;
        answer({ type: 'close' });
      });
      await worker.terminate();
    },
  };
}
