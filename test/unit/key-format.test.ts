import { describe, expect, it } from 'vitest';
import { generateKey, hashKey, KEY_PATTERN, keyChecksum, keyIdOf, mayBeKey } from '../../lib/keys/key-format.js';

describe('publisher key format', () => {
  it('is feedpub_, 43 random base62 characters and a 6-character checksum', () => {
    const keys = Array.from({ length: 200 }, generateKey);
    for (const key of keys) {
      expect(key).toMatch(KEY_PATTERN);
      expect(key).toHaveLength('feedpub_'.length + 43 + 6);
      expect(keyChecksum(key.slice(8, 51))).toBe(key.slice(51));
    }
    expect(new Set(keys).size).toBe(keys.length);
    // Every base62 digit turns up in the random parts: the alphabet is the whole of it, not a biased corner.
    expect(new Set(keys.flatMap((k) => [...k.slice(8, 51)])).size).toBe(62);
  });

  it('checksums with CRC32 written in base62, as a scanner can recompute offline', () => {
    // CRC-32/ISO-HDLC check value of "123456789" is 0xCBF43926 = 3421780262, which is 3jZRME in base62 (0-9A-Za-z).
    expect(keyChecksum('123456789')).toBe('3jZRME');
    expect(keyChecksum('')).toBe('000000');
  });

  it('tells a feedpub key from a look-alike without a lookup', () => {
    const key = generateKey();
    expect(mayBeKey(key)).toBe(true);
    for (const at of [8, 30, 50, 51, 56]) {
      const swapped = key.slice(0, at) + (key[at] === 'a' ? 'b' : 'a') + key.slice(at + 1);
      expect(mayBeKey(swapped), `changed at ${at}`).toBe(false);
    }
    expect(mayBeKey(key.slice(0, -1))).toBe(false);
    expect(mayBeKey(`${key}0`)).toBe(false);
    expect(mayBeKey('feedpub_')).toBe(false);
  });

  it('still looks up keys of the older format and any FEEDPUB_API_KEY value', () => {
    expect(mayBeKey('fp_5yQ8pXb4-Vw0Qm6ZkZb1a1pTz8m3aY0c3kq2GxTz4_Y')).toBe(true);
    expect(mayBeKey('my-local-secret')).toBe(true);
  });

  it('stores a key as the hex SHA-256 of the whole string, as before, so existing keys still match', () => {
    expect(hashKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('names a key by a short id that is neither the key nor a part of its hash', () => {
    const hash = hashKey(generateKey());
    const id = keyIdOf(hash);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(hash).not.toContain(id);
    expect(keyIdOf(hash)).toBe(id);
  });
});
