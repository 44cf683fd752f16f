import { deliver } from './deliver.js';
import { fanOut } from './fan-out.js';
import type { HubHandlerDeps } from './hub-deps.js';
import { verifyIntent } from './verify-intent.js';
import type { JobHandler } from './queue.js';

/** The one handler of every hub job, for the local queue's worker and the SQS Lambda handlers alike. */
export function createHubJobHandler(deps: HubHandlerDeps): JobHandler {
  return async (job) => {
    if (job.kind === 'verify') await verifyIntent(job, deps);
    else if (job.kind === 'notify') await fanOut(job, deps);
    else await deliver(job, deps);
  };
}
