// The scheduler's vocabulary (docs/architecture.md §3 and §7): the normalised DAG a `submit` carries, the
// commands in the replicated log, the effects applying them has, and the read-only view the API,
// the claim policy and the simulator's checkers use. Nothing here does I/O or reads a clock.
import type { NodeId } from '../raft/types.js';
import type { FireItem, ScheduleCommand, ScheduleEffect, ScheduleView } from './schedule-types.js';
import type { TriggerRule } from './trigger-rules.js';

/** Milliseconds. Scheduler time is the largest leader timestamp among applied entries (docs/architecture.md §6). */
export type Ms = number;
/** Chosen by the node that proposes the submit; the state machine refuses one already taken. */
export type JobId = string;

export type TaskState = 'waiting' | 'ready' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set(['succeeded', 'failed', 'skipped']);

/** JSON values (handler arguments): what survives JSON.stringify/parse unchanged. */
/** Node labels, and a task's `on:` constraint (docs/dag-file.md §14): keys in code-unit order. */
export type Labels = Readonly<Record<string, string>>;

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

/** What a task runs: a shell command (`sh -c`) or a handler registered in the node's process. */
export type TaskExec =
  { readonly kind: 'run'; readonly command: string } | { readonly kind: 'handler'; readonly name: string; readonly args: Json };

/**
 * One entry of the DAG file's `tasks`, validated and with `defaults` applied; durations in ms.
 * A sharded spec (`shards: N`) stands for N tasks `name[0]..name[N-1]`; `shards: null` for one
 * task called `name`.
 */
export interface TaskSpec {
  readonly name: string;
  readonly exec: TaskExec;
  /** Names of other specs in the same job; a sharded dependency means all its shards. */
  readonly deps: readonly string[];
  /** Extra attempts after the first. */
  readonly retries: number;
  /** Delay before the first retry; doubles per retry, capped at MAX_BACKOFF_MS. */
  readonly backoffMs: Ms;
  readonly timeoutMs: Ms;
  /** Higher runs first. */
  readonly priority: number;
  /** How many of a node's slots one task of this spec occupies. */
  readonly slots: number;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | null;
  readonly shards: number | null;
  /** When it may run, from its upstream tasks' outcomes (trigger-rules.ts); absent: all_success, which is never spelled out. */
  readonly trigger?: TriggerRule;
  /** Runs only on a node with all these labels (placement.ts); absent: anywhere. Never present and empty. */
  readonly on?: Labels;
  /** The cluster-wide pool one of whose slots each running task of this spec holds; absent: none. */
  readonly pool?: string;
}

/** A whole DAG, normalised: what `submit` carries and what the state machine re-validates on apply. */
export interface JobSpec {
  readonly name: string;
  /** How long the finished job stays in the state (default 24 h). */
  readonly retentionMs: Ms;
  /** How long the job may run before it is ended `failed` (docs/dag-file.md §2); absent: no limit. */
  readonly timeoutMs?: Ms;
  /** At most this many of its tasks run at once (docs/dag-file.md §14); absent: no limit. */
  readonly concurrency?: number;
  /** In file order; no two with the same name; deps acyclic and known. */
  readonly tasks: readonly TaskSpec[];
}

export const MAX_BACKOFF_MS: Ms = 5 * 60_000;
export const DEFAULT_RETENTION_MS: Ms = 24 * 3_600_000;

/**
 * A task inside a job: its index in the job's flat task list, where specs come in order and a
 * sharded spec's shards are consecutive (spec 0's tasks, then spec 1's, ...).
 */
export interface TaskRef {
  readonly job: JobId;
  readonly task: number;
}

/** How an execution ended, as its executor reports it. */
export type ExecOutcome = 'succeeded' | 'failed' | 'timeout';

/**
 * What a finish reports: an execution's end, or `abandoned`, an attempt its node killed when it
 * could not renew its lease in time and that the scheduler still gave it (docs/architecture.md §9):
 * it goes back to ready without counting a failure, as after a lease expiry.
 */
export type FinishOutcome = ExecOutcome | 'abandoned';

