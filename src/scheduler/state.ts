// Everything the scheduler's state machine holds, as plain data: the rules that change it live in
// machine.ts, the snapshot in snapshot-codec.ts and the read-only views in job-view.ts.
//
// What a snapshot must carry to make a restored replica behave identically: the jobs (spec and
// task columns), the node table, the live timers with their tie-breaking `seq`, the ready ranges
// in queue order, both seq counters, the stats and the clock. Derived data (per-state counts,
// dependency counters, what each node holds, idempotency keys) is rebuilt on restore.
import type { NodeId } from '../raft/types.js';
import type { Job } from './job.js';
import type { ScheduleRec } from './schedules.js';
import { ReadyQueue } from './ready-queue.js';
import type { StagedSubmit } from './staging.js';
import { TimerHeap, type Timer } from './timers.js';
import type { JobId, Labels, Ms, SchedulerStats } from './types.js';

/** Boots of a node's earlier incarnations remembered, so a delayed command from one is recognised as stale. */
export const MAX_RETIRED_BOOTS = 16;

export interface NodeRec {
  readonly id: NodeId;
  boot: number;
  slots: number;
  /** Claims it may hold beyond `slots` (its latest heartbeat's `ahead`): it takes at most slots + ahead. */
  ahead: number;
  handlers: readonly string[];
  handlerSet: ReadonlySet<string>;
  /** From its latest heartbeat, keys in order (placement.ts). */
  labels: Labels;
  leaseMs: Ms;
  /** Its tasks' leases hold up to and including this scheduler time. */
  leaseUntil: Ms;
  heartbeatSeq: number;
  /** Earlier incarnations, oldest first, at most MAX_RETIRED_BOOTS. */
  readonly retired: number[];
  /** Slots taken and tasks held: kept with `held`. */
  used: number;
  running: number;
  /** The running tasks it holds, by job. Iterated only in sorted order (see heldSorted), so insertion order never matters. */
  readonly held: Map<Job, Set<number>>;
  /** Armed while it holds tasks: fires at leaseUntil + 1. */
  leaseTimer: Timer | null;
}

export const NO_LABELS: Labels = Object.freeze({});

export function newNode(id: NodeId, boot: number): NodeRec {
  return {
    id,
    boot,
    slots: 0,
    ahead: 0,
    handlers: [],
    handlerSet: new Set(),
    labels: NO_LABELS,
    leaseMs: 0,
    leaseUntil: 0,
    heartbeatSeq: 0,
    retired: [],
    used: 0,
    running: 0,
    held: new Map(),
    leaseTimer: null,
  };
}

/** The tasks `node` holds, by job serial then task index: the one order every replica uses. */
export function heldSorted(node: NodeRec): { job: Job; task: number }[] {
  const out: { job: Job; task: number }[] = [];
  const jobs = [...node.held.keys()].sort((a, b) => a.serial - b.serial);
  for (const job of jobs) {
    const tasks = [...(node.held.get(job) as Set<number>)].sort((a, b) => a - b);
    for (const task of tasks) out.push({ job, task });
  }
  return out;
}

export const STAT_FIELDS = [
  'applied',
  'undecodable',
  'claimsAccepted',
  'claimsRejected',
  'finishesAccepted',
  'finishesStale',
  'leaseExpiries',
  'retries',
  'jobsRemoved',
] as const satisfies readonly (keyof SchedulerStats)[];

export function emptyStats(): SchedulerStats {
  return {
    applied: 0,
    undecodable: 0,
    claimsAccepted: 0,
    claimsRejected: 0,
    finishesAccepted: 0,
    finishesStale: 0,
    leaseExpiries: 0,
    retries: 0,
    jobsRemoved: 0,
  };
}

export class SchedulerState {
  /** Scheduler time: the largest entry time applied. */
  now: Ms = 0;
  readonly stats: SchedulerStats = emptyStats();
  /** In submit order (Map order), which jobs() keeps. */
  readonly jobs = new Map<JobId, Job>();
  readonly bySerial = new Map<number, Job>();
  /** Idempotency key -> job id, for jobs still in the state. */
  readonly keys = new Map<string, JobId>();
  /** In order of first heartbeat. */
  readonly nodes = new Map<NodeId, NodeRec>();
  readonly timers = new TimerHeap();
  readonly ready = new ReadyQueue();
  nextSerial = 1;
  /** By name, in creation order (docs/schedules.md §3). */
  readonly schedules = new Map<string, ScheduleRec>();
  /**
   * Jobs started by each schedule name that may still run, in start order: derived (rebuilt from
   * the jobs' origins on restore), pruned of ended jobs when read (Schedules.active).
   */
  readonly runningBySchedule = new Map<string, Job[]>();
  /** Pool sizes by name (docs/dag-file.md §14), in the order they were created. */
  readonly pools = new Map<string, number>();
  /**
   * Slots of each pool that running tasks hold: derived (kept by Lifecycle.startRunning and
   * stopRunning, rebuilt from the running tasks on restore). A pool may be named by tasks before
   * it exists; their count is kept all the same, so it is right once the pool is created.
   */
  readonly poolUsed = new Map<string, number>();
  /**
   * Big submits whose parts are arriving (staging.ts), by the job id they will create, in order
   * of their first part: seen by no reader, in the snapshot, at most STAGING_LIMITS.maxStaged.
   */
  readonly staged = new Map<JobId, StagedSubmit>();
}

/** One more (or, with -1, one fewer) running task holds a slot of `pool`. */
export function takePoolSlot(s: SchedulerState, pool: string, delta: 1 | -1): void {
  const used = (s.poolUsed.get(pool) ?? 0) + delta;
  if (used === 0) s.poolUsed.delete(pool);
  else s.poolUsed.set(pool, used);
}
