// The state machine's deadlines: node leases, retry backoffs, task timeouts and finished-job
// removals, in one indexed binary min-heap. Each timer knows its position, so re-arming (a lease
// renewed by every heartbeat, claim and finish) or cancelling (a task that finished before its
// timeout) is O(log n) and the heap never holds stale entries: nextDeadline() is exact, and the
// snapshot can list the live timers as they are.
//
// Order: deadline, then `seq`, a counter drawn when the timer is (re)armed. Every replica arms
// timers in the same order, so ties break the same way everywhere, and the snapshot keeps `seq`
// so a restored replica breaks them the same way too.
import type { Ms } from './types.js';

export const TimerKind = {
  /** A node's lease (it holds tasks): expires at leaseUntil + 1, the first ms past it. */
  lease: 0,
  /** A failed task's backoff ends: waiting -> ready. */
  retry: 1,
  /** Safety net for a running task whose holder never reports: startedAt + timeout + grace. */
  timeout: 2,
  /** A finished job leaves the state. */
  removal: 3,
  /** A running job's own `timeout` (docs/dag-file.md §2): it ends failed. */
  jobTimeout: 4,
} as const;
export type TimerKind = (typeof TimerKind)[keyof typeof TimerKind];

export interface Timer {
  readonly kind: TimerKind;
  /** The node id (lease), or the job's serial number (the others). */
  readonly owner: string | number;
  /** The task index for retry and timeout timers, else -1. */
  readonly task: number;
  deadline: Ms;
  seq: number;
  /** Index in the heap array; -1 once it left the heap. */
  pos: number;
}

export class TimerHeap {
  private readonly heap: Timer[] = [];
  /** The next `seq`; part of the snapshot. */
  nextSeq = 1;

  get size(): number {
    return this.heap.length;
  }

  peek(): Timer | undefined {
    return this.heap[0];
  }

  /** A new timer, armed now. */
  add(kind: TimerKind, owner: string | number, task: number, deadline: Ms): Timer {
    const t: Timer = { kind, owner, task, deadline, seq: this.nextSeq++, pos: this.heap.length };
    this.heap.push(t);
    this.up(t.pos);
    return t;
  }

  /** A timer as it was in a snapshot (its seq is kept; nextSeq is restored separately). */
  restore(kind: TimerKind, owner: string | number, task: number, deadline: Ms, seq: number): Timer {
    const t: Timer = { kind, owner, task, deadline, seq, pos: this.heap.length };
    this.heap.push(t);
    this.up(t.pos);
    return t;
  }

  /** Re-arms `t` for a new deadline: it counts as created now for the tie-break. */
  reschedule(t: Timer, deadline: Ms): void {
    if (t.pos < 0) throw new Error('scheduler bug: rescheduling a timer that is not armed');
    t.deadline = deadline;
    t.seq = this.nextSeq++;
    this.down(t.pos);
    this.up(t.pos);
  }

  remove(t: Timer): void {
    const i = t.pos;
    if (i < 0) return;
    const last = this.heap.pop() as Timer;
    t.pos = -1;
    if (last === t) return;
    this.heap[i] = last;
    last.pos = i;
    this.down(i);
    this.up(last.pos);
  }

  /** Removes and returns the earliest timer if it is due at `now`. */
  popDue(now: Ms): Timer | undefined {
    const top = this.heap[0];
    if (top === undefined || top.deadline > now) return undefined;
    this.remove(top);
    return top;
  }

  /** All timers in firing order (for the snapshot). */
  sorted(): Timer[] {
    return [...this.heap].sort(compare);
  }

  private up(i: number): void {
    const heap = this.heap;
    const t = heap[i] as Timer;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Timer;
      if (compare(p, t) <= 0) break;
      heap[i] = p;
      p.pos = i;
      i = parent;
    }
    heap[i] = t;
    t.pos = i;
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const t = heap[i] as Timer;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && compare(heap[r] as Timer, heap[l] as Timer) < 0) c = r;
      const child = heap[c] as Timer;
      if (compare(child, t) >= 0) break;
      heap[i] = child;
      child.pos = i;
      i = c;
    }
    heap[i] = t;
    t.pos = i;
  }
}

function compare(a: Timer, b: Timer): number {
  return a.deadline - b.deadline || a.seq - b.seq;
}
