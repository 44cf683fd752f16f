import { createHash, randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Publisher keys: `feedpub_`, 43 random base62 characters (256 bits from the CSPRNG), and a 6-character base62
 * CRC32 of those 43. The prefix lets secret scanners find leaked keys; the checksum lets them (and feedpub) tell a
 * real key from a look-alike offline, without asking anyone. The same shape as GitHub's tokens
 * (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/); base62 only, so a double
 * click selects the whole key.
 */
export const KEY_PREFIX = 'feedpub_';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 43 × log2(62) ≈ 256.03 bits. */
const SECRET_LENGTH = 43;
/** 62^6 > 2^32: room for every CRC32. */
const CHECKSUM_LENGTH = 6;
/** What a scanner matches (then checks the CRC32). */
export const KEY_PATTERN = /^feedpub_[0-9A-Za-z]{49}$/;

function base62(value: number, width: number): string {
  let text = '';
  for (let n = value, i = 0; i < width; i++, n = Math.floor(n / 62)) text = BASE62[n % 62]! + text;
  return text;
}

/** The checksum of a key's random part: its CRC32 (IEEE, as zlib computes it) in 6 base62 digits. */
export function keyChecksum(secret: string): string {
  return base62(crc32(secret), CHECKSUM_LENGTH);
}

export function generateKey(): string {
  let secret = '';
  for (let i = 0; i < SECRET_LENGTH; i++) secret += BASE62[randomInt(62)];
  return `${KEY_PREFIX}${secret}${keyChecksum(secret)}`;
}

/**
 * False for a string that claims to be a feedpub key (it has the prefix) but is not one: truncated, mistyped, made
 * up. Such a string is refused without a read. Anything without the prefix may still be a key: keys made before
 * this format (`fp_…`) and whatever FEEDPUB_API_KEY holds are looked up as they are.
 */
export function mayBeKey(candidate: string): boolean {
  if (!candidate.startsWith(KEY_PREFIX)) return true;
  if (!KEY_PATTERN.test(candidate)) return false;
  const body = candidate.slice(KEY_PREFIX.length);
  return keyChecksum(body.slice(0, SECRET_LENGTH)) === body.slice(SECRET_LENGTH);
}

/**
 * How a key is stored: its SHA-256. A key is 256 random bits, so a single fast hash is safe (there is nothing to
 * guess, unlike a password), and the lookup by hash means no comparison in feedpub's code ever involves the key.
 */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A short name for a key that is neither the key nor its hash: shown by `keys list`, written to the logs. */
export function keyIdOf(hash: string): string {
  return createHash('sha256').update(`feedpub key id:${hash}`, 'utf8').digest('hex').slice(0, 8);
}
