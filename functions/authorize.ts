import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerResult } from 'aws-lambda';
import { ApiKeyVerifier } from '../lib/api/auth.js';
import { loadConfig } from '../lib/config.js';
import { createDocumentClient } from '../lib/store/clients.js';
import { DynamoApiKeyRepository } from '../lib/store/dynamo-api-keys.js';

const verifier = new ApiKeyVerifier(new DynamoApiKeyRepository(createDocumentClient(), loadConfig().tableName));

// API Gateway's publisher-key check (simple responses); the API checks the same keys again behind it.
export const handler = async (event: APIGatewayRequestAuthorizerEventV2): Promise<APIGatewaySimpleAuthorizerResult> => ({
  isAuthorized: await verifier.verify(event.headers?.authorization),
});
