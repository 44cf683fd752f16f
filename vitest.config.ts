import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/file-dynamo.ts'],
    // One file at a time: integration files each run a whole local feedpub against one DynamoDB Local on two
    // cores, and the tests hold feedpub to its promise that a write is in every feed within a second.
    fileParallelism: false,
    testTimeout: 30_000,
    // Logs of deliberate failures would bury the report; POWERTOOLS_LOG_LEVEL=DEBUG npm test shows them.
    env: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT' },
    hookTimeout: 60_000,
  },
});
