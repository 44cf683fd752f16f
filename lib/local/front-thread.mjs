// The local HTTP front's thread (lib/local/front-host.ts starts it): loads its TypeScript through tsx, as
// bin/feedpub.js loads the CLI, since a worker thread does not inherit the loader of the thread that started it.
import { tsImport } from 'tsx/esm/api';

await tsImport('./front-worker.ts', import.meta.url);
