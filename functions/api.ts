import { loadConfig } from '../lib/config.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { buildApi } from '../lib/api/build-api.js';
import { buildHub, hubConfigOf, sqsHubQueue } from '../lib/hub/build-hub.js';
import { lambdaHandler } from '../lib/api/lambda-handler.js';

// Built once per Lambda instance, reused across invocations.
const config = loadConfig();
const doc = createDocumentClient();
const queue = sqsHubQueue();
export const handler = lambdaHandler(buildApi(config, doc, queue ? { hub: buildHub(config, hubConfigOf(config), doc, queue) } : {}));
