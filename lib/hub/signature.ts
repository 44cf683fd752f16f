import { createHmac } from 'node:crypto';

/**
 * The X-Hub-Signature of a delivery: the HMAC-SHA256 of exactly the body's bytes, keyed with the subscriber's
 * hub.secret (https://www.w3.org/TR/websub/#signing-content).
 */
export function signatureHeader(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`;
}
