// The worker's clock in a real process: wall-clock milliseconds (the same clock that stamps the
// leader's entries, so local lease deadlines and scheduler time compare), and timers. A zero delay
// means "next turn of the event loop" (setImmediate), not setTimeout's minimum of 1 ms; `soon` is a
// microtask: the worker's turn (its batched finishes and claims) runs once the code that finished
// tasks or applied entries is done, without waiting for another turn of the event loop.
import type { Clock, Timer } from '../worker/types.js';

export const systemClock: Clock = {
  now: () => Date.now(),
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
