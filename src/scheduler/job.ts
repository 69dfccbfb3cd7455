// One job's tasks, stored as a struct of typed arrays (one column per field, one row per task)
// so a 1,000,000-task sharded job costs tens of bytes per task instead of an object each.
// Rarely-set fields (output tails, pending timers, why a spec was skipped) live in side maps.
//
// Readiness is incremental and per SPEC: all shards of a spec share its deps and trigger rule, so
// per spec the job counts how many tasks of its deps ended each way (upSucceeded, upFailed,
// upSkipped, out of upTotal). A result costs one increment per direct dependent spec; when the
// spec's rule decides (trigger-rules.ts), all its (waiting) shards become ready or skipped at once.
import { at } from '../invariant.js';
import type { AttemptRec } from './attempts.js';
import { taskName } from './task-names.js';
import type { JobOrigin } from './schedule-types.js';
import { DEFAULT_TRIGGER, type TriggerRule, type UpstreamCounts, type UpstreamOutcome } from './trigger-rules.js';
import type { Timer } from './timers.js';
import type { JobId, JobSpec, JobState, Ms, TaskSpec, TaskState } from './types.js';

/** Task states as stored in the `state` column. */
export const T = { waiting: 0, ready: 1, running: 2, succeeded: 3, failed: 4, skipped: 5 } as const;
export type TaskStateCode = (typeof T)[keyof typeof T];
export const TASK_STATE_NAMES: readonly TaskState[] = ['waiting', 'ready', 'running', 'succeeded', 'failed', 'skipped'];

export function isFinalCode(s: number): boolean {
  return s >= T.succeeded;
}

/**
 * Why a task is in its state, as stored in the `reason` column; `upstream` (skipped because of a
 * failure upstream: its dependents see a failure) and `trigger` (skipped because its trigger rule
 * can no longer hold: its dependents see a skip) are spelled from the spec's entry in `skipCause`.
 */
export const R = {
  none: 0,
  leaseExpired: 1,
  holderRestarted: 2,
  timeout: 3,
  cancelled: 4,
  upstream: 5,
  attemptFailed: 6,
  retry: 7,
  trigger: 8,
  jobTimeout: 9,
} as const;
export type ReasonCode = (typeof R)[keyof typeof R];
const REASON_TEXT: readonly (string | null)[] = [
  null,
  'lease expired',
  'holder restarted',
  'timeout',
  'cancelled',
  null,
  'attempt failed',
  'retry',
  null,
  'job timeout',
];
export const MAX_REASON: number = REASON_TEXT.length - 1;

/** Sentinel of the nullable number columns (times, fence, duration): no value. */
export const NONE = -1;
/** Sentinel of the exit code column: exit codes are 32-bit (signed or not), so 2^32 is never one. */
export const NO_EXIT = 2 ** 32;

export interface Tails {
  readonly stdout: string;
  readonly stderr: string;
}

/** What a snapshot in progress needs to hear before task columns change (task-freeze.ts). */
export interface TaskChangeWatch {
  save(start: number, end: number): void;
}

/** A job's dependency rows by spec position, when its builder has them already (staging.ts). */
export interface JobGraph {
  readonly depOffsets: Int32Array;
  readonly depTargets: Int32Array;
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
  /** Per spec: tasks of its deps (every shard of a sharded dep), and how many of them ended each way. */
  readonly upTotal: Int32Array;
  readonly upSucceeded: Int32Array;
  readonly upFailed: Int32Array;
  readonly upSkipped: Int32Array;

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
  /** Non-empty outputs committed with successful finishes (outputs.ts). */
  readonly outputs = new Map<number, string>();
  /** Per task: its attempts that ended without success, oldest first (attempts.ts). */
  readonly history = new Map<number, AttemptRec[]>();
  /**
   * Specs with tasks a re-run put back to waiting while their rule waits for upstream tasks that
   * re-run too (reruns.ts). Derived state: findRedo rebuilds it after a restore.
   */
  readonly redo = new Set<number>();
  /** Per task: its retry (waiting) or timeout (running) timer. */
  readonly timers = new Map<number, Timer>();
  removalTimer: Timer | null = null;
  /** Armed while the job runs, when its spec has a timeout. */
  timeoutTimer: Timer | null = null;
  /** It ended `failed` because its own timeout ran out. */
  timedOut = false;
  /**
   * Per skipped spec: with reason `upstream`, the full name of the failed task upstream; with
   * reason `trigger`, the whole reason text.
   */
  readonly skipCause = new Map<number, string>();
  /** The schedule and tick that started it (docs/schedules.md §3); null for a submitted job. */
  origin: JobOrigin | null = null;
  /** Set while a sliced snapshot encodes this job: told before any task column or tail changes. */
  freeze: TaskChangeWatch | null = null;

