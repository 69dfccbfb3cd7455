// The zero-overhead yardstick of the workflow benchmark (issue 16): the makespan a greedy list
// scheduler reaches on `slots` identical slots when starting, finishing and readying tasks cost
// nothing. Ready tasks go in order of bottom level (the longest run-time path from the task to
// the end, its own time included; ties by name), the usual critical-path-first priority
// (HLFET). Pure: the DAG and the slot count in, figures out.
import type { Dag } from './dags.js';

export interface ListSchedule {
  /** When the last task ends, starting at 0. */
  readonly makespanMs: number;
  /** The longest run-time path: no schedule on any number of slots is shorter. */
  readonly criticalPathMs: number;
  /** Every task's run time added up. */
  readonly workMs: number;
  /** max(critical path, work / slots): no schedule on these slots is shorter. */
  readonly lowerBoundMs: number;
}

/** A task's run time: a `sleep` task's `args.ms`, 0 for anything else (`noop`). */
function runMs(dag: Dag, name: string): number {
  return dag.tasks[name]?.args?.ms ?? 0;
}

export function listSchedule(dag: Dag, slots: number): ListSchedule {
  if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`listSchedule: slots must be an integer >= 1, got ${slots}`);
  const names = Object.keys(dag.tasks).sort();
  const index = new Map(names.map((n, i) => [n, i]));
  const ms = names.map((n) => runMs(dag, n));
  const children: number[][] = names.map(() => []);
  const pending = names.map(() => 0);
  names.forEach((name, i) => {
    const spec = dag.tasks[name];
    if ((spec?.shards ?? 1) !== 1) throw new RangeError(`listSchedule: task ${name} has shards; expand them into tasks first`);
    for (const dep of new Set(spec?.deps ?? [])) {
      const d = index.get(dep);
      if (d === undefined) throw new RangeError(`listSchedule: task ${name} depends on unknown task ${dep}`);
      children[d]?.push(i);
      pending[i] = (pending[i] ?? 0) + 1;
    }
  });
  const bottom = bottomLevels(topologicalOrder(children, pending), children, ms);
  const byPriority = (a: number, b: number): number => (bottom[b] ?? 0) - (bottom[a] ?? 0) || a - b;
  const ready = new Heap<number>(byPriority);
  pending.forEach((p, i) => p === 0 && ready.push(i));
  const running = new Heap<{ task: number; end: number }>((a, b) => a.end - b.end || a.task - b.task);
  let now = 0;
  let free = slots;
  for (;;) {
    while (free > 0) {
      const t = ready.pop();
      if (t === undefined) break;
      running.push({ task: t, end: now + (ms[t] ?? 0) });
      free--;
    }
    const first = running.pop();
    if (first === undefined) break;
    now = first.end;
    // Everything that ends now is released before the free slots are filled again.
    for (let r: typeof first | undefined = first; r !== undefined; r = running.peek()?.end === now ? running.pop() : undefined) {
      free++;
      for (const c of children[r.task] ?? []) if ((pending[c] = (pending[c] ?? 0) - 1) === 0) ready.push(c);
    }
  }
  const workMs = ms.reduce((a, b) => a + b, 0);
  const criticalPathMs = bottom.reduce((a, b) => Math.max(a, b), 0);
  return { makespanMs: now, criticalPathMs, workMs, lowerBoundMs: Math.max(criticalPathMs, workMs / slots) };
}

/** Kahn's order; a DAG with a cycle is refused. `pending` (dependencies per task) is read, not changed. */
function topologicalOrder(children: readonly (readonly number[])[], pending: readonly number[]): number[] {
  const left = pending.slice();
  const order: number[] = [];
  left.forEach((p, i) => p === 0 && order.push(i));
  for (let k = 0; k < order.length; k++) {
    for (const c of children[order[k] ?? -1] ?? []) if ((left[c] = (left[c] ?? 0) - 1) === 0) order.push(c);
  }
  if (order.length !== children.length) throw new RangeError('listSchedule: the DAG has a cycle');
  return order;
}

function bottomLevels(order: readonly number[], children: readonly (readonly number[])[], ms: readonly number[]): number[] {
  const bottom = ms.map(() => 0);
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k] ?? 0;
    bottom[t] = (ms[t] ?? 0) + (children[t] ?? []).reduce((longest, c) => Math.max(longest, bottom[c] ?? 0), 0);
  }
  return bottom;
}

/** A binary min-heap under `before` (negative: a goes first). */
class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly before: (a: T, b: T) => number) {}

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.swapIfBefore(i, parent)) break;
      i = parent;
    }
  }

  peek(): T | undefined {
    return this.items[0];
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < a.length && this.cmp(l, best) < 0) best = l;
      if (r < a.length && this.cmp(r, best) < 0) best = r;
      if (best === i) return top;
      this.swapIfBefore(best, i);
      i = best;
    }
  }

  private cmp(i: number, j: number): number {
    return this.before(this.items[i] as T, this.items[j] as T);
  }

  /** Swaps items i and j when i goes before j; says whether it did. */
  private swapIfBefore(i: number, j: number): boolean {
    if (this.cmp(i, j) >= 0) return false;
    const a = this.items;
    [a[i], a[j]] = [a[j] as T, a[i] as T];
    return true;
  }
}
