// Bounded waiting on a condition, for tests of real nodes. The node's state changes in its Ready loop, between which a
// short poll costs next to nothing; every wait has a deadline, so nothing hangs.

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
