// The worker's clock in a real process: milliseconds since the epoch as of the process start,
// advanced by the monotonic clock, so it reads like the wall clock (scheduler time, the voters'
// median wall clock, compares with it) but never jumps: the worker counts its lease from local
// readings, and a wall clock set back an hour mid-run must not stretch a lease it is counting.
// And timers. A zero delay
// means "next turn of the event loop" (setImmediate), not setTimeout's minimum of 1 ms; `soon` is a
// microtask: the worker's turn (its batched finishes and claims) runs once the code that finished
// tasks or applied entries is done, without waiting for another turn of the event loop.
import { performance } from 'node:perf_hooks';
import type { Clock, Timer } from '../worker/types.js';

export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  after: (ms, fn): Timer => {
    if (ms <= 0) {
      const h = setImmediate(fn);
      return { cancel: () => clearImmediate(h) };
    }
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  soon: (fn): Timer => {
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) fn();
    });
    return { cancel: () => (cancelled = true) };
  },
};

/**
 * systemClock for what must not keep the process alive by itself (the Raft driver's tick and read
 * timeouts, the time keeper): delayed timers are unref'd. A zero delay is still the next turn of the
 * event loop (setImmediate), which holds the process only until it has run.
 */
export const backgroundClock: Clock = {
  now: () => systemClock.now(),
  after: (ms, fn): Timer => {
    if (ms <= 0) return systemClock.after(0, fn);
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};