  constructor(
    /** Unique for the life of the state (ids can be reused once a job is removed). */
    readonly serial: number,
    readonly id: JobId,
    readonly key: string | null,
    readonly spec: JobSpec,
    readonly submittedAt: Ms,
    /** The spec's dependency rows, when the caller built them already; else built here from the names. */
    graph?: JobGraph,
  ) {
    const specs = spec.tasks;
    const n = specs.length;
    this.specStart = new Int32Array(n + 1);
    let total = 0;
    for (let s = 0; s < n; s++) {
      this.specStart[s] = total;
      total += (specs[s] as TaskSpec).shards ?? 1;
    }
    this.specStart[n] = total;
    this.size = total;

    const rows = graph ?? dependencyRows(specs);
    this.depOffsets = rows.depOffsets;
    this.depTargets = rows.depTargets;
    const edges = rows.depTargets.length;
    const dependentCount = new Int32Array(n + 1);
    for (let k = 0; k < edges; k++) {
      const target = this.depTargets[k] as number;
      dependentCount[target + 1] = at(dependentCount, target + 1, 'a spec (offsets)') + 1;
    }
    for (let s = 0; s < n; s++) dependentCount[s + 1] = (dependentCount[s + 1] as number) + (dependentCount[s] as number);
    this.dependentOffsets = dependentCount;
    this.dependentTargets = new Int32Array(edges);
    const fill = dependentCount.slice(0, n);
    for (let s = 0; s < n; s++) {
      for (let k = this.depOffsets[s] as number; k < (this.depOffsets[s + 1] as number); k++) {
        const target = this.depTargets[k] as number;
        this.dependentTargets[(fill[target] as number)++] = s;
      }
    }
    this.upTotal = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      let total = 0;
      for (let k = this.depOffsets[s] as number; k < (this.depOffsets[s + 1] as number); k++)
        total += this.specSize(this.depTargets[k] as number);
      this.upTotal[s] = total;
    }
    this.upSucceeded = new Int32Array(n);
    this.upFailed = new Int32Array(n);
    this.upSkipped = new Int32Array(n);

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

  /** Counts and upstream counters from the state and reason columns: after a submit (all waiting) or a restore. */
  recount(): void {
    this.counts.fill(0);
    for (let t = 0; t < this.size; t++) (this.counts[this.tState[t] as number] as number)++;
    const n = this.spec.tasks.length;
    const ended = { succeeded: new Int32Array(n), failed: new Int32Array(n), skipped: new Int32Array(n) };
    for (let s = 0; s < n; s++) {
      for (let t = this.specStart[s] as number; t < (this.specStart[s + 1] as number); t++) {
        const outcome = this.outcomeOf(t);
        if (outcome !== null) (ended[outcome][s] as number)++;
      }
    }
    for (let s = 0; s < n; s++) {
      let succeeded = 0;
      let failed = 0;
      let skipped = 0;
      for (let k = this.depOffsets[s] as number; k < (this.depOffsets[s + 1] as number); k++) {
        const d = this.depTargets[k] as number;
        succeeded += ended.succeeded[d] as number;
        failed += ended.failed[d] as number;
        skipped += ended.skipped[d] as number;
      }
      this.upSucceeded[s] = succeeded;
      this.upFailed[s] = failed;
      this.upSkipped[s] = skipped;
    }
  }

  specSize(spec: number): number {
    return (this.specStart[spec + 1] as number) - (this.specStart[spec] as number);
  }

  /** A final task's outcome as its dependents' trigger rules see it (trigger-rules.ts); null while it is not final. */
  outcomeOf(task: number): UpstreamOutcome | null {
    const st = this.tState[task];
    if (st === T.succeeded) return 'succeeded';
    if (st === T.failed) return 'failed';
    if (st === T.skipped) return this.reason[task] === R.upstream ? 'failed' : 'skipped';
    return null;
  }

  triggerOf(spec: number): TriggerRule {
    return this.spec.tasks[spec]?.trigger ?? DEFAULT_TRIGGER;
  }

