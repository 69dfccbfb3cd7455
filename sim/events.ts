import { at } from '../src/invariant.js';
/**
 * The simulator's clock and agenda: a binary min-heap of callbacks ordered by (time, sequence).
 * The sequence number breaks ties in scheduling order, so two runs from one seed execute events
 * in exactly the same order; nothing here reads a real clock.
 */
export interface SimEvent {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private nextSeq = 0;
  /** Simulated time in integer milliseconds. */
  now = 0;
  /** Events executed so far. */
  executed = 0;

  /** Run `fn` after `delay` ms (rounded down, never negative). */
  after(delay: number, fn: () => void): void {
    this.at(this.now + Math.max(0, Math.floor(delay)), fn);
  }

  at(time: number, fn: () => void): void {
    if (time < this.now) throw new Error(`event scheduled in the past: ${time} < ${this.now}`);
    const ev: SimEvent = { time, seq: this.nextSeq++, run: fn };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = at(h, p, 'a heap position');
      if (!before(ev, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = ev;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Time of the next event, or Infinity when the agenda is empty. */
  peekTime(): number {
    return this.heap[0]?.time ?? Infinity;
  }

  /** Advance the clock to the next event and run it; false when nothing is left. */
  step(): boolean {
    const ev = this.pop();
    if (!ev) return false;
    this.now = ev.time;
    this.executed++;
    ev.run();
    return true;
  }

  private pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as SimEvent;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(at(h, r, 'a heap position'), at(h, l, 'a heap position')) ? r : l;
        const child = at(h, c, 'a heap position');
        if (!before(child, last)) break;
        h[i] = child;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
