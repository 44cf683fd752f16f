import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRepository } from '../store/ports.js';

/**
 * Publisher keys are 256 random bits, so a single SHA-256 is a safe way to store them: there is nothing to
 * brute-force as with passwords, and a lookup by hash leaks nothing about the key's prefix.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateKey(): string {
  return `fp_${randomBytes(32).toString('base64url')}`;
}

/** Checks bearer keys against the stored hashes; a known key is remembered briefly to spare a read per request. */
export class ApiKeyVerifier {
  private readonly known = new Map<string, number>();

  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly cacheMs = 60_000,
  ) {}

  async verify(authorization: string | undefined): Promise<boolean> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) return false;
    const hash = hashKey(match[1]!);
    const until = this.known.get(hash);
    if (until !== undefined && until > Date.now()) return true;
    if (!(await this.repo.exists(hash))) return false;
    this.known.set(hash, Date.now() + this.cacheMs);
    return true;
  }
}
