// Timer ports for tests of what takes its timers injected (the Raft driver, the time keeper).

/** A hand-cranked timer port: callbacks run only when the test advances it, in (time, order) order. */
export class ManualTimers {
  now = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void; live: boolean }[] = [];

  after(ms: number, fn: () => void): { cancel(): void } {
    const e = { at: this.now + Math.max(0, ms), seq: this.seq++, fn, live: true };
    this.queue.push(e);
    return { cancel: () => (e.live = false) };
  }

  /** Run everything due up to `until`, including what those callbacks schedule. */
  advanceTo(until: number): void {
    for (;;) {
      this.queue = this.queue.filter((e) => e.live);
      this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const e = this.queue[0];
      if (!e || e.at > until) break;
      this.queue.shift();
      this.now = e.at;
      e.fn();
    }
    this.now = until;
  }
}
