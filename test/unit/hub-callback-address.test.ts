import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addressPolicy, CallbackRefused, isPublicAddress, resolveCallback, type Resolver } from '../../lib/hub/callback-address.js';
import { CallbackClient, CallbackTimeout } from '../../lib/hub/callback-client.js';

describe('isPublicAddress', () => {
  it.each([
    ['0.0.0.0', 'this network'],
    ['10.1.2.3', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['172.31.255.255', 'RFC 1918'],
    ['192.168.0.10', 'RFC 1918'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'instance metadata (link-local)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'instance metadata (unique-local)'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['0:0:0:0:0:ffff:a00:1', 'IPv4-mapped 10.0.0.1, uncompressed'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::ffff:0.0.0.0', 'IPv4-mapped 0.0.0.0'],
    ['::127.0.0.1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 of 169.254.169.254'],
    ['2002:c0a8:101::1', '6to4 of 192.168.1.1'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['localhost', 'not an address'],
  ])('refuses %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])(
    'allows %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('resolveCallback', () => {
  const resolver = (answers: Record<string, string[]>): Resolver => async (host) =>
    (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const strict = addressPolicy(false);

  it('returns the address to pin a public name to', async () => {
    expect(await resolveCallback(new URL('https://reader.example/cb'), strict, resolver({ 'reader.example': ['93.184.216.34'] }))).toEqual({ address: '93.184.216.34', family: 4 });
  });

  it('refuses a name with any private address among its public ones', async () => {
    const refusal = resolveCallback(new URL('https://mixed.example/cb'), strict, resolver({ 'mixed.example': ['93.184.216.34', '10.0.0.1'] }));
    await expect(refusal).rejects.toThrow(CallbackRefused);
    await expect(refusal).rejects.toMatchObject({ rule: 'public_address' });
  });

  it('refuses a name that resolves to a mapped IPv6 loopback', async () => {
    await expect(resolveCallback(new URL('https://sneaky.example/cb'), strict, resolver({ 'sneaky.example': ['::ffff:127.0.0.1'] }))).rejects.toMatchObject({ rule: 'public_address' });
  });

  it('refuses a name that does not resolve', async () => {
    await expect(resolveCallback(new URL('https://nowhere.example/cb'), strict, resolver({}))).rejects.toMatchObject({ rule: 'resolvable' });
  });

  it('refuses a name that takes longer than the timeout to resolve', async () => {
    const slow: Resolver = () => new Promise(() => undefined);
    await expect(resolveCallback(new URL('https://slow.example/cb'), strict, slow, 50)).rejects.toMatchObject({ rule: 'resolvable', message: expect.stringMatching(/within 50 ms/) });
  });

  it('checks IP literals without resolving them', async () => {
    const never: Resolver = () => Promise.reject(new Error('resolved'));
    await expect(resolveCallback(new URL('http://[::1]:8080/cb'), strict, never)).rejects.toMatchObject({ rule: 'public_address' });
    expect(await resolveCallback(new URL('http://[::1]:8080/cb'), addressPolicy(true), never)).toEqual({ address: '::1', family: 6 });
  });
});

describe('CallbackClient', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const listen = (host: string, port: number, name: string, hits: string[]) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer((req, res) => {
        hits.push(name);
        res.end(name);
      });
      servers.push(server);
      server.once('error', reject).listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });

  it('connects to the address it checked, whatever a second resolution answers (DNS rebinding)', async () => {
    // "public" stands for the address the check saw; the name then rebinds to an internal one on the same port.
    const hits: string[] = [];
    const port = await listen('127.0.0.1', 0, 'public', hits);
    await listen('127.0.0.2', port, 'internal', hits);
    let lookups = 0;
    const rebinding: Resolver = async () => [{ address: lookups++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    const client = new CallbackClient({ policy: (address) => address === '127.0.0.1', timeoutMs: 2000, resolve: rebinding });
    try {
      const first = await client.send({ method: 'GET', url: `http://rebind.test:${port}/cb` });
      expect(first.body.toString()).toBe('public');
      // The next request resolves again, is told 127.0.0.2, and is refused before connecting anywhere.
      await expect(client.send({ method: 'GET', url: `http://rebind.test:${port}/cb` })).rejects.toThrow(CallbackRefused);
      expect(hits).toEqual(['public']);
      expect(lookups).toBe(2);
    } finally {
      client.close();
    }
  });

  it('gives up on a callback that does not answer within the timeout', async () => {
    const server = createServer(() => undefined);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = new CallbackClient({ policy: () => true, timeoutMs: 200 });
    try {
      const started = Date.now();
      await expect(client.send({ method: 'POST', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, body: Buffer.from('x') })).rejects.toThrow(CallbackTimeout);
      expect(Date.now() - started).toBeLessThan(1500);
    } finally {
      client.close();
    }
  });

  it('reads an answer up to its limit and says it was cut', async () => {
    const port = await listen('127.0.0.1', 0, 'a long answer', []);
    const client = new CallbackClient({ policy: () => true, timeoutMs: 2000 });
    try {
      const response = await client.send({ method: 'GET', url: `http://127.0.0.1:${port}/`, maxResponseBytes: 6 });
      expect([response.status, response.body.toString(), response.truncated]).toEqual([200, 'a long', true]);
    } finally {
      client.close();
    }
  });
});