/** Bytes of stdout and of stderr kept with a finish (the tail). */
export const TAIL_BYTES = 4096;

export interface FinishItem extends TaskRef {
  /** The attempt the holder was given by its claim (fencing). */
  readonly attempt: number;
  readonly outcome: FinishOutcome;
  /** null for handlers and for processes killed by a signal. */
  readonly exitCode: number | null;
  readonly durationMs: Ms;
  /** The last TAIL_BYTES of stdout and stderr (cut on a character boundary). */
  readonly stdout: string;
  readonly stderr: string;
  /**
   * What a successful attempt hands its dependents (docs/task-environment.md §7), at most
   * OUTPUT_BYTES; absent: nothing. Refused with any other outcome.
   */
  readonly output?: string;
}

/** Bytes of output one task may hand its dependents (docs/task-environment.md §7). */
export const OUTPUT_BYTES = 64 * 1024;

/**
 * The commands of the replicated log, all under the node envelope's `app` kind. `node` is the
 * proposer's peer id and `boot` the incarnation of its process (a random number drawn at start),
 * so commands from a previous run of the same node are recognised as stale.
 */
export type Command =
  | {
      readonly type: 'submit';
      readonly id: JobId;
      /** Idempotency key: a second submit with a key already known answers with that job. */
      readonly key: string | null;
      readonly spec: JobSpec;
    }
  /**
   * Part `part` (from 0) of `parts` of a big DAG's submit (staging.ts): `spec` is the job's header
   * and this part's slice of the tasks, whose deps may name tasks of other parts. The job `id`
   * exists once the last part applies.
   */
  | {
      readonly type: 'submit-part';
      readonly id: JobId;
      readonly key: string | null;
      readonly part: number;
      readonly parts: number;
      readonly spec: JobSpec;
    }
  | { readonly type: 'claim'; readonly node: NodeId; readonly boot: number; readonly tasks: readonly TaskRef[] }
  | {
      readonly type: 'heartbeat';
      readonly node: NodeId;
      readonly boot: number;
      readonly slots: number;
      /** Handler names this node can run (any node can run `run` tasks). */
      readonly handlers: readonly string[];
      /** This node's leases last this long after its latest heartbeat, claim or finish. */
      readonly leaseMs: Ms;
      /** Counts up per boot: the worker learns which of its heartbeats was applied (NodeView.heartbeatSeq). */
      readonly seq: number;
      /** Its `--label`s (placement.ts); absent: none. */
      readonly labels?: Labels;
      /**
       * Claims it may hold beyond `slots` (0 to `slots`; absent: 0): a node whose tasks are short
       * claims its next ones while its slots are busy, and starts each as a slot frees, so no slot
       * waits for a commit (docs/architecture.md §8).
       */
      readonly ahead?: number;
    }
  | {
      readonly type: 'finish';
      readonly node: NodeId;
      readonly boot: number;
      readonly results: readonly FinishItem[];
      /** Also claim for this node, in the same entry, the dependents these results make ready (up to its free slots). */
      readonly claimNext: boolean;
      /**
       * Then claim these ready tasks for this node, as a `claim` command would, with the slots the
       * results (and claimNext) left: one commit per task instead of two on a busy node, since the
       * slots a result frees are taken again by the same entry. Absent or empty: no claims.
       */
      readonly claims?: readonly TaskRef[];
    }
  | { readonly type: 'cancel'; readonly job: JobId }
  /**
   * Puts tasks of a finished job back to waiting (docs/dag-file.md §13): with `failed`, every task
   * that failed or was skipped for a failure, a cancel or the job's timeout, and the skipped tasks
   * downstream of those; `tasks` names specs (every shard) or shards (`name[3]`); `downstream` adds
   * every task downstream of the named ones. Earlier attempts are kept; attempt numbers go on.
   */
  | RerunCommand
  /** Carries nothing: its entry's timestamp advances the scheduler's clock (leases, backoffs, retention). */
  | { readonly type: 'tick' }
  /** Creates pool `name` or sets its size (0 to MAX_POOL_SIZE; 0 pauses its tasks). */
  | { readonly type: 'pool-set'; readonly name: string; readonly size: number }
  /** Schedules and their ticks (docs/schedules.md §3). */
  | ScheduleCommand;

