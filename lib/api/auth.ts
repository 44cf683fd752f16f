import type { APIGatewaySimpleAuthorizerResult, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import * as z from 'zod/mini';
import { hashKey, keyIdOf, mayBeKey } from '../keys/key-format.js';
import type { KeyScope } from '../keys/scope.js';
import { logger } from '../log.js';
import type { ApiKeyRepository } from '../store/ports.js';

/**
 * How long a key outlives its revocation (README, "Keys and scopes"): the in-process cache of a verifier, plus in
 * AWS the authorizer result cache of API Gateway. Locally 0.5 s (the promise is 1 s); in AWS 25 s + 30 s (the
 * promise is 60 s), leaving room for the read itself.
 */
export const KEY_CACHE = { localMs: 500, authorizerMs: 25_000, gatewayTtlSeconds: 30 } as const;

/** A key's last use is written at most this often (a conditional update), never on every request. */
export const LAST_USE_INTERVAL_MS = 60 * 60 * 1000;

/** Who is calling: what the authorizer found, and what the API acts on. */
export interface Caller {
  keyId: string;
  keyName: string;
  scope: KeyScope;
}

/** The authorizer's context as API Gateway passes it on (HTTP API simple responses carry string values). */
export type CallerContext = { keyId: string; keyName: string; scope: string };

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Checks bearer keys against the stored hashes. The only comparison is DynamoDB's lookup of the key's SHA-256, so
 * the time an answer takes says nothing about the key. A key found is remembered for `cacheMs` (sized so a
 * revocation takes effect in time, see KEY_CACHE), and concurrent checks of one key share one read. The key itself
 * is never kept, logged or put into an error: only its hash and its short id.
 */
export class ApiKeyVerifier {
  private readonly known = new Map<string, { until: number; caller: Promise<Caller | undefined> }>();

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  verify(authorization: string | undefined): Promise<Caller | undefined> {
    const key = BEARER.exec(authorization ?? '')?.[1];
    if (key === undefined || !mayBeKey(key)) return Promise.resolve(undefined);
    const hash = hashKey(key);
    const cached = this.known.get(hash);
    if (cached && cached.until > this.now()) return cached.caller;
    const caller = this.lookup(hash);
    this.remember(hash, caller);
    return caller;
  }

  private async lookup(hash: string): Promise<Caller | undefined> {
    const stored = await this.repo.find(hash);
    if (!stored) return undefined;
    const keyId = keyIdOf(hash);
    const now = this.now();
    if (stored.lastUsedAt === undefined || Date.parse(stored.lastUsedAt) <= now - LAST_USE_INTERVAL_MS) {
      await this.repo
        .recordUse(hash, new Date(now).toISOString(), new Date(now - LAST_USE_INTERVAL_MS).toISOString())
        .catch((error: unknown) => logger.warn('could not record a key use', { keyId, error: error as Error }));
    }
    return { keyId, keyName: stored.name, scope: stored.scope };
  }

  /** Only keys found are kept (so made-up keys cannot fill the cache); a failed read is not kept either. */
  private remember(hash: string, caller: Promise<Caller | undefined>): void {
    const entry = { until: this.now() + this.cacheMs, caller };
    this.known.set(hash, entry);
    const forget = () => this.known.get(hash) === entry && this.known.delete(hash);
    caller.then((found) => found || forget(), forget);
    if (this.known.size > 10_000) this.known.delete(this.known.keys().next().value!);
  }
}

/** The Authorize function's answer (HTTP API simple response): the caller rides along as its context. */
export async function authorize(verifier: ApiKeyVerifier, authorization: string | undefined): Promise<APIGatewaySimpleAuthorizerResult | APIGatewaySimpleAuthorizerWithContextResult<CallerContext>> {
  const caller = await verifier.verify(authorization);
  if (!caller) return { isAuthorized: false };
  return { isAuthorized: true, context: { keyId: caller.keyId, keyName: caller.keyName, scope: JSON.stringify(caller.scope) } };
}

const scopeSchema = z.strictObject({ categories: z.array(z.string()), tags: z.array(z.string()) });

/** The caller API Gateway vouches for, from the authorizer's context; undefined when there is none (or it is not ours). */
export function callerOf(context: Record<string, unknown> | null | undefined): Caller | undefined {
  if (!context || typeof context.keyId !== 'string' || typeof context.keyName !== 'string' || typeof context.scope !== 'string') return undefined;
  try {
    const scope = scopeSchema.safeParse(JSON.parse(context.scope));
    return scope.success ? { keyId: context.keyId, keyName: context.keyName, scope: scope.data } : undefined;
  } catch {
    return undefined;
  }
}
