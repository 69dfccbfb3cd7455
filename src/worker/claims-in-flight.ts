// The claims a worker has proposed and not yet seen decided (worker.ts), by job and then task index.
// Why not one map keyed by a `task\0job` string: the claim scan asks, for every ready task it reads
// (hundreds per turn, many turns a second), whether this node has a claim in flight for it, and
// building and hashing a string per question was a quarter of the scan's time.
import type { JobId, TaskRef } from '../scheduler/types.js';

export class ClaimsInFlight<V> {
  private readonly byJob = new Map<JobId, Map<number, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(ref: TaskRef): boolean {
    return this.byJob.get(ref.job)?.has(ref.task) === true;
  }

  get(ref: TaskRef): V | undefined {
    return this.byJob.get(ref.job)?.get(ref.task);
  }

  set(ref: TaskRef, value: V): void {
    let tasks = this.byJob.get(ref.job);
    if (tasks === undefined) {
      tasks = new Map();
      this.byJob.set(ref.job, tasks);
    }
    if (!tasks.has(ref.task)) this.count++;
    tasks.set(ref.task, value);
  }

  delete(ref: TaskRef): boolean {
    const tasks = this.byJob.get(ref.job);
    if (tasks === undefined || !tasks.delete(ref.task)) return false;
    this.count--;
    if (tasks.size === 0) this.byJob.delete(ref.job);
    return true;
  }

  /** Deletes every claim `drop` picks. */
  deleteWhere(drop: (value: V) => boolean): void {
    for (const [job, tasks] of this.byJob) {
      for (const [task, value] of tasks) {
        if (!drop(value)) continue;
        tasks.delete(task);
        this.count--;
      }
      if (tasks.size === 0) this.byJob.delete(job);
    }
  }

  /** Deletes the claims for tasks [start, end) of `job`. */
  deleteRange(job: JobId, start: number, end: number): void {
    const tasks = this.byJob.get(job);
    if (tasks === undefined) return;
    for (const task of tasks.keys()) {
      if (task < start || task >= end) continue;
      tasks.delete(task);
      this.count--;
    }
    if (tasks.size === 0) this.byJob.delete(job);
  }

  *values(): Generator<V> {
    for (const tasks of this.byJob.values()) yield* tasks.values();
  }

  clear(): void {
    this.byJob.clear();
    this.count = 0;
  }
}
