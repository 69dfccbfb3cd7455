// Bounded waiting on a condition. The node's state changes in its Ready loop, between which a
// short poll costs next to nothing; every wait has a deadline, so nothing hangs.
import type { Clock } from '../worker/types.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves true as soon as `cond()` holds, false when `timeoutMs` passes first. */
export async function waitFor(cond: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/**
 * waitFor on a clock's timers, answering through `done` (true as soon as `cond()` holds, false at
 * the deadline): what runs on injected timers uses it, so the simulator drives it on its own
 * agenda (which runs no promise continuations).
 */
export function pollUntil(clock: Pick<Clock, 'now' | 'after'>, cond: () => boolean, timeoutMs: number, done: (held: boolean) => void, intervalMs = 20): void {
  const deadline = clock.now() + timeoutMs;
  const look = (): void => {
    if (cond()) return done(true);
    const left = deadline - clock.now();
    if (left <= 0) return done(false);
    clock.after(Math.min(intervalMs, Math.max(1, left)), look);
  };
  look();
}
