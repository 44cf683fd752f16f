import { handle } from 'hono/aws-lambda';
import { loadConfig } from '../lib/config.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { buildApi } from '../lib/api/build-api.js';

// Built once per Lambda instance, reused across invocations.
export const handler = handle(buildApi(loadConfig(), createDocumentClient()));
