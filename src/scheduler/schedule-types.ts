// The vocabulary of schedules in the replicated state machine (docs/schedules.md): what a schedule
// is once validated, the commands that change it and fire its ticks, the effects they have and the
// view the API and the schedule keeper read. Pure data; the rules are in schedules.ts.
import type { Cadence } from '../schedule/cadence.js';
import type { JobId, JobSpec, JobState, Ms } from './types.js';

export type OverlapPolicy = 'allow' | 'forbid' | 'replace';
export type CatchupPolicy = 'none' | 'latest' | 'all';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['allow', 'forbid', 'replace'];
export const CATCHUP_POLICIES: readonly CatchupPolicy[] = ['none', 'latest', 'all'];

/** A schedule as the log holds it: validated by the front end and checked again on apply. */
export interface ScheduleSpec {
  /** Letters, digits, `_`, `.`, `-`; 1 to 128 characters. */
  readonly name: string;
  readonly cadence: Cadence;
  /** IANA name; cron fields are read in it. */
  readonly timezone: string;
  readonly overlap: OverlapPolicy;
  readonly catchup: CatchupPolicy;
  readonly paused: boolean;
  /** Environment for every task of every run (over the DAG's own `env`). */
  readonly params: Readonly<Record<string, string>>;
  /** The DAG each run submits. */
  readonly dag: JobSpec;
}

/** One (schedule, tick) a node believes is due; the log decides (docs/schedules.md §3). */
export interface FireItem {
  readonly schedule: string;
  readonly tick: Ms;
}

/** What a schedule change command asks; `request` names the API call that waits for the answer. */
export type ScheduleCommand =
  /**
   * `at` is the proposer's clock when it proposed: ticks count from the later of it and the entry's
   * cluster time, which a new cluster's first entries do not carry yet (docs/architecture.md §6).
   */
  | { readonly type: 'schedule-put'; readonly request: string; readonly spec: ScheduleSpec; readonly at: Ms }
  | { readonly type: 'schedule-delete'; readonly request: string; readonly name: string }
  /** `at` as for a put (only a resume uses it). */
  | { readonly type: 'schedule-pause'; readonly request: string; readonly name: string; readonly paused: boolean; readonly at: Ms }
  /** A run now, outside the cadence; `id` is the job id the proposer drew. */
  | { readonly type: 'schedule-trigger'; readonly request: string; readonly name: string; readonly id: JobId }
  /** Due ticks, as the proposer saw them; every replica decides them the same way at this log position. */
  | { readonly type: 'fire'; readonly items: readonly FireItem[] };

export type TickOutcome = 'fired' | 'skipped' | 'missed';

export type ScheduleEffect =
  /** The answer to a schedule command: what changed, and for a trigger the job it started. */
  | {
      readonly type: 'schedule-changed';
      readonly request: string;
      readonly name: string;
      readonly change: 'created' | 'replaced' | 'deleted' | 'paused' | 'resumed' | 'triggered';
      readonly job: JobId | null;
    }
  /** The command was refused: `code` says which HTTP answer fits (404 unknown, 409 conflict, 400 invalid). */
  | {
      readonly type: 'schedule-refused';
      readonly request: string;
      readonly name: string;
      readonly code: 'not-found' | 'conflict' | 'invalid';
      readonly error: string;
    }
  /**
   * A tick was decided at scheduler time `at`: fired (the job started), skipped by the overlap
   * policy (forbid while a run is active), or missed (too late, per catchup). `count` ticks from
   * `tick` up to `lastTick` for missed runs of more than one tick; 1 otherwise.
   */
  | {
      readonly type: 'schedule-tick';
      readonly schedule: string;
      readonly tick: Ms;
      readonly outcome: TickOutcome;
      readonly job: JobId | null;
      readonly at: Ms;
      readonly count: number;
      readonly lastTick: Ms;
    };

/** Where a job started by a schedule came from. */
export interface JobOrigin {
  readonly schedule: string;
  /** The tick it runs for; for a trigger, the scheduler time of the trigger. */
  readonly tick: Ms;
  readonly triggered: boolean;
}

/** One run of a schedule, as GET /v1/schedules/{name} lists it. */
export interface ScheduleRun {
  readonly tick: Ms;
  readonly job: JobId;
  /** The job's state, or null once the job left the state (its retention ended). */
  readonly state: JobState | null;
  /** Started by a trigger, not by the cadence. */
  readonly triggered: boolean;
}

export interface ScheduleView {
  readonly name: string;
  readonly cadence: Cadence;
  readonly timezone: string;
  readonly overlap: OverlapPolicy;
  readonly catchup: CatchupPolicy;
  readonly paused: boolean;
  readonly params: Readonly<Record<string, string>>;
  readonly createdAt: Ms;
  /** Every tick at or before this is decided (fired, skipped or missed). */
  readonly decidedUntil: Ms;
  /** The next tick to decide, or null (paused, or a cron expression that never matches again). */
  readonly nextAt: Ms | null;
  /** Recent runs, newest first (at most MAX_RECENT_RUNS). */
  readonly runs: readonly ScheduleRun[];
  readonly fired: number;
  readonly skipped: number;
  readonly missed: number;
}

/** Runs kept per schedule for the view. */
export const MAX_RECENT_RUNS = 20;
/** catchup: all fires at most this many missed ticks per decision (the newest); older ones are missed. */
export const CATCHUP_ALL_MAX = 100;
/** A tick decided later than this after its time is late: under catchup none it is missed. */
export const ON_TIME_MS: Ms = 60_000;
/** Ticks looked at one by one in one decision; past it the rest up to now are counted missed in one step. */
export const MAX_TICKS_SCANNED = 10_000;
/** Schedules the state holds at most. */
export const MAX_SCHEDULES = 10_000;
export const SCHEDULE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
export const MAX_PARAMS = 256;
