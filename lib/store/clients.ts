import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';

/**
 * The SDK clients, built once per process. Endpoints come from the SDK's own environment variables
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3), so local mode is the same code with other endpoints.
 */
export function createDocumentClient(dynamo = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
}

export function createS3Client(): S3Client {
  const local = Boolean(process.env.AWS_ENDPOINT_URL_S3);
  return new S3Client({
    // Local S3-compatible servers want path-style URLs and no streaming checksums (../shared/STACK.md).
    ...(local ? { forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
  });
}
