import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../lib/concurrency.js';

const later = <T>(value: T, ms = 5) => new Promise<T>((r) => setTimeout(() => r(value), ms));

describe('KeyedQueue', () => {
  it('runs the work of one key one at a time, in arrival order, and of other keys at once', async () => {
    const queue = new KeyedQueue<string>();
    const log: string[] = [];
    const task = (key: string, name: string) => queue.run(key, async () => (log.push(`start ${name}`), await later(name), log.push(`end ${name}`), name));
    await Promise.all([task('a', 'a1'), task('a', 'a2'), task('b', 'b1')]);
    expect(log).toEqual(['start a1', 'start b1', 'end a1', 'start a2', 'end b1', 'end a2']);
  });

  it('settles waiting replaceable work from the newest, which alone runs', async () => {
    const queue = new KeyedQueue<string>();
    const ran: string[] = [];
    const replaceable = (name: string) => queue.runReplaceable('k', async () => (ran.push(name), later(name)), (winner) => `${name} superseded by ${winner}`);
    const results = await Promise.all([replaceable('first'), replaceable('second'), replaceable('third'), replaceable('fourth')]);
    expect(ran).toEqual(['first', 'fourth']);
    expect(results).toEqual(['first', 'second superseded by fourth', 'third superseded by fourth', 'fourth']);
  });

  it('runs the work a failed one replaced, after it', async () => {
    const queue = new KeyedQueue<string>();
    const ran: string[] = [];
    const first = queue.runReplaceable('k', async () => (ran.push('first'), later('first')), () => 'x');
    const second = queue.runReplaceable('k', async () => (ran.push('second'), later('second')), (w) => `second after ${w}`);
    const third = queue.runReplaceable('k', async () => {
      ran.push('third');
      throw new Error('third failed');
    }, () => 'x');
    await expect(third).rejects.toThrow('third failed');
    expect([await first, await second]).toEqual(['first', 'second']);
    expect(ran).toEqual(['first', 'third', 'second']);
  });

  it('never replaces work queued without being replaceable', async () => {
    const queue = new KeyedQueue<string>();
    const ran: string[] = [];
    const head = queue.run('k', async () => (ran.push('head'), later('head')));
    const fixed = queue.run('k', async () => (ran.push('fixed'), later('fixed')));
    const newest = queue.runReplaceable('k', async () => (ran.push('newest'), later('newest')), () => 'x');
    expect(await Promise.all([head, fixed, newest])).toEqual(['head', 'fixed', 'newest']);
    expect(ran).toEqual(['head', 'fixed', 'newest']);
  });
});
