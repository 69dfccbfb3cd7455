// The ready tasks of all jobs, in claim order: priority descending, then the order in which they
// became ready (FIFO within a priority).
//
// Tasks become ready a spec at a time (all shards of a spec when its deps are done) or one at a
// time (a retry, a lease expiry), so the queue holds RANGES of task indices rather than one entry
// per task: a 1,000,000-shard spec is one range. Each range gets a sequence number, written into
// the `readySeq` column of its tasks; a task in [start, end) belongs to the range only while it is
// ready and carries that number, so a task that left (claimed) and came back (lease expired) is
// counted once, in its newer range. Ranges keep a live count and drop out of their priority's
// list when it reaches 0; their ends are trimmed past departed tasks, so iteration skips little.
import { at } from '../invariant.js';
import { T, type Job } from './job.js';
import type { Ms } from './types.js';

export interface ReadyRange {
  readonly job: Job;
  readonly spec: number;
  start: number;
  end: number;
  readonly seq: number;
  readonly readyAt: Ms;
  /** Tasks in [start, end) that are ready with this range's seq. */
  live: number;
  prev: ReadyRange | null;
  next: ReadyRange | null;
  readonly level: Level;
}

interface Level {
  readonly priority: number;
  head: ReadyRange | null;
  tail: ReadyRange | null;
}

export class ReadyQueue {
  /** Non-empty levels, highest priority first. */
  private readonly levels: Level[] = [];
  private readonly byPriority = new Map<number, Level>();
  private readonly bySeq = new Map<number, ReadyRange>();
  /** Ready tasks in all ranges. */
  count = 0;
  /** The next range's seq; part of the snapshot. */
  nextSeq = 1;

  /**
   * Appends tasks [start, end) of `spec` (the caller has set their state to ready), or restores a
   * range from a snapshot when `seq` is given. Returns the range's live count (0 only on restore,
   * when no task matched: a sign of corrupt data).
   */
  push(job: Job, spec: number, start: number, end: number, readyAt: Ms, seq?: number): number {
    const level = this.levelFor(job.spec.tasks[spec]?.priority ?? 0);
    const restoring = seq !== undefined;
    const s = seq ?? this.nextSeq++;
    const range: ReadyRange = { job, spec, start, end, seq: s, readyAt, live: 0, prev: level.tail, next: null, level };
    if (restoring) {
      for (let t = start; t < end; t++) if (job.tState[t] === T.ready && job.readySeq[t] === s) range.live++;
      if (range.live === 0) {
        this.dropLevelIfEmpty(level);
        return 0;
      }
    } else {
      job.willChange(start, end);
      for (let t = start; t < end; t++) job.readySeq[t] = s;
      range.live = end - start;
    }
    if (level.tail) level.tail.next = range;
    else level.head = range;
    level.tail = range;
    this.bySeq.set(s, range);
    this.count += range.live;
    return range.live;
  }

  /** `task` of `job` was ready and no longer is (the caller changed its state first). */
  leave(job: Job, task: number): void {
    const range = this.bySeq.get(at(job.readySeq, task, 'a task'));
    if (range === undefined || range.job !== job) throw new Error(`scheduler bug: ready task ${job.id}/${task} is in no ready range`);
    this.count--;
    if (--range.live === 0) {
      this.unlink(range);
      return;
    }
    while (range.start < range.end && !isLive(range, range.start)) range.start++;
    while (range.end > range.start && !isLive(range, range.end - 1)) range.end--;
  }

  /**
   * Takes every range of `job` out at once, for when all its ready tasks leave together (cancel):
   * O(ranges in the queue) instead of one leave() per task. The caller changes their states.
   */
  dropJob(job: Job): void {
    for (const level of [...this.levels]) {
      for (let r = level.head; r !== null;) {
        const next: ReadyRange | null = r.next;
        if (r.job === job) {
          this.count -= r.live;
          this.unlink(r);
        }
        r = next;
      }
    }
  }

  /**
   * Ready tasks in claim order, lazily, each as `make` builds it from its range and index. `make`
   * rather than a yielded { range, task } that the caller maps in a generator of its own: the claim
   * scan reads up to thousands of tasks per turn, many turns a second, and one generator with no
   * wrapper object per task costs less.
   */
  *tasks<R>(make: (range: ReadyRange, task: number) => R): Generator<R> {
    for (const level of this.levels) {
      for (let r = level.head; r !== null; r = r.next) {
        for (let t = r.start; t < r.end; t++) if (isLive(r, t)) yield make(r, t);
      }
    }
  }

  /** Every range, in claim order (for the snapshot). */
  ranges(): ReadyRange[] {
    const out: ReadyRange[] = [];
    for (const level of this.levels) for (let r = level.head; r !== null; r = r.next) out.push(r);
    return out;
  }

  /** The range with this seq, if it still holds ready tasks. */
  range(seq: number): ReadyRange | undefined {
    return this.bySeq.get(seq);
  }

  private unlink(range: ReadyRange): void {
    const level = range.level;
    if (range.prev) range.prev.next = range.next;
    else level.head = range.next;
    if (range.next) range.next.prev = range.prev;
    else level.tail = range.prev;
    range.prev = range.next = null;
    this.bySeq.delete(range.seq);
    this.dropLevelIfEmpty(level);
  }

  private levelFor(priority: number): Level {
    let level = this.byPriority.get(priority);
    if (level) return level;
    level = { priority, head: null, tail: null };
    this.byPriority.set(priority, level);
    // Few distinct priorities in practice: a linear insertion keeps the list sorted.
    const i = this.levels.findIndex((l) => l.priority <= priority);
    this.levels.splice(i === -1 ? this.levels.length : i, 0, level);
    return level;
  }

  private dropLevelIfEmpty(level: Level): void {
    if (level.head !== null) return;
    this.byPriority.delete(level.priority);
    this.levels.splice(this.levels.indexOf(level), 1);
  }
}

function isLive(r: ReadyRange, t: number): boolean {
  return r.job.tState[t] === T.ready && r.job.readySeq[t] === r.seq;
}
