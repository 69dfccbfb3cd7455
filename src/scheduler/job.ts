// One job's tasks, stored as a struct of typed arrays (one column per field, one row per task)
// so a 1,000,000-task sharded job costs tens of bytes per task instead of an object each.
// Rarely-set fields (output tails, pending timers, why a spec was skipped) live in side maps.
//
// Readiness is incremental and per SPEC: all shards of a spec share its deps, so `pending[s]`
// counts the tasks of s's deps that have not succeeded yet. A success costs one decrement per
// direct dependent spec; a spec whose counter reaches 0 readies all its (waiting) shards at once.
import { at, known } from '../invariant.js';
import { taskName } from './task-names.js';
import type { Timer } from './timers.js';
import type { JobId, JobSpec, JobState, Ms, TaskSpec, TaskState } from './types.js';

/** Task states as stored in the `state` column. */
export const T = { waiting: 0, ready: 1, running: 2, succeeded: 3, failed: 4, skipped: 5 } as const;
export type TaskStateCode = (typeof T)[keyof typeof T];
export const TASK_STATE_NAMES: readonly TaskState[] = ['waiting', 'ready', 'running', 'succeeded', 'failed', 'skipped'];

/**
 * Why a task is in its state, as stored in the `reason` column; `upstream` is spelled from the
 * spec's entry in `upstreamFailure`.
 */
export const R = { none: 0, leaseExpired: 1, holderRestarted: 2, timeout: 3, cancelled: 4, upstream: 5, attemptFailed: 6, retry: 7 } as const;
export type ReasonCode = (typeof R)[keyof typeof R];
const REASON_TEXT: readonly (string | null)[] = [null, 'lease expired', 'holder restarted', 'timeout', 'cancelled', null, 'attempt failed', 'retry'];
export const MAX_REASON: number = REASON_TEXT.length - 1;

/** Sentinel of the nullable number columns (times, fence, duration): no value. */
export const NONE = -1;
/** Sentinel of the exit code column: exit codes are 32-bit (signed or not), so 2^32 is never one. */
export const NO_EXIT = 2 ** 32;

export interface Tails {
  readonly stdout: string;
  readonly stderr: string;
}

export class Job {
  state: JobState = 'running';
  finishedAt: Ms | null = null;
  /** Per-state task counts, kept up to date by setState (never by rescanning). */
  readonly counts: number[] = [0, 0, 0, 0, 0, 0];
  readonly size: number;

  // The spec graph: specStart[s] .. specStart[s+1] are spec s's tasks; dependents in compressed rows.
  readonly specStart: Int32Array;
  readonly depOffsets: Int32Array;
  readonly depTargets: Int32Array;
  readonly dependentOffsets: Int32Array;
  readonly dependentTargets: Int32Array;
  /** Per spec: tasks of its deps that have not succeeded. */
  readonly pending: Int32Array;

  // Task columns.
  readonly tState: Uint8Array;
  /** The fencing attempt number: grows with every accepted claim. */
  readonly attempt: Uint32Array;
  /** Failed attempts, which decide retries (lease expiries are not failures). */
  readonly failures: Uint8Array;
  /** Index into nodeNames of the latest claim's node, -1 before any. */
  readonly holder: Int32Array;
  readonly fence: Float64Array;
  readonly startedAt: Float64Array;
  readonly finishedAtCol: Float64Array;
  readonly exitCode: Float64Array;
  readonly durationMs: Float64Array;
  readonly reason: Uint8Array;
  /** The ready-queue range a ready task belongs to (see ready-queue.ts). */
  readonly readySeq: Float64Array;

  /** Node ids that claimed tasks of this job: the holder column points here, so the global node table can forget nodes. */
  readonly nodeNames: string[] = [];
  private readonly nodeIndex = new Map<string, number>();
  /** Non-empty output tails of finished attempts. */
  readonly tails = new Map<number, Tails>();
  /** Per task: its retry (waiting) or timeout (running) timer. */
  readonly timers = new Map<number, Timer>();
  removalTimer: Timer | null = null;
  /** Per spec skipped because an upstream task failed: that task's full name. */
  readonly upstreamFailure = new Map<number, string>();

