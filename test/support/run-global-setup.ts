/**
 * Runs the vitest global setup as vitest's main process does, prints what it provides as JSON and waits: for the
 * test that kills it (test/integration/start-lifecycle.test.ts).
 */
import type { TestProject } from 'vitest/node';
import setup from './global-setup.js';

const provided: Record<string, unknown> = {};
await setup({ provide: (key: string, value: unknown) => (provided[key] = value) } as unknown as TestProject);
process.stdout.write(`${JSON.stringify(provided)}\n`);
setInterval(() => undefined, 60_000);
