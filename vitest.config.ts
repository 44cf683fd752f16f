import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration files each run a whole local feedpub; two cores are shared with DynamoDB Local and s3rver.
    maxWorkers: 2,
    testTimeout: 30_000,
    // Logs of deliberate failures would bury the report; POWERTOOLS_LOG_LEVEL=DEBUG npm test shows them.
    env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT' },
    hookTimeout: 60_000,
  },
});