export interface RerunCommand {
  readonly type: 'rerun';
  readonly job: JobId;
  readonly failed: boolean;
  readonly tasks: readonly string[];
  readonly downstream: boolean;
}

/** Why a re-run was refused: no such job, it still runs, a name it does not know, or nothing to re-run. */
export type RerunRefusal = 'unknown-job' | 'not-finished' | 'unknown-task' | 'nothing';

export type CommandType = Command['type'];

/** A task changed state. `node`, `attempt` and `fence` are those of the task's latest claim (null before any). */
export interface TaskEvent extends TaskRef {
  readonly type: 'task';
  readonly name: string;
  readonly from: TaskState;
  readonly to: TaskState;
  readonly node: NodeId | null;
  readonly attempt: number;
  /** The log index of the accepted claim (MESHRUN_FENCE). */
  readonly fence: number | null;
  /** Why, when it is not the obvious: 'lease expired', 'holder restarted', 'timeout', 'cancelled', 'upstream failed: x'. */
  readonly reason: string | null;
}

/**
 * Many tasks changed state together: tasks `start` .. `end - 1` of `job` (of one spec, or of consecutive specs), each
 * from `from` to `to`. It stands for one TaskEvent per task, which a 1,000,000-shard spec cannot
 * afford; the state machine uses it only for runs of at least RANGE_EVENT_MIN tasks that were
 * never claimed (node null, attempt 0, fence null): a spec becoming ready, skipped or cancelled, or
 * consecutive specs a new job readies together (Lifecycle.readyNew).
 */
export interface TaskRangeEvent {
  readonly type: 'tasks';
  readonly job: JobId;
  readonly start: number;
  readonly end: number;
  readonly from: TaskState;
  readonly to: TaskState;
  readonly reason: string | null;
}

/** Runs of at least this many tasks changing state together are reported as one TaskRangeEvent. */
export const RANGE_EVENT_MIN = 1025;

/**
 * What applying one command did, for whoever watches on this replica: the worker starts what was
 * claimed for it and stops what it must no longer run; the API answers submitters; checkers and
 * the event stream see every change. Identical on every replica for the same entry.
 */
export type Effect =
  | TaskEvent
  | TaskRangeEvent
  | { readonly type: 'job'; readonly job: JobId; readonly state: JobState }
  /** The answer to a submit: `job` is `requested`, or an existing job with the same idempotency key. */
  | { readonly type: 'submitted'; readonly requested: JobId; readonly job: JobId; readonly existing: boolean }
  /**
   * A submit refused. `retry`: not for its DAG but for the moment (a big submit's staging is full,
   * or its earlier parts were dropped): the same submit may succeed later.
   */
  | { readonly type: 'submit-rejected'; readonly requested: JobId; readonly error: string; readonly retry?: true }
  /** A part of a big submit (not its last) was staged; the job does not exist yet. */
  | { readonly type: 'submit-staged'; readonly requested: JobId; readonly part: number; readonly parts: number }
  /** `node` must stop the task's attempt now (cancelled, lease lost, timed out); its result would be ignored. */
  | {
      readonly type: 'stop';
      readonly job: JobId;
      readonly task: number;
      readonly node: NodeId;
      readonly attempt: number;
      readonly reason: string;
    }
  | { readonly type: 'removed'; readonly job: JobId }
  /** The answer to a re-run: how many tasks went back to waiting (the job is running again). */
  | { readonly type: 'rerun'; readonly job: JobId; readonly tasks: number }
  | { readonly type: 'rerun-rejected'; readonly job: JobId; readonly why: RerunRefusal; readonly error: string }
  /** A pool-set was applied: the pool's size now. */
  | { readonly type: 'pool'; readonly name: string; readonly size: number }
  /** A command or part of one had no effect, and why (counted in stats). */
  | { readonly type: 'ignored'; readonly command: CommandType; readonly reason: string }
  /**
   * A live node's claim of one task was refused (taken first, no room...): its worker stops
   * waiting for it at once instead of after its retry period (the task did not change state).
   */
  | { readonly type: 'claim-refused'; readonly node: NodeId; readonly job: JobId; readonly task: number }
  | ScheduleEffect;

