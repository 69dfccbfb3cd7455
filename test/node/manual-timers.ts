// Timer ports for tests of what takes its timers injected (the Raft driver, the time keeper), and
// a store that completes its writes on them.
import type { RaftPersistence } from '../../src/node/driver.js';

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

/** A store whose synced writes become durable `ms` later on `timers` (the driver only calls then() on what save returns). */
export function storeOn(timers: ManualTimers, ms = 0): RaftPersistence {
  return {
    save(_update, opts) {
      const done: PromiseLike<void> = {
        then(ok) {
          if (opts?.sync !== false) timers.after(ms, () => void ok?.());
          return done as never;
        },
      };
      return done;
    },
  };
}
