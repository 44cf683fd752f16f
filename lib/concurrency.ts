/** Runs `fn` over `items` with at most `limit` in flight; settles every item, in order. */
export async function mapSettled<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** At most `limit` holders at once; the others wait in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

interface Task<T> {
  work: () => Promise<T>;
  /** Present when the task may be replaced by a newer one while it waits: gives its result from the newer one's. */
  settle?: (winner: T) => T;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  /** Older tasks this one replaced: settled from its result when it succeeds. */
  replaced: Task<T>[];
}

/**
 * Work on one key at a time, in arrival order; different keys run at once. A replaceable task that is still waiting
 * when a newer replaceable task of the same key arrives is not run: it is settled from the newer one's result once
 * that succeeds (as if it had run just before it and been overwritten at once), or runs after all if that fails.
 * For one process's own concurrent writes of one post, which would otherwise only collide in the store and retry.
 */
export class KeyedQueue<T = unknown> {
  private readonly queues = new Map<string, Task<T>[]>();

  /** Runs `work` after the key's earlier tasks; never replaced. */
  run<R extends T>(key: string, work: () => Promise<R>): Promise<R> {
    return this.enqueue(key, { work, replaced: [] }) as Promise<R>;
  }

  /** Runs `work` after the key's earlier tasks, unless a newer replaceable task replaces it; `settle` then gives its result. */
  runReplaceable(key: string, work: () => Promise<T>, settle: (winner: T) => T): Promise<T> {
    return this.enqueue(key, { work, settle, replaced: [] });
  }

  private enqueue(key: string, fields: Omit<Task<T>, 'resolve' | 'reject'>): Promise<T> {
    const queue = this.queues.get(key) ?? [];
    const promise = new Promise<T>((resolve, reject) => {
      const task: Task<T> = { ...fields, resolve, reject };
      const waiting = queue.length > 1 ? queue.at(-1) : undefined; // the head is running
      if (task.settle && waiting?.settle) {
        queue.pop();
        task.replaced.push(...waiting.replaced, waiting);
        waiting.replaced = [];
      }
      queue.push(task);
    });
    this.queues.set(key, queue);
    if (queue.length === 1) void this.drain(key, queue);
    return promise;
  }

  private async drain(key: string, queue: Task<T>[]): Promise<void> {
    while (queue.length > 0) {
      const task = queue[0]!;
      try {
        const result = await task.work();
        task.resolve(result);
        for (const old of task.replaced) old.resolve(old.settle!(result));
      } catch (error) {
        task.reject(error);
        // What it replaced was never written: it runs after all, next.
        queue.splice(1, 0, ...task.replaced);
      }
      queue.shift();
    }
    this.queues.delete(key);
  }
}
