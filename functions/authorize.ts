import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { ApiKeyVerifier, authorize, KEY_CACHE } from '../lib/api/auth.js';
import { loadConfig } from '../lib/config.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { DynamoApiKeyRepository } from '../lib/store/dynamo-api-keys.js';

const verifier = new ApiKeyVerifier(new DynamoApiKeyRepository(createDocumentClient(), loadConfig().tableName), KEY_CACHE.authorizerMs);

// API Gateway's publisher-key check (simple responses): the key's name, short id and scope go to the API function
// as the context. API Gateway caches the answer per key for KEY_CACHE.gatewayTtlSeconds.
export const handler = (event: APIGatewayRequestAuthorizerEventV2) => authorize(verifier, event.headers?.authorization);
