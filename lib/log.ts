import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured logger (JSON lines). Lambda entry points add the request id and post id as
 * per-request keys; the level comes from POWERTOOLS_LOG_LEVEL (default INFO).
 */
export const logger = new Logger({ serviceName: 'feedpub' });