  upstreamCounts(spec: number): UpstreamCounts {
    return {
      total: this.upTotal[spec] as number,
      succeeded: this.upSucceeded[spec] as number,
      failed: this.upFailed[spec] as number,
      skipped: this.upSkipped[spec] as number,
    };
  }

  /**
   * Whether the spec's trigger rule has not decided yet: its tasks were never readied nor skipped,
   * or a re-run put some of them back to wait for it (`redo`).
   */
  undecided(spec: number): boolean {
    const first = this.specStart[spec] as number;
    return (this.tState[first] === T.waiting && this.attempt[first] === 0) || this.redo.has(spec);
  }

  /**
   * Rebuilds `redo` from the task columns and timers (after a restore): a spec with a waiting task
   * that no retry timer holds waits for its rule. That also finds never-decided specs, which
   * `undecided` counts as undecided anyway, so the answer is the same as on the replica that applied.
   */
  findRedo(): void {
    this.redo.clear();
    const specs = this.spec.tasks.length;
    for (let s = 0; s < specs; s++) {
      for (let t = this.specStart[s] as number; t < (this.specStart[s + 1] as number); t++) {
        if (this.tState[t] === T.waiting && !this.timers.has(t)) {
          this.redo.add(s);
          break;
        }
      }
    }
  }

  get finalCount(): number {
    return (this.counts[T.succeeded] as number) + (this.counts[T.failed] as number) + (this.counts[T.skipped] as number);
  }

  /**
   * Tasks [start, end) are about to change (a column or the output tails): every write to them
   * calls this first, so that a snapshot being encoded in slices keeps what they were.
   */
  willChange(start: number, end = start + 1): void {
    if (this.freeze !== null) this.freeze.save(start, end);
  }

  /** Changes a task's state code, keeping the counts; returns the previous one. */
  setState(task: number, to: TaskStateCode): TaskStateCode {
    this.willChange(task);
    const from = this.tState[task] as TaskStateCode;
    (this.counts[from] as number)--;
    (this.counts[to] as number)++;
    this.tState[task] = to;
    return from;
  }

  specOf(task: number): number {
    // Binary search for the last spec starting at or before `task`.
    let lo = 0;
    let hi = this.spec.tasks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.specStart[mid] as number) <= task) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  taskSpec(task: number): TaskSpec {
    return this.spec.tasks[this.specOf(task)] as TaskSpec;
  }

  /** The shard number of a task of a sharded spec, else null. */
  shardOf(task: number, spec = this.specOf(task)): number | null {
    return (this.spec.tasks[spec] as TaskSpec).shards === null ? null : task - (this.specStart[spec] as number);
  }

  taskName(task: number): string {
    const s = this.specOf(task);
    return taskName((this.spec.tasks[s] as TaskSpec).name, this.shardOf(task, s));
  }

  holderName(task: number): string | null {
    const h = this.holder[task] as number;
    return h < 0 ? null : (this.nodeNames[h] as string);
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
    const h = this.holder[task] as number;
    return h >= 0 && this.nodeIndex.get(node) === h;
  }

  reasonText(task: number): string | null {
    const code = this.reason[task] as number;
    if (code === R.upstream) return `upstream failed: ${this.skipCause.get(this.specOf(task)) ?? '?'}`;
    if (code === R.trigger) return this.skipCause.get(this.specOf(task)) ?? 'trigger rule cannot be met';
    return REASON_TEXT[code] ?? null;
  }

  /** The handler a task needs, or null for `run` tasks. */
  static handlerOf(spec: TaskSpec): string | null {
    return spec.exec.kind === 'handler' ? spec.exec.name : null;
  }
}

/** Each spec's deps as positions, in compressed rows; checkJobSpec guarantees every dep names another spec. */
function dependencyRows(specs: readonly TaskSpec[]): JobGraph {
  const n = specs.length;
  const index = new Map<string, number>();
  let edges = 0;
  for (let s = 0; s < n; s++) {
    const t = specs[s] as TaskSpec;
    index.set(t.name, s);
    edges += t.deps.length;
  }
  const depOffsets = new Int32Array(n + 1);
  const depTargets = new Int32Array(edges);
  let e = 0;
  for (let s = 0; s < n; s++) {
    depOffsets[s] = e;
    for (const d of (specs[s] as TaskSpec).deps) depTargets[e++] = index.get(d) as number;
  }
  depOffsets[n] = e;
  return { depOffsets, depTargets };
}

export function reasonText(code: ReasonCode): string | null {
  return REASON_TEXT[code] ?? null;
}
