#!/usr/bin/env node
// `npx feedpub …` from a checkout: runs the TypeScript CLI through tsx.
import { tsImport } from 'tsx/esm/api';

await tsImport('../lib/cli/main.ts', import.meta.url);
