import { describe, expect, it } from 'vitest';
import { signatureHeader } from '../../lib/hub/signature.js';

describe('signatureHeader', () => {
  // RFC 4231, test case 2: https://www.rfc-editor.org/rfc/rfc4231#section-4.3
  it('is sha256= and the hex HMAC-SHA256 of the body keyed with the secret (RFC 4231 vector)', () => {
    expect(signatureHeader(Buffer.from('what do ya want for nothing?'), 'Jefe')).toBe('sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('signs the bytes as they are, not a re-encoding of them', () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in Latin-1: not UTF-8
    expect(signatureHeader(latin1, 'Jefe')).not.toBe(signatureHeader(Buffer.from('café', 'utf8'), 'Jefe'));
  });
});