/** What a worker needs to launch one claimed task. */
export interface TaskLaunch extends TaskRef {
  readonly jobName: string;
  /** Full name, `transform[3]` for a shard. */
  readonly name: string;
  readonly exec: TaskExec;
  readonly attempt: number;
  readonly fence: number;
  readonly timeoutMs: Ms;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | null;
  readonly shard: number | null;
  readonly shards: number | null;
  readonly slots: number;
  /**
   * Whether other tasks depend on this one, so that its success may ready dependents for a
   * finish's claimNext to take (the worker then leaves its slots to claimNext instead of handing
   * them to claims in the same finish). Absent: unknown, taken as true.
   */
  readonly hasDependents?: boolean;
  /** For a run of a schedule: its name and tick (MESHRUN_SCHEDULE, MESHRUN_TICK). */
  readonly schedule?: string;
  readonly tick?: Ms;
  /**
   * Its upstream tasks' committed outputs by full task name ($MESHRUN_INPUTS,
   * docs/task-environment.md §7): added by the worker when it starts the attempt
   * (SchedulerView.inputs); absent: none.
   */
  readonly inputs?: Readonly<Record<string, string>>;
}

/** A ready task as the claim policy sees it, in the order the ready queue hands them out. */
export interface ReadyTask extends TaskRef {
  readonly priority: number;
  /** Scheduler time when it became ready. */
  readonly readyAt: Ms;
  readonly slots: number;
  /** The handler it needs, or null for a `run` task (any node can run it). */
  readonly handler: string | null;
  /** The labels a node needs to run it; absent: any node. */
  readonly on?: Labels;
  /** The pool it takes a slot of; absent: none. */
  readonly pool?: string;
  /** Its job's `concurrency`; absent: no limit. */
  readonly concurrency?: number;
}

/** A node as the state machine knows it, from its heartbeats. */
export interface NodeView {
  readonly id: NodeId;
  readonly boot: number;
  readonly slots: number;
  /** Claims it may hold beyond its slots (Command heartbeat `ahead`): `used` may reach slots + ahead. */
  readonly ahead: number;
  readonly handlers: readonly string[];
  /** Its labels, from its latest heartbeat. */
  readonly labels: Labels;
  readonly leaseMs: Ms;
  /** Its leases hold until this scheduler time unless renewed. */
  readonly leaseUntil: Ms;
  /** `seq` of the latest applied heartbeat of this boot. */
  readonly heartbeatSeq: number;
  /** Slots taken by tasks it holds. */
  readonly used: number;
  readonly running: number;
}

/** One attempt of a task (docs/http-api.md §6), oldest first in TaskView.attempts. */
export interface AttemptView {
  readonly attempt: number;
  readonly node: NodeId | null;
  readonly startedAt: Ms | null;
  /** null while it runs. */
  readonly finishedAt: Ms | null;
  readonly exitCode: number | null;
  /** The signal that killed its process (SIGTERM, SIGKILL), when one did. */
  readonly signal: string | null;
  /** `lost`: its node's lease ran out, it may still have run to its end unseen. */
  readonly outcome: 'running' | 'succeeded' | 'failed' | 'timeout' | 'lost' | 'cancelled';
  /** Why it ended, when the outcome does not say it all: 'lease expired', 'holder restarted', 'timeout', 'cancelled', ... */
  readonly reason: string | null;
}

export interface TaskView {
  readonly state: TaskState;
  readonly attempt: number;
  readonly node: NodeId | null;
  readonly fence: number | null;
  readonly exitCode: number | null;
  readonly startedAt: Ms | null;
  readonly finishedAt: Ms | null;
  readonly durationMs: Ms | null;
  /** When a failed attempt waits for its backoff: the scheduler time it becomes ready again. */
  readonly retryAt: Ms | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly reason: string | null;
  /** What it handed its dependents (committed with its successful finish); null: nothing. */
  readonly output: string | null;
  /** Its attempts, oldest first: the last 20 (docs/http-api.md §6). */
  readonly attempts: readonly AttemptView[];
}

