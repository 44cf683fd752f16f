import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { resolveCallback, systemResolver, type AddressPolicy, type ResolvedAddress, type Resolver } from './callback-address.js';

export interface CallbackRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** The answer's body is read up to this many bytes; `truncated` says whether there was more. */
  maxResponseBytes?: number;
}

export interface CallbackResponse {
  status: number;
  body: Buffer;
  truncated: boolean;
}

/** The callback did not answer within the request timeout (connection included). */
export class CallbackTimeout extends Error {
  override name = 'CallbackTimeout';
}

export interface CallbackClientOptions {
  policy: AddressPolicy;
  timeoutMs: number;
  resolve?: Resolver;
  /** Connections kept per callback host, so that a busy host is not opened a connection per delivery. */
  maxSocketsPerHost?: number;
}

/**
 * A lookup that answers with the address already checked, whatever DNS says now: the connection goes where the
 * check looked (https://www.w3.org/TR/websub/#security-considerations, and DNS rebinding). Node 20 asks for every
 * address (`all`) when it tries families in turn.
 */
function pinned({ address, family }: ResolvedAddress): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/**
 * Requests to subscribers' callbacks: http(s) only, to an address the policy allows, checked at each request and
 * pinned, no redirects followed, and one deadline for the whole exchange so a slow subscriber costs at most that.
 */
export class CallbackClient {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(private readonly options: CallbackClientOptions) {
    const agent = { keepAlive: true, maxSockets: options.maxSocketsPerHost ?? 4, timeout: options.timeoutMs };
    this.http = new HttpAgent(agent);
    this.https = new HttpsAgent(agent);
  }

  async send(request: CallbackRequest): Promise<CallbackResponse> {
    const url = new URL(request.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Not an http(s) callback: ${url.protocol}`);
    const started = Date.now();
    const address = await resolveCallback(url, this.options.policy, this.options.resolve ?? systemResolver, this.options.timeoutMs);
    // One deadline for the exchange: what resolving took is taken from the request's time.
    const signal = AbortSignal.timeout(Math.max(1, this.options.timeoutMs - (Date.now() - started)));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = request.body ? Buffer.from(request.body) : undefined;
    return new Promise<CallbackResponse>((resolve, reject) => {
      const req = send(url, {
        method: request.method,
        agent: url.protocol === 'https:' ? this.https : this.http,
        lookup: pinned(address),
        headers: { 'user-agent': 'feedpub-websub-hub', ...request.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
      });
      const abort = () => req.destroy(new CallbackTimeout(`${url.host} did not answer within ${this.options.timeoutMs} ms`));
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      req.on('error', (error) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      });
      req.on('response', (res) => {
        readLimited(res, request.maxResponseBytes ?? 4096).then((read) => {
          signal.removeEventListener('abort', abort);
          resolve({ status: res.statusCode ?? 0, ...read });
        }, reject);
      });
      req.end(body);
    });
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** Reads up to `max` bytes; a longer answer is cut off (its connection is not reused). */
function readLimited(res: IncomingMessage, max: number): Promise<{ body: Buffer; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      const room = max - size;
      size += chunk.length;
      if (chunk.length <= room) return void chunks.push(chunk);
      chunks.push(chunk.subarray(0, room));
      // Settled before destroying, which reports the answer as aborted.
      resolve({ body: Buffer.concat(chunks), truncated: true });
      res.destroy();
    });
    res.on('end', () => resolve({ body: Buffer.concat(chunks), truncated: false }));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('The callback closed its answer early')));
  });
}
