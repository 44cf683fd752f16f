import { LeaseLost, type FeedStateRepository } from '../store/ports.js';

/**
 * A regeneration lease while it is held: renewed every third of its length, so a live holder never loses it to a
 * slow render, and given up the moment a renewal fails. Writes made under it check `valid()` first and carry its
 * abort signal, so that a holder that lost its lease stops writing.
 */
export class HeldLease {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private validUntil: number;
  private lost = false;

  constructor(
    private readonly state: FeedStateRepository,
    private readonly documentId: string,
    private readonly owner: string,
    private readonly leaseMs: number,
    /** Test hook: runs before each renewal (a renewal that never returns is a holder that stalled). */
    private readonly beforeRenew: () => Promise<void> = async () => undefined,
  ) {
    this.validUntil = Date.now() + leaseMs;
    this.timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(10, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Throws LeaseLost unless the lease is known to be held for at least `marginMs` more. */
  valid(marginMs = 0): void {
    if (this.lost || Date.now() + marginMs >= this.validUntil) {
      this.giveUp();
      throw new LeaseLost(`The lease of ${this.documentId} ran out`);
    }
  }

  /** Renews now; throws LeaseLost when the lease is not this holder's any more. */
  async renew(): Promise<void> {
    if (this.lost) throw new LeaseLost(`The lease of ${this.documentId} was lost`);
    const asked = Date.now();
    await this.beforeRenew();
    if (!(await this.state.renew(this.documentId, this.owner, this.leaseMs))) {
      this.giveUp();
      throw new LeaseLost(`The lease of ${this.documentId} was taken over`);
    }
    // Counted from when the renewal was asked for, not answered: the holder never believes in more than it has.
    this.validUntil = asked + this.leaseMs;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private giveUp(): void {
    this.lost = true;
    this.stop();
    this.controller.abort(new LeaseLost(`The lease of ${this.documentId} was lost`));
  }
}