/**
 * A job with every task keyed by full task name: O(its tasks), so the API never serves it (a
 * 1,000,000-task job would block the node for seconds); tests and the simulator's checkers read it.
 * The API serves JobDetail and pages of TaskItems (docs/http-api.md §6).
 */
export interface JobView {
  readonly id: JobId;
  readonly name: string;
  readonly state: JobState;
  readonly submittedAt: Ms;
  readonly finishedAt: Ms | null;
  /** Why a job ended otherwise than its tasks say: 'job timeout after 10m'; absent or null otherwise. */
  readonly reason?: string | null;
  readonly counts: Readonly<Record<TaskState, number>>;
  /** For a run of a schedule: the schedule's name and the tick (ms since the epoch); absent otherwise. */
  readonly schedule?: string;
  readonly tick?: Ms;
  /** The DAG's shape, spec by spec (a sharded spec's tasks are `name[0]`..): what a graph draws. */
  readonly specs: readonly SpecView[];
  readonly tasks: Readonly<Record<string, TaskView>>;
}

export interface SpecView {
  readonly name: string;
  readonly deps: readonly string[];
  readonly shards: number | null;
}

/** A cluster-wide pool (`GET /v1/pools`): its size and how many of its slots running tasks hold. */
export interface PoolView {
  readonly name: string;
  readonly size: number;
  readonly used: number;
}

export type JobSummary = Omit<JobView, 'tasks' | 'specs'>;

/** One spec of a JobDetail: its shape and how many of its tasks are in each state. */
export interface SpecSummary extends SpecView {
  readonly counts: Readonly<Record<TaskState, number>>;
  /** Of its skipped tasks, those the job's cancel stopped or never ran (reason `cancelled`). */
  readonly cancelled: number;
  /** Why its ready tasks wait with no live node able to run them (runnable.ts); null when none waits so. */
  readonly stuck: string | null;
}

/**
 * `GET /v1/jobs/{id}` (docs/http-api.md §6): the summary and the first page of its specs with their
 * counts, never the tasks; the other specs come from `GET /v1/jobs/{id}/specs?after=<specsNext>`.
 */
export interface JobDetail extends JobSummary {
  /** How many specs the job has (the DAG's size in specs; `counts` sums its tasks). */
  readonly specCount: number;
  /** Of the job's skipped tasks, those its cancel stopped or never ran (reason `cancelled`). */
  readonly cancelled: number;
  /** The first specs, in DAG order: at most the API's default spec page. */
  readonly specs: readonly SpecSummary[];
  /** The cursor of the next spec page (the last spec listed), or null when `specs` holds them all. */
  readonly specsNext: string | null;
}

/** Which specs a spec page holds (docs/http-api.md §6): an optional state filter, the cursor and the page size. */
export interface SpecQuery {
  /** Only specs with at least one task in this state. */
  readonly state?: TaskState;
  /** A spec name: the page starts after it, in DAG order (the `next` of the previous page). */
  readonly after?: string;
  readonly limit: number;
}

/** `GET /v1/jobs/{id}/specs`: specs in DAG order; `next` names the last one when another matching spec follows. */
export interface SpecPage {
  readonly specs: readonly SpecSummary[];
  readonly next: string | null;
}

/** A spec page, or why the query does not fit the job (an unknown cursor). */
export type SpecPageResult = { readonly ok: true; readonly page: SpecPage } | { readonly ok: false; readonly error: string };

/** Ready tasks of one spec that no live node can run, and why (runnable.ts). */
export interface StuckSpec {
  readonly spec: string;
  /** The first of them, by full name, and how many there are. */
  readonly first: string;
  readonly ready: number;
  readonly reason: string;
}

/** `GET /v1/jobs/{id}/summary` (docs/http-api.md §6): what a progress bar polls; small whatever the job's size. */
export interface JobProgress extends JobSummary {
  readonly stuck: readonly StuckSpec[];
}

/** One task as a page lists it: its full name (`transform[3]`) and its view. */
export interface TaskItem extends TaskView {
  readonly name: string;
}