  constructor(
    /** Unique for the life of the state (ids can be reused once a job is removed). */
    readonly serial: number,
    readonly id: JobId,
    readonly key: string | null,
    readonly spec: JobSpec,
    readonly submittedAt: Ms,
  ) {
    const specs = spec.tasks;
    const n = specs.length;
    this.specStart = new Int32Array(n + 1);
    const index = new Map<string, number>();
    let total = 0;
    let edges = 0;
    for (let s = 0; s < n; s++) {
      const t = at(specs, s, 'a spec');
      index.set(t.name, s);
      this.specStart[s] = total;
      total += t.shards ?? 1;
      edges += t.deps.length;
    }
    this.specStart[n] = total;
    this.size = total;

    this.depOffsets = new Int32Array(n + 1);
    this.depTargets = new Int32Array(edges);
    const dependentCount = new Int32Array(n + 1);
    let e = 0;
    for (let s = 0; s < n; s++) {
      this.depOffsets[s] = e;
      for (const d of at(specs, s, 'a spec').deps) {
        // checkJobSpec guarantees every dep names another spec of the job.
        const target = known(index.get(d), 'checkJobSpec: every dep names a spec');
        this.depTargets[e++] = target;
        dependentCount[target + 1] = at(dependentCount, target + 1, 'a spec (offsets)') + 1;
      }
    }
    this.depOffsets[n] = e;
    for (let s = 0; s < n; s++) dependentCount[s + 1] = at(dependentCount, s + 1, 'a spec (offsets)') + at(dependentCount, s, 'a spec (offsets)');
    this.dependentOffsets = dependentCount;
    this.dependentTargets = new Int32Array(edges);
    const fill = dependentCount.slice(0, n);
    for (let s = 0; s < n; s++) {
      for (let k = at(this.depOffsets, s, 'a spec (offsets)'); k < at(this.depOffsets, s + 1, 'a spec (offsets)'); k++) {
        const target = at(this.depTargets, k, 'an edge');
        const slot = at(fill, target, 'a spec (offsets)');
        fill[target] = slot + 1;
        this.dependentTargets[slot] = s;
      }
    }
    this.pending = new Int32Array(n);

    this.tState = new Uint8Array(total);
    this.attempt = new Uint32Array(total);
    this.failures = new Uint8Array(total);
    this.holder = new Int32Array(total).fill(-1);
    this.fence = new Float64Array(total).fill(NONE);
    this.startedAt = new Float64Array(total).fill(NONE);
    this.finishedAtCol = new Float64Array(total).fill(NONE);
    this.exitCode = new Float64Array(total).fill(NO_EXIT);
    this.durationMs = new Float64Array(total).fill(NONE);
    this.reason = new Uint8Array(total);
    this.readySeq = new Float64Array(total);
    this.recount();
  }

  /** Counts and pending counters from the state column: after a submit (all waiting) or a restore. */
  recount(): void {
    this.counts.fill(0);
    for (const state of this.tState) this.counts[state] = at(this.counts, state, 'a state code') + 1;
    const notSucceeded = new Int32Array(this.spec.tasks.length);
    for (let s = 0; s < notSucceeded.length; s++) {
      let k = 0;
      for (let t = at(this.specStart, s, 'a spec (specStart)'); t < at(this.specStart, s + 1, 'a spec (specStart)'); t++) if (this.tState[t] !== T.succeeded) k++;
      notSucceeded[s] = k;
    }
    for (let s = 0; s < notSucceeded.length; s++) {
      let p = 0;
      for (let k = at(this.depOffsets, s, 'a spec (offsets)'); k < at(this.depOffsets, s + 1, 'a spec (offsets)'); k++) p += at(notSucceeded, at(this.depTargets, k, 'an edge'), 'a spec');
      this.pending[s] = p;
    }
  }

  get finalCount(): number {
    return at(this.counts, T.succeeded, 'a state code') + at(this.counts, T.failed, 'a state code') + at(this.counts, T.skipped, 'a state code');
  }

  /** Changes a task's state code, keeping the counts; returns the previous one. */
  setState(task: number, to: TaskStateCode): TaskStateCode {
    const from = at(this.tState, task, 'a task') as TaskStateCode;
    this.counts[from] = at(this.counts, from, 'a state code') - 1;
    this.counts[to] = at(this.counts, to, 'a state code') + 1;
    this.tState[task] = to;
    return from;
  }

  specOf(task: number): number {
    // Binary search for the last spec starting at or before `task`.
    let lo = 0;
    let hi = this.spec.tasks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (at(this.specStart, mid, 'a spec (specStart)') <= task) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  taskSpec(task: number): TaskSpec {
    return at(this.spec.tasks, this.specOf(task), 'a spec');
  }

  /** The shard number of a task of a sharded spec, else null. */
  shardOf(task: number, spec = this.specOf(task)): number | null {
    return at(this.spec.tasks, spec, 'a spec').shards === null ? null : task - at(this.specStart, spec, 'a spec (specStart)');
  }

  taskName(task: number): string {
    const s = this.specOf(task);
    return taskName(at(this.spec.tasks, s, 'a spec').name, this.shardOf(task, s));
  }

  holderName(task: number): string | null {
    const h = at(this.holder, task, 'a task');
    return h < 0 ? null : at(this.nodeNames, h, 'a holder');
  }

  /** The index of `node` in nodeNames, added when new. */
  nodeSlot(node: string): number {
    let i = this.nodeIndex.get(node);
    if (i === undefined) {
      i = this.nodeNames.length;
      this.nodeNames.push(node);
      this.nodeIndex.set(node, i);
    }
    return i;
  }

  /** True when `task` is held (latest claim) by `node`; does not add the node. */
  heldBy(task: number, node: string): boolean {
    const h = at(this.holder, task, 'a task');
    return h >= 0 && this.nodeIndex.get(node) === h;
  }

  reasonText(task: number): string | null {
    const code = at(this.reason, task, 'a task');
    if (code === R.upstream) return `upstream failed: ${this.upstreamFailure.get(this.specOf(task)) ?? '?'}`;
    return REASON_TEXT[code] ?? null;
  }

  /** The handler a task needs, or null for `run` tasks. */
  static handlerOf(spec: TaskSpec): string | null {
    return spec.exec.kind === 'handler' ? spec.exec.name : null;
  }
}

export function reasonText(code: ReasonCode): string | null {
  return REASON_TEXT[code] ?? null;
}
