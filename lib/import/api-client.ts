import { sleep } from '../concurrency.js';
import type { SiteSettings } from '../site/settings.js';
import type { SiteSettingsView } from '../site/settings-service.js';

/** Attempts of one request before the importer gives up. */
const ATTEMPTS = 4;

/** An answer the API gave a post, or why it refused it. */
export type SendOutcome = 'created' | 'updated' | 'unchanged' | ImportRefused;

/** A file the API (or the importer, for the API's reasons) refused: its reason is the file's failure. */
export class ImportRefused extends Error {}

interface BatchResult {
  status: number;
  outcome?: 'created' | 'updated' | 'unchanged' | 'superseded';
  error?: { message?: string; issues?: { field: string; message: string }[] };
}

/** The reason a post was refused, with fields named as in a single request (`title`, not `posts.3.title`). */
function refusal(error: BatchResult['error'], status: number): ImportRefused {
  const issues = error?.issues?.map((i) => `${i.field.replace(/^posts\.\d+\.?/, '') || 'body'}: ${i.message}`);
  return new ImportRefused(issues?.join('; ') ?? error?.message ?? `HTTP ${status}`);
}

interface HoldState {
  id: string;
  phase: 'holding' | 'released' | 'published';
  feedsLeft: number;
}

/** The publisher API as the importer uses it: the site's settings, batches of posts, a regeneration hold. */
export class ImportApi {
  constructor(
    private readonly api: string,
    private readonly key: string,
  ) {}

  private request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
    });
  }

  /**
   * A request whose connection fails (reset, refused), or whose answer `retryStatus` names, is sent again: 4
   * attempts in all, whatever failed. For requests that are idempotent only (every one the importer sends is). A
   * long import meets such failures: one reset of the settings' read ended a 20,000-post import of the benchmark.
   */
  private async requestAgain(method: string, path: string, body?: string, headers: Record<string, string> = {}, retryStatus = (_status: number) => false): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        const response = await this.request(method, path, body, headers);
        if (!retryStatus(response.status)) return response;
        await response.body?.cancel();
        failure = new Error(`HTTP ${response.status} after ${attempt} attempts`);
      } catch (error) {
        failure = error;
      }
      if (attempt >= ATTEMPTS) throw failure;
      await sleep(200 * 2 ** attempt);
    }
  }

  /** GET /site, or PUT /site with `settings`: the site's settings as the API answers them. */
  async settings(settings?: SiteSettings): Promise<SiteSettingsView & { changed?: boolean }> {
    // Reading the settings, or putting the same ones again, is idempotent.
    const response = await this.requestAgain(settings ? 'PUT' : 'GET', '/site', settings ? JSON.stringify(settings) : undefined);
    if (!response.ok) throw refusal(((await response.json().catch(() => ({}))) as { error?: BatchResult['error'] }).error, response.status);
    return (await response.json()) as SiteSettingsView & { changed?: boolean };
  }

  /** One POST /posts/batch of JSON posts (each with its id). The batch is idempotent: a failed request is sent again. */
  async sendBatch(holdId: string, posts: string[]): Promise<SendOutcome[]> {
    const payload = `{"posts":[${posts.join(',')}]}`;
    const response = await this.requestAgain('POST', '/posts/batch', payload, { 'feedpub-hold': holdId }, (status) => status >= 500 || status === 429);
    const body = (await response.json()) as { results?: BatchResult[]; error?: BatchResult['error'] };
    if (response.status !== 200 || !body.results) throw refusal(body.error, response.status);
    return body.results.map((r) => (r.outcome ? (r.outcome === 'superseded' ? 'updated' : r.outcome) : refusal(r.error, r.status)));
  }

  async hold(method: string, path: string, body?: unknown): Promise<HoldState> {
    // Reading, renewing and releasing a hold are idempotent, and a hold taken twice leaves the first one empty,
    // released by the tick when it expires.
    const response = await this.requestAgain(method, `/regeneration/holds${path}`, body ? JSON.stringify(body) : undefined);
    if (!response.ok && response.status !== 409) throw new Error(`regeneration hold: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as HoldState;
  }
}
