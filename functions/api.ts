import { loadConfig } from '../lib/config.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { buildApi } from '../lib/api/build-api.js';
import { lambdaHandler } from '../lib/api/lambda-handler.js';

// Built once per Lambda instance, reused across invocations.
export const handler = lambdaHandler(buildApi(loadConfig(), createDocumentClient()));
