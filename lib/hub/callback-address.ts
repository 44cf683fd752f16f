import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a callback must not reach unless private callbacks are allowed: everything but the global unicast
 * internet (IPv6: only 2000::/3, and IPv4 forms decided by their IPv4), after the IANA special-purpose registries (https://www.iana.org/assignments/iana-ipv4-special-registry,
 * https://www.iana.org/assignments/iana-ipv6-special-registry). Instance metadata (169.254.169.254,
 * fd00:ec2::254) falls in link-local and unique-local.
 */
const NOT_PUBLIC_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, instance metadata
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relays
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];
const NOT_PUBLIC_V6: [string, number][] = [
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
];

const blocked = new BlockList();
for (const [net, bits] of NOT_PUBLIC_V4) blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of NOT_PUBLIC_V6) blocked.addSubnet(net, bits, 'ipv6');
/**
 * IPv6 outside these is never public: ::1, ::, fc00::/7 (unique-local; fd00:ec2::254 is instance metadata),
 * fe80::/10 (link-local), ff00::/8 (multicast), 64:ff9b:1::/48 (local NAT64) and the rest of the unassigned space.
 * IPv4-mapped and NAT64 addresses stand for an IPv4 address, which decides.
 */
const globalV6 = new BlockList();
globalV6.addSubnet('2000::', 3, 'ipv6');
const IPV4_FORMS: [string, number][] = [['::ffff:0:0', 96], ['64:ff9b::', 96]];
const ipv4Forms = new BlockList();
for (const [net, bits] of IPV4_FORMS) ipv4Forms.addSubnet(net, bits, 'ipv6');

/** The 16 bytes of an IPv6 address (dotted IPv4 tail allowed), or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  const head = dotted ? address.slice(0, -dotted.length) + '0:0' : address;
  const [left, right] = head.includes('::') ? head.split('::') : [head, undefined];
  const words = (s: string | undefined) => (s ? s.split(':').filter((w) => w !== '') : []);
  const l = words(left);
  const r = words(right);
  const all = [...l, ...Array<string>(right === undefined ? 0 : 8 - l.length - r.length).fill('0'), ...r].map((w) => parseInt(w, 16));
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (dotted) bytes.splice(12, 4, ...dotted.split('.').map(Number));
  return bytes.length === 16 ? bytes : undefined;
}

/**
 * The IPv4 address an IPv6 address stands for or carries (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4
 * 2002::/16), whose own range decides: ::ffff:127.0.0.1 is loopback, 2002:a00:1:: reaches 10.0.0.1.
 */
export function embeddedIpv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return b.slice(12, 16).join('.');
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12)) return b.slice(12, 16).join('.');
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join('.');
  return undefined;
}

/** Whether an IP address is on the global internet (not private, loopback, link-local, reserved ...). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined && !isPublicAddress(v4)) return false;
  if (v4 !== undefined && ipv4Forms.check(address, 'ipv6')) return true;
  return globalV6.check(address, 'ipv6') && !blocked.check(address, 'ipv6');
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Name resolution, injectable so that tests can play DNS rebinding. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));

/** Which addresses callbacks may reach. */
export type AddressPolicy = (address: string) => boolean;

export const addressPolicy = (allowPrivateCallbacks: boolean): AddressPolicy => (allowPrivateCallbacks ? () => true : isPublicAddress);

/** A callback whose host is not allowed (or does not resolve): nothing was sent to it. */
export class CallbackRefused extends Error {
  override name = 'CallbackRefused';
  constructor(
    readonly rule: 'public_address' | 'resolvable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The one address a request to this URL connects to, checked against the policy. Every address the name resolves
 * to must pass (a name with one private address among public ones is refused), and the request is then pinned to
 * the first, so that a second resolution (DNS rebinding) can never send it elsewhere. A name that takes longer than
 * `timeoutMs` to resolve is refused: neither the API nor a delivery slot waits on a subscriber's DNS.
 */
export async function resolveCallback(url: URL, policy: AddressPolicy, resolve: Resolver = systemResolver, timeoutMs = 5_000): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CallbackRefused('resolvable', `${host} did not resolve within ${timeoutMs} ms`)), timeoutMs);
    });
    addresses = await Promise.race([resolve(host), late])
      .catch((error: unknown) => {
        throw error instanceof CallbackRefused ? error : new CallbackRefused('resolvable', `${host} does not resolve`, { cause: error });
      })
      .finally(() => clearTimeout(timer));
  }
  if (addresses.length === 0) throw new CallbackRefused('resolvable', `${host} does not resolve`);
  const refused = addresses.find((a) => !policy(a.address));
  if (refused) throw new CallbackRefused('public_address', `${host} resolves to ${refused.address}, which is not a public address`);
  return addresses[0]!;
}
