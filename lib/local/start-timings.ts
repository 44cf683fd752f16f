/**
 * Where the time of `feedpub start --timings` goes: each phase with its start and end, in milliseconds since this
 * Node process started (performance.timeOrigin), so that loading the code counts too. Phases that run at once
 * overlap in the listing.
 */
export class StartTimings {
  private readonly phases: { name: string; from: number; to: number }[] = [];

  /** Runs `work` as the phase `name`. */
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const from = performance.now();
    try {
      return await work();
    } finally {
      this.phases.push({ name, from, to: performance.now() });
    }
  }

  /** A phase that ended now and began at `from` (a performance.now() reading; 0 is the process's start). */
  record(name: string, from: number): void {
    this.phases.push({ name, from, to: performance.now() });
  }

  format(): string {
    const ms = (n: number) => String(Math.round(n)).padStart(6);
    const rows = [...this.phases].sort((a, b) => a.from - b.from || a.to - b.to);
    return ['start-up, ms since the process started:', ...rows.map((p) => `${ms(p.from)} → ${ms(p.to)}  ${ms(p.to - p.from)}  ${p.name}`)].join('\n');
  }
}