/** Which tasks a page holds (docs/http-api.md §6): the filters, the cursor and the page size. */
export interface TaskQuery {
  readonly state?: TaskState;
  /** A spec's name: only its tasks (its shards). */
  readonly spec?: string;
  /** A task name: the page starts after it, in task order (the `next` of the previous page). */
  readonly after?: string;
  readonly limit: number;
}

/** `GET /v1/jobs/{id}/tasks`: tasks in task order; `next` is the cursor of the next page, null after the last. */
export interface TaskPage {
  readonly tasks: readonly TaskItem[];
  readonly next: string | null;
}

/** A page, or why the query does not fit the job (an unknown spec or cursor). */
export type TaskPageResult = { readonly ok: true; readonly page: TaskPage } | { readonly ok: false; readonly error: string };

export interface SchedulerStats {
  applied: number;
  undecodable: number;
  claimsAccepted: number;
  /** Claimed tasks refused (not ready any more, unknown node, stale boot, no capacity, missing handler). */
  claimsRejected: number;
  finishesAccepted: number;
  /** Finishes whose attempt, holder or boot is stale, or whose job is no longer running. */
  finishesStale: number;
  leaseExpiries: number;
  retries: number;
  jobsRemoved: number;
}

/** What everyone outside the state machine may read. */
export interface SchedulerView {
  /** Scheduler time (ms). */
  readonly now: Ms;
  readonly stats: Readonly<SchedulerStats>;
  /** Every task of the job: O(its tasks), for tests and checkers only (JobView). */
  job(id: JobId): JobView | undefined;
  jobs(): JobSummary[];
  jobSummary(id: JobId): JobSummary | undefined;
  /** The summary and per-spec counts: O(its tasks) in a tight loop over one byte per task, no object per task. */
  jobDetail(id: JobId): JobDetail | undefined;
  /** The summary and the specs whose ready tasks are stuck: O(1) while no task is ready, else O(specs) plus the stuck specs' tasks. */
  jobProgress(id: JobId): JobProgress | undefined;
  /** One task by full name; undefined for an unknown job or task. */
  task(id: JobId, name: string): TaskItem | undefined;
  /** A page of tasks in task order (undefined for an unknown job); O(the page) without a state filter. */
  taskPage(id: JobId, query: TaskQuery): TaskPageResult | undefined;
  /** A page of specs with their counts, in DAG order (undefined for an unknown job); O(the page's specs' tasks), plus with a state filter the specs skipped. */
  specPage(id: JobId, query: SpecQuery): SpecPageResult | undefined;
  /** The job's normalised DAG as the log holds it. */
  jobSpec(id: JobId): JobSpec | undefined;
  /** The job submitted with this idempotency key, while it is held. */
  jobWithKey(key: string): JobId | undefined;
  /** Ready tasks, highest priority first, then oldest; lazily, so a caller can stop early. */
  ready(): Iterable<ReadyTask>;
  readyCount(): number;
  node(id: NodeId): NodeView | undefined;
  nodes(): NodeView[];
  /** Tasks `node` holds (running), with what is needed to launch them. */
  held(node: NodeId): TaskLaunch[];
  /** The launch description of a running task, or undefined when it is not running. */
  launch(ref: TaskRef): TaskLaunch | undefined;
  /** The committed outputs of `ref`'s direct upstream tasks that succeeded, by full task name ({} for an unknown task). */
  inputs(ref: TaskRef): Record<string, string>;
  /** The earliest scheduler time at which something is due (a lease, a backoff, a timeout, a removal), or null. */
  nextDeadline(): Ms | null;
  /** Pools by name, and one pool. */
  pools(): PoolView[];
  pool(name: string): PoolView | undefined;
  /** Running tasks of the job (its `concurrency` counts them); 0 for an unknown job. */
  jobRunning(id: JobId): number;
  /** Schedules by name (docs/schedules.md). */
  schedules(): ScheduleView[];
  schedule(name: string): ScheduleView | undefined;
  /** The next tick of every schedule that is not paused, cheaply: what the schedule keeper watches. */
  scheduleTicks(): Iterable<FireItem>;
}
