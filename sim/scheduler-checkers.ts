// The scheduler's checkers (docs/simulation.md §5). They follow two streams:
// - the committed effects, once per log index (replicas apply the same entries to the same state,
//   which the Raft checker verifies by the state hash, so one copy of the stream is the canonical
//   one), from which they keep a model of every job and task;
// - the simulated executors' records: which attempt of which task ran on which node, from when to
//   when, and how it ended.
// What they check:
//   (a) a task is readied, claimed and started only when its trigger rule holds on its upstream
//       tasks' committed results (in the log, at or before the claim, and in simulated time: the
//       successes it counts on had ended before it starts), and skipped only when its rule can no
//       longer hold (trigger-oracle.ts states the rules independently of the machine);
//   (b) each (task, attempt) leaves `running` at most once; a task succeeds at most once and never
//       changes after a final state; an accepted finish is the holder's, for the current attempt;
//       a committed success is an execution of that attempt, on that node, that succeeded;
//   (c) no two attempts of one task execute at the same simulated time (a paused node's frozen
//       attempt does not execute; its worker must kill it before it thaws if its lease ran out);
//   (d) every acknowledged job exists on every replica after convergence, in the same state, and
//       each task's attempt history there matches the committed events (the last 20 attempts, in
//       order, each on the node that held it and ended the way the log says);
//   (f) outcomes: a job ends `failed` exactly when one of its tasks failed; a task ran exactly when
//       its rule holds on its upstream tasks' final results; a task fails only after its retries
//       were spent, and a task whose fate is to succeed fails only when faults excuse it; a task
//       whose fate is to fail every attempt never succeeds.
//   (h) a re-run (docs/dag-file.md §13) puts only final tasks of an ended job back to waiting, in a
//       `rerun` entry, and never loses an earlier attempt: each re-run task keeps its attempt number
//       (the next claim gives out the one after), and (d) then finds every attempt, the earlier
//       success included, in the replicas' histories; its tasks start only when their rule holds
//       on the results that stand, which (a) checks as for any task;
//   (g) a dependent's $MESHRUN_INPUTS (what its execution was handed) hold every output its
//       upstream tasks' successful finishes carried as committed at or before its claim, and
//       nothing but committed upstream outputs (one committed since, when a trigger rule let it
//       start before all its upstream tasks ended).
//   (i) placement and limits (docs/dag-file.md §14): a task runs only on a node with its `on`
//       labels; a pool's tasks never hold more than its size, nor a job's more than its
//       `concurrency`, whether counted in the committed state (running tasks after each entry) or
//       in the cluster's time (executions running at once, a paused node's frozen ones aside).
// (e), the bound on the time to finish after the heal, is the workload's (it owns the clock).
// And the adversary's (adversary.ts): a member's command forged to speak for another node (a
// heartbeat with a new boot, a claim in its name, a finish of a task it holds) may be in the log,
// but applies as ignored and changes nothing of that node's (checkLie).
import { decodeNodeEntry } from '../src/node/entry-envelope.js';
import type { Entry, NodeId } from '../src/raft/types.js';
import { formatLabels, hasLabels } from '../src/scheduler/placement.js';
import { decodeCommand } from '../src/scheduler/command-codec.js';
import { MAX_ATTEMPTS_KEPT } from '../src/scheduler/attempts.js';
import {
  FINAL_TASK_STATES,
  type AttemptView,
  type Command,
  type Effect,
  type JobId,
  type JobState,
  type Labels,
  type TaskEvent,
  type TaskState,
  type TaskView,
} from '../src/scheduler/types.js';
import type { PlannedJob, PlannedTask } from './dag-gen.js';
import { ScheduleChecker } from './schedule-checkers.js';
import type { ExecRecord } from './sim-executor.js';
import { ruleHolds, seenOf, skippedForFailure, type Seen } from './trigger-oracle.js';

/**
 * Reasons with which a task leaves `running` without a finish having been accepted. ('timeout' is
 * either: the holder's own finish with outcome timeout, or the state machine's safety net.)
 */
const NOT_A_FINISH: ReadonlySet<string> = new Set(['lease expired', 'holder restarted', 'cancelled', 'job timeout']);

/** What check (i) needs: the pools the workload creates (sizes never change) and each node's labels. */
export interface PlacementLimits {
  readonly pools: ReadonlyMap<string, number>;
  labelsOf(node: NodeId): Labels;
}

const NO_LIMITS: PlacementLimits = { pools: new Map(), labelsOf: () => ({}) };

export interface CheckerWorld {
  fail(invariant: string, detail: string): void;
  trace(line: string | (() => string)): void;
}

interface TaskModel {
  readonly plan: PlannedTask;
  state: TaskState;
  attempt: number;
  node: NodeId | null;
  fence: number | null;
  /** The reason of its latest event (a skipped task's says whether it counts as failed). */
  reason: string | null;
  /** Log index at which it reached a final state. */
  finalAt: number | null;
  /** Log index of the committed success. */
  succeededAt: number | null;
  /** The execution whose result that success is. */
  success: ExecRecord | null;
  /** The output its committed successful finish carried (null: none). */
  output: string | null;
  /** How each attempt left `running`. */
  readonly exits: Map<number, Exit>;
}

interface Exit {
  readonly node: NodeId | null;
  readonly to: TaskState;
  readonly reason: string | null;
  /** By its holder's accepted finish (not a lease expiry, restart or the timeout safety net). */
  readonly finish: boolean;
}

interface JobModel {
  readonly id: JobId;
  readonly plan: PlannedJob;
  /** A run of a schedule (schedule-checkers.ts), started by a fire: `replace` may cancel it. */
  readonly scheduled: boolean;
  readonly key: string | null;
  readonly submittedAt: number;
  state: JobState;
  /** Log index at which the job reached a final state. */
  finalAt: number | null;
  /** Log index of its latest re-run (h), null before any. */
  rerunAt: number | null;
  readonly tasks: TaskModel[];
}

export class SchedulerChecker {
  /** Highest log index whose effects were taken into the model. */
  applied = 0;
  /** Indices a replica reported past `applied + 1` (a hole in the canonical stream: never expected). */
  gaps = 0;
  readonly jobs = new Map<JobId, JobModel>();
  /** Jobs not yet final, and the index at which the last one became final. */
  open = 0;
  lastFinalIndex = 0;
  readonly counts = { rerunTasks: 0, claims: 0, finishesAccepted: 0, successes: 0, retriesOrRequeues: 0, started: 0, overlapsChecked: 0 };
  /** Executions by task (job id, task index), oldest first. */
  private readonly execs = new Map<string, ExecRecord[]>();
  private failed = false;

  constructor(
    private readonly world: CheckerWorld,
    private readonly planByName: ReadonlyMap<string, PlannedJob>,
    /** Each schedule's runs' plan name (schedule-checkers.ts). */
    private readonly runPlans: ReadonlyMap<string, string> = new Map(),
    private readonly limits: PlacementLimits = NO_LIMITS,
  ) {}

  private fail(invariant: string, detail: string): void {
    if (this.failed) return;
    this.failed = true;
    this.world.fail(invariant, detail);
  }

  // ----- the committed stream ------------------------------------------------------------------

  /**
   * One replica applied `entry` with these effects; only the first report of each index counts.
   * Returns the entry's command the first time (null when it is none), undefined on a repeat.
   */
  committed(entry: Entry, effects: readonly Effect[]): Command | null | undefined {
    if (entry.index <= this.applied) return undefined;
    if (entry.index !== this.applied + 1) this.gaps++;
    this.applied = entry.index;
    const cmd = commandOf(entry);
    if (effects.length === 0) return cmd;
    const runs = cmd?.type === 'fire' || cmd?.type === 'schedule-trigger' ? ScheduleChecker.runsIn(effects) : null;
    for (const e of effects) {
      switch (e.type) {
        case 'submitted':
          if (!e.existing) this.submitted(e.job, cmd, entry.index, runs);
          break;
        case 'task':
          this.taskEvent(e, cmd, entry.index);
          break;
        case 'tasks':
          // A run of never-claimed tasks, as one event per task.
          for (let task = e.start; task < e.end; task++) {
            const name = this.jobs.get(e.job)?.tasks[task]?.plan.name ?? `#${task}`;
            this.taskEvent(
              { type: 'task', job: e.job, task, name, from: e.from, to: e.to, node: null, attempt: 0, fence: null, reason: e.reason },
              cmd,
              entry.index,
            );
          }
          break;
        case 'job':
          this.jobEvent(e.job, e.state, entry.index, cmd);
          break;
        default:
          break;
      }
    }
    return cmd;
  }

  private submitted(id: JobId, cmd: Command | null, index: number, runs: ReadonlyMap<JobId, string> | null): void {
    // A run of a schedule: created by the fire (or trigger) that decided its tick, its DAG the schedule's.
    const schedule = runs?.get(id);
    // A submit, or the last part of a big one (docs/architecture.md §3).
    const submit = cmd?.type === 'submit' || cmd?.type === 'submit-part' ? cmd : null;
    if (schedule === undefined && submit?.id !== id) {
      this.fail('job accounting', `a job ${id} was created at ${index} by an entry that is not its submit, nor a fired tick`);
      return;
    }
    const name = schedule !== undefined ? (this.runPlans.get(schedule) ?? '') : (submit?.spec.name ?? '');
    const plan = this.planByName.get(name);
    if (!plan) {
      this.fail('job accounting', `job ${id} at ${index} is named '${name}', which the workload never submitted`);
      return;
    }
    const key = submit?.key ?? null;
    if (this.jobs.has(id)) {
      this.fail('job accounting', `job ${id} was created twice (again at ${index})`);
      return;
    }
    if (key !== null) {
      for (const j of this.jobs.values()) {
        if (j.key === key) this.fail('idempotency', `job ${id} created at ${index} with key '${key}', which job ${j.id} already has`);
      }
    }
    this.jobs.set(id, {
      id,
      plan,
      scheduled: schedule !== undefined,
      key,
      submittedAt: index,
      state: 'running',
      finalAt: null,
      rerunAt: null,
      tasks: plan.tasks.map((t) => ({
        plan: t,
        state: 'waiting',
        attempt: 0,
        node: null,
        fence: null,
        reason: null,
        finalAt: null,
        succeededAt: null,
        success: null,
        output: null,
        exits: new Map(),
      })),
    });
    this.open++;
  }

  private taskEvent(e: TaskEvent, cmd: Command | null, index: number): void {
    const job = this.jobs.get(e.job);
    const t = job?.tasks[e.task];
    if (!job || !t) {
      this.fail('task events', `at ${index}: an event for ${e.job} task ${e.task} ('${e.name}'), which the model does not know`);
      return;
    }
    const what = `${e.job} (${job.plan.name}) task ${e.name} at index ${index}`;
    this.world.trace(
      () =>
        `log ${index}: ${e.job}/${e.name} ${e.from} -> ${e.to}${e.node ? ` (${e.node} #${e.attempt})` : ''}${e.reason ? `: ${e.reason}` : ''}`,
    );
    if (e.name !== t.plan.name) this.fail('task events', `${what}: the DAG's task ${e.task} is '${t.plan.name}'`);
    if (e.from !== t.state) this.fail('task events', `${what}: event ${e.from} -> ${e.to}, but the task was ${t.state}`);
    if (FINAL_TASK_STATES.has(t.state) && e.to === 'waiting' && cmd?.type === 'rerun' && cmd.job === e.job) {
      this.rerunTask(e, t, what);
      return;
    }
    if (FINAL_TASK_STATES.has(t.state)) {
      this.fail('one result per task (b)', `${what} left its final state ${t.state} for ${e.to}`);
    }
    // (a) at the state level: nothing is ready or claimed unless its rule holds on committed results,
    // and nothing is skipped by its rule while the rule could still hold.
    const rule = t.plan.trigger;
    if (e.to === 'ready' || e.to === 'running') {
      const up = upstreamSeen(job, t, Number.POSITIVE_INFINITY);
      if (!ruleHolds(rule, up)) {
        this.fail(
          'trigger rule holds (a)',
          `${what} became ${e.to}, but its rule ${rule} does not hold on its upstream tasks: ${describeUpstream(job, t)}`,
        );
      }
    }
    if (e.to === 'skipped' && e.from === 'waiting' && e.reason !== 'cancelled') this.checkRuleSkip(job, t, e.reason, what);
    if (e.to === 'running') {
      this.counts.claims++;
      if (e.attempt <= t.attempt) {
        this.fail('fencing (b)', `${what}: claimed as attempt ${e.attempt}, but attempt ${t.attempt} was already given out`);
      }
      if (e.fence !== index) this.fail('fencing (b)', `${what}: claimed with fence ${String(e.fence)} by the entry at ${index}`);
    }
    if (e.from === 'running') {
      if (t.exits.has(e.attempt)) {
        this.fail(
          'one finish per attempt (b)',
          `${what}: attempt ${e.attempt} left running a second time (${e.to}${e.reason ? `, ${e.reason}` : ''})`,
        );
      }
      const finish = (e.reason === null || !NOT_A_FINISH.has(e.reason)) && this.acceptedFinish(e, t, cmd, what);
      t.exits.set(e.attempt, { node: e.node, to: e.to, reason: e.reason, finish });
      if (e.to !== 'succeeded') this.counts.retriesOrRequeues++;
    }
    if (e.to === 'succeeded') {
      this.succeeded(e, t, index, what);
      t.output = committedOutput(e, cmd);
    }
    if (FINAL_TASK_STATES.has(e.to)) t.finalAt = index;
    t.reason = e.reason;
    t.state = e.to;
    t.attempt = Math.max(t.attempt, e.attempt);
    t.node = e.node;
    t.fence = e.fence;
    if (e.to === 'running') this.checkCommittedLimits(job, t, e.node, what);
  }

  /** (i) in the committed state: the claim's node has the labels; no pool or job is over its limit after it. */
  private checkCommittedLimits(job: JobModel, t: TaskModel, node: NodeId | null, what: string): void {
    const on = t.plan.on;
    if (on !== undefined && (node === null || !hasLabels(this.limits.labelsOf(node), on))) {
      this.fail('placement (i)', `${what} was claimed by ${node ?? 'nobody'}, which lacks labels ${formatLabels(on)}`);
      return;
    }
    const limit = job.plan.concurrency;
    if (limit !== undefined) {
      const running = job.tasks.filter((x) => x.state === 'running').length;
      if (running > limit)
        this.fail('job concurrency (i)', `${what}: ${running} of its tasks running in the committed state, concurrency ${limit}`);
    }
    const pool = t.plan.pool;
    if (pool === undefined) return;
    const size = this.limits.pools.get(pool);
    let held = 0;
    for (const j of this.jobs.values()) for (const x of j.tasks) if (x.state === 'running' && x.plan.pool === pool) held++;
    if (size === undefined || held > size)
      this.fail(
        'pool limit (i)',
        `${what}: ${held} tasks of pool ${pool} running in the committed state, its size ${size ?? 'none (never created)'}`,
      );
  }

  /**
   * (i) in the cluster's time: the executions running now (a frozen one does not run) of the same
   * pool, and of the same job, are within its size and `concurrency`; the node has the labels.
   */
  private checkRunningLimits(rec: ExecRecord, job: JobModel, t: TaskModel, what: string): void {
    const on = t.plan.on;
    if (on !== undefined && !hasLabels(this.limits.labelsOf(rec.node), on)) {
      this.fail('placement (i)', `${what}, but ${rec.node} lacks labels ${formatLabels(on)}`);
      return;
    }
    const pool = t.plan.pool;
    const limit = job.plan.concurrency;
    if (pool === undefined && limit === undefined) return;
    let inPool = 0;
    let inJob = 0;
    for (const list of this.execs.values()) {
      for (const x of list) {
        if (x.end !== null || x.frozen) continue;
        const xt = this.jobs.get(x.job)?.tasks[x.task];
        if (pool !== undefined && xt?.plan.pool === pool) inPool++;
        if (x.job === rec.job) inJob++;
      }
    }
    const size = pool === undefined ? undefined : (this.limits.pools.get(pool) ?? 0);
    if (size !== undefined && inPool > size) {
      this.fail('pool limit (i)', `${what} at ${rec.startedAt}ms: ${inPool} executions of pool ${pool} running at once, its size ${size}`);
    } else if (limit !== undefined && inJob > limit) {
      this.fail(
        'job concurrency (i)',
        `${what} at ${rec.startedAt}ms: ${inJob} executions of its job running at once, concurrency ${limit}`,
      );
    }
  }

  /** (h) A final task a re-run put back to waiting: its attempt number stays, its result is no longer one. */
  private rerunTask(e: TaskEvent, t: TaskModel, what: string): void {
    this.counts.rerunTasks++;
    if (e.attempt !== t.attempt) {
      this.fail('re-run keeps attempts (h)', `${what}: re-run as attempt ${e.attempt}, but attempt ${t.attempt} was already given out`);
    }
    t.state = 'waiting';
    t.reason = e.reason;
    t.finalAt = null;
    t.succeededAt = null;
    t.success = null;
    t.output = null;
  }

  /**
   * A task skipped before it ran: its rule can no longer hold whatever its open upstream tasks do,
   * and its reason says "upstream failed" only when a failure upstream decided it (Airflow's
   * upstream_failed), "trigger rule" otherwise.
   */
  private checkRuleSkip(job: JobModel, t: TaskModel, reason: string | null, what: string): void {
    const rule = t.plan.trigger;
    const up = upstreamSeen(job, t, Number.POSITIVE_INFINITY);
    const fills: Seen[] = ['succeeded', 'failed', 'skipped'];
    if (
      fills.some((f) =>
        ruleHolds(
          rule,
          up.map((s) => (s === 'open' ? f : s)),
        ),
      )
    ) {
      this.fail(
        'trigger rule holds (a)',
        `${what} was skipped (${reason ?? 'no reason'}), but its rule ${rule} could still hold: ${describeUpstream(job, t)}`,
      );
      return;
    }
    // A failure decides a skip first (before a skip upstream) when the machine saw it first; with no
    // skipped upstream task to have decided otherwise, it must have.
    const forFailure = reason?.startsWith('upstream failed') === true;
    const mayFail = skippedForFailure(rule, up);
    const mustFail = mayFail && (rule !== 'all_success' || !up.includes('skipped'));
    if (forFailure ? !mayFail : mustFail || reason?.startsWith(`trigger rule ${rule}`) !== true) {
      this.fail(
        'trigger rule holds (a)',
        `${what} was skipped with reason '${reason ?? ''}', which does not fit its rule ${rule} and upstream: ${describeUpstream(job, t)}`,
      );
    }
  }

  /**
   * The task left `running`, maybe by a finish: if so, it must be the holder's, for the attempt it
   * holds. Returns whether it was a finish.
   */
  private acceptedFinish(e: TaskEvent, t: TaskModel, cmd: Command | null, what: string): boolean {
    if (cmd?.type !== 'finish') return false;
    const r = cmd.results.find((x) => x.job === e.job && x.task === e.task);
    // A timeout without its holder's result is the state machine's safety net.
    if (!r || (e.reason === 'timeout' && r.outcome !== 'timeout')) return false;
    this.counts.finishesAccepted++;
    if (r.attempt !== t.attempt || cmd.node !== t.node) {
      this.fail(
        'stale finish accepted (b)',
        `${what}: a finish from ${cmd.node} for attempt ${r.attempt} (${r.outcome}) moved it ${e.from} -> ${e.to}, ` +
          `but the task was held by ${t.node ?? '-'} as attempt ${t.attempt}`,
      );
    }
    return true;
  }

  private succeeded(e: TaskEvent, t: TaskModel, index: number, what: string): void {
    this.counts.successes++;
    if (t.succeededAt !== null) {
      this.fail('one result per task (b)', `${what} succeeded a second time (first at ${t.succeededAt})`);
      return;
    }
    t.succeededAt = index;
    const rec = (this.execs.get(execKey(e.job, e.task)) ?? []).find(
      (r) => r.attempt === e.attempt && r.node === e.node && r.end === 'completed' && r.outcome === 'succeeded',
    );
    if (!rec) {
      const runs = this.describeExecs(e.job, e.task);
      this.fail(
        'success without a successful run (b)',
        `${what}: committed succeeded as attempt ${e.attempt} on ${e.node ?? '-'}, but no such attempt ran to success; runs: ${runs}`,
      );
      return;
    }
    t.success = rec;
  }

  private jobEvent(id: JobId, state: JobState, index: number, cmd: Command | null): void {
    const job = this.jobs.get(id);
    if (!job) {
      this.fail('job accounting', `a job event (${state}) for unknown job ${id} at ${index}`);
      return;
    }
    if (state === 'running' && job.state !== 'running' && cmd?.type === 'rerun' && cmd.job === id) {
      // (h) A re-run of an ended job: it runs again.
      job.state = 'running';
      job.finalAt = null;
      job.rerunAt = index;
      this.open++;
      return;
    }
    if (job.state !== 'running') {
      this.fail('job accounting', `job ${id} (${job.plan.name}) went from ${job.state} to ${state} at ${index}`);
      return;
    }
    job.state = state;
    if (state !== 'running') {
      job.finalAt = index;
      this.open--;
      this.lastFinalIndex = Math.max(this.lastFinalIndex, index);
    }
  }

  // ----- the executors' records ----------------------------------------------------------------

  started(rec: ExecRecord): void {
    this.counts.started++;
    const key = execKey(rec.job, rec.task);
    let list = this.execs.get(key);
    if (!list) this.execs.set(key, (list = []));
    list.push(rec);
    const job = this.jobs.get(rec.job);
    const what = `${rec.node} started ${rec.job} (${job?.plan.name ?? '?'}) task ${rec.name} attempt ${rec.attempt} (fence ${rec.fence})`;
    if (!job) {
      this.fail('job accounting', `${what}, a job the committed log never created`);
      return;
    }
    // (a) against the executions: its rule held on the results committed at or before the claim,
    // and every success it counted on was a run that had ended.
    const t = job.tasks[rec.task] as TaskModel;
    if (!ruleHolds(t.plan.trigger, upstreamSeen(job, t, rec.fence))) {
      this.fail(
        'trigger rule holds (a)',
        `${what}, but its rule ${t.plan.trigger} did not hold on the results committed by then: ${describeUpstream(job, t)}`,
      );
      return;
    }
    for (const d of t.plan.deps) {
      const dep = job.tasks[d] as TaskModel;
      if (dep.succeededAt === null || dep.succeededAt > rec.fence) continue;
      if (dep.success && (dep.success.endedAt === null || dep.success.endedAt > rec.startedAt)) {
        this.fail('trigger rule holds (a)', `${what} at ${rec.startedAt}ms, before its dependency ${dep.plan.name}'s run ended`);
        return;
      }
    }
    this.checkInputs(job, t, rec, what);
    this.checkOverlap(rec, list);
    this.checkRunningLimits(rec, job, t, what);
  }

  /**
   * A dependent's $MESHRUN_INPUTS are its upstream tasks' committed outputs (docs/task-environment.md
   * §7): every output committed at or before its claim is there, and anything else there is an
   * upstream output committed since (a trigger rule can let a task start before all its upstream
   * tasks end; the worker hands it what its replica holds when it starts), with the committed text.
   */
  private checkInputs(job: JobModel, t: TaskModel, rec: ExecRecord, what: string): void {
    const byClaim: Record<string, string> = {};
    const committed = new Map<string, string>();
    for (const d of t.plan.deps) {
      const dep = job.tasks[d] as TaskModel;
      if (dep.succeededAt === null || dep.output === null) continue;
      committed.set(dep.plan.name, dep.output);
      if (dep.succeededAt <= rec.fence) byClaim[dep.plan.name] = dep.output;
    }
    const sorted = (o: Record<string, string>): string => JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
    const missing = Object.keys(byClaim).filter((name) => !(name in rec.inputs));
    const wrong = Object.entries(rec.inputs).filter(([name, text]) => committed.get(name) !== text);
    if (missing.length > 0 || wrong.length > 0) {
      this.fail(
        'inputs are committed outputs (g)',
        `${what} with $MESHRUN_INPUTS ${sorted(rec.inputs)}, but its upstream tasks' outputs committed by its claim are ${sorted(byClaim)}`,
      );
    }
  }

  thawed(rec: ExecRecord): void {
    this.checkOverlap(rec, this.execs.get(execKey(rec.job, rec.task)) ?? []);
    const job = this.jobs.get(rec.job);
    const t = job?.tasks[rec.task];
    if (job && t && rec.end === null)
      this.checkRunningLimits(rec, job, t, `${rec.node} thawed ${rec.job} task ${rec.name} attempt ${rec.attempt}`);
  }

  /** (c) No other attempt of the task executes now. */
  private checkOverlap(rec: ExecRecord, list: readonly ExecRecord[]): void {
    this.counts.overlapsChecked++;
    for (const other of list) {
      if (other === rec || other.end !== null || other.frozen) continue;
      this.fail(
        'one lease per task (c)',
        `${rec.job} task ${rec.name}: attempt ${rec.attempt} runs on ${rec.node} from ${rec.startedAt}ms while attempt ${other.attempt} ` +
          `still runs on ${other.node} (started ${other.startedAt}ms, boot ${other.boot})`,
      );
      return;
    }
  }

  // ----- the end of a run ----------------------------------------------------------------------

  /** (f): every job's outcome against its tasks' fates. Call once every job is final. */
  checkOutcomes(): void {
    for (const job of this.jobs.values()) {
      if (this.failed) return;
      this.checkJob(job);
    }
  }

  private checkJob(job: JobModel): void {
    const name = `${job.id} (${job.plan.name})`;
    const tasks = job.tasks;
    const failedTasks = tasks.filter((t) => t.state === 'failed');
    if (job.state === 'running') {
      this.fail('job liveness (e)', `${name} is still running`);
      return;
    }
    if (job.state === 'cancelled') {
      // Only a schedule's `replace` cancels: its tasks are stopped or skipped, none left undone.
      if (!job.scheduled) this.fail('job outcome (f)', `${name} was cancelled, but the workload cancels nothing`);
      else if (!tasks.every((t) => FINAL_TASK_STATES.has(t.state)))
        this.fail('job outcome (f)', `${name} was cancelled with tasks ${describeStates(tasks)}`);
      return;
    }
    for (const t of tasks) {
      if (!FINAL_TASK_STATES.has(t.state)) {
        this.fail('job outcome (f)', `${name} is ${job.state} with task ${t.plan.name} still ${t.state}`);
        return;
      }
    }
    const expected: JobState = failedTasks.length > 0 ? 'failed' : 'succeeded';
    if (job.state !== expected) {
      this.fail('job outcome (f)', `${name} ended ${job.state}, but with its tasks ${describeStates(tasks)} it must be ${expected}`);
      return;
    }
    for (const t of tasks) {
      const holds = ruleHolds(t.plan.trigger, upstreamSeen(job, t, Number.POSITIVE_INFINITY));
      // A task a re-run left alone keeps the result its rule gave it on the upstream results of
      // then, which a re-run of an upstream task may since have replaced (h): not judged on the new ones.
      const replaced = job.rerunAt !== null && t.plan.deps.some((d) => (job.tasks[d]?.finalAt ?? 0) > (t.finalAt ?? Infinity));
      if (!replaced && holds === (t.state === 'skipped')) {
        this.fail(
          'job outcome (f)',
          `${name}: task ${t.plan.name} ended ${t.state}, though its rule ${t.plan.trigger} ${holds ? 'holds' : 'does not hold'} on ${describeUpstream(job, t)}`,
        );
        return;
      }
      if (t.plan.fate.kind !== 'succeed' && t.state === 'succeeded') {
        this.fail('job outcome (f)', `${name}: task ${t.plan.name} fails every attempt but ended succeeded`);
        return;
      }
    }
    for (const t of failedTasks) {
      const retries = t.plan.retries;
      if (t.attempt <= retries) {
        this.fail('job outcome (f)', `${name}: task ${t.plan.name} failed after ${t.attempt} attempts, with ${retries} retries allowed`);
        return;
      }
      if (t.plan.fate.kind !== 'succeed') continue;
      // Planned failures alone (at most failFirst <= retries) cannot fail the task: some attempt
      // must have counted as failed for another reason (its holder restarted, the safety net timed
      // it out, or its run was cut short by a crash or a lease loss and reported failed).
      const runs = this.execs.get(execKey(job.id, t.plan.index)) ?? [];
      let excused = false;
      for (const [k, exit] of t.exits) {
        if (exit.to === 'succeeded' || exit.reason === 'lease expired') continue;
        const r = runs.find((x) => x.attempt === k && x.node === exit.node);
        const genuine = exit.finish && r !== undefined && (r.end === 'completed' || r.end === 'timeout') && r.planned !== 'succeeded';
        if (!genuine) excused = true;
      }
      if (!excused) {
        this.fail(
          'job outcome (f)',
          `${name}: task ${t.plan.name} ended failed after only planned failures (${t.plan.fate.failFirst} planned, ${t.plan.retries} retries): ${this.describeExecs(job.id, t.plan.index)}`,
        );
        return;
      }
    }
  }

  /**
   * (d) and the replicas' agreement: every acknowledged job is on every replica in the state the
   * log gives it; `views` are the replicas' scheduler views.
   */
  checkReplicas(
    acked: ReadonlyMap<JobId, string>,
    replicas: ReadonlyMap<NodeId, { job(id: JobId): { state: JobState; tasks: Readonly<Record<string, TaskView>> } | undefined }>,
  ): void {
    for (const [id, plan] of acked) {
      const model = this.jobs.get(id);
      if (!model) {
        this.fail('acknowledged job lost (d)', `job ${id} (${plan}) was acknowledged, but the committed log never created it`);
        return;
      }
      for (const [node, view] of replicas) {
        const j = view.job(id);
        if (!j) {
          this.fail('acknowledged job lost (d)', `job ${id} (${plan}) was acknowledged, but ${node} does not have it`);
          return;
        }
        if (j.state !== model.state) {
          this.fail('acknowledged job lost (d)', `job ${id} (${plan}) is ${j.state} on ${node}, the log made it ${model.state}`);
          return;
        }
        for (const t of model.tasks) {
          const v = j.tasks[t.plan.name];
          if (v?.state !== t.state) {
            this.fail('replicas agree', `job ${id} task ${t.plan.name} is ${v?.state ?? 'missing'} on ${node}, the log made it ${t.state}`);
            return;
          }
          const problem = attemptsProblem(t, v.attempts);
          if (problem !== null) {
            this.fail('attempt history', `job ${id} task ${t.plan.name} on ${node}: ${problem}`);
            return;
          }
        }
      }
    }
  }

  describeOpen(limit = 6): string {
    const out: string[] = [];
    for (const j of this.jobs.values()) {
      if (j.state !== 'running') continue;
      out.push(`${j.id} (${j.plan.name}): ${describeStates(j.tasks)}`);
      if (out.length >= limit) break;
    }
    return out.join('; ');
  }

  private describeExecs(job: JobId, task: number): string {
    const runs = this.execs.get(execKey(job, task)) ?? [];
    if (runs.length === 0) return 'none';
    return runs
      .map(
        (r) => `#${r.attempt} on ${r.node} ${r.startedAt}-${r.endedAt ?? '…'}ms ${r.end ?? 'running'}${r.outcome ? `/${r.outcome}` : ''}`,
      )
      .join(', ');
  }
}

/** A command a member (the liar) proposed in another node's name. */
export interface Lie {
  readonly liar: NodeId;
  readonly cmd: Extract<Command, { node: NodeId }>;
}

/**
 * A forged command applied on `replica`: it must be refused (an `ignored` effect for it) and must
 * not have done what it asked: a heartbeat must not have given its victim the forged boot (`boot`
 * is the victim's boot on that replica after the entry), a claim must not have started a task for
 * the victim at this entry, a finish must not have ended the victim's task. Returns the problem.
 */
export function lieProblem(lie: Lie, index: number, effects: readonly Effect[], boot: number | undefined): string | null {
  const cmd = lie.cmd;
  const what = `${lie.liar}'s forged ${cmd.type} for ${cmd.node} (entry ${index})`;
  if (!effects.some((e) => e.type === 'ignored' && e.command === cmd.type)) {
    return `${what} was not refused; effects: ${effects.map((e) => e.type).join(', ') || 'none'}`;
  }
  switch (cmd.type) {
    case 'heartbeat':
      return boot === cmd.boot ? `${what} gave ${cmd.node} the forged boot ${cmd.boot}` : null;
    case 'claim': {
      const taken = effects.find((e) => e.type === 'task' && e.to === 'running' && e.node === cmd.node && e.fence === index);
      return taken && taken.type === 'task' ? `${what} claimed ${taken.job}/${taken.name} for ${cmd.node}` : null;
    }
    case 'finish': {
      const done = effects.find(
        (e) => e.type === 'task' && e.to === 'succeeded' && cmd.results.some((r) => r.job === e.job && r.task === e.task),
      );
      return done && done.type === 'task' ? `${what} finished ${done.job}/${done.name} as succeeded` : null;
    }
  }
}

function execKey(job: JobId, task: number): string {
  return `${job}\u0000${task}`;
}

function commandOf(entry: Entry): Command | null {
  if (entry.type !== 'normal' || entry.data.length === 0) return null;
  const env = decodeNodeEntry(entry.data);
  if (!env.ok || env.value.kind !== 'app') return null;
  const cmd = decodeCommand(env.value.data);
  return cmd.ok ? cmd.value : null;
}

/** How an attempt that left `running` shows in the history (docs/http-api.md §6). */
function outcomeOf(exit: Exit): AttemptView['outcome'] {
  if (exit.to === 'succeeded') return 'succeeded';
  if (exit.reason === 'lease expired') return 'lost';
  if (exit.reason === 'cancelled') return 'cancelled';
  if (exit.reason === 'timeout' || exit.reason === 'job timeout') return 'timeout';
  return 'failed';
}

/** The output a committed success carried: the task's result in the finish that moved it (null: none, or not a finish). */
function committedOutput(e: TaskEvent, cmd: Command | null): string | null {
  if (cmd?.type !== 'finish') return null;
  const r = cmd.results.find((x) => x.job === e.job && x.task === e.task);
  return r?.output === undefined || r.output === '' ? null : r.output;
}

/** A replica's attempt history against the committed events: the last ones, in order, on the right nodes, ended the right way. */
function attemptsProblem(t: TaskModel, shown: readonly AttemptView[]): string | null {
  const kept = Math.min(t.attempt, MAX_ATTEMPTS_KEPT);
  const want = Array.from({ length: kept }, (_, i) => t.attempt - kept + i + 1);
  const got = shown.map((a) => a.attempt);
  if (got.join() !== want.join()) return `shows attempts [${got.join(', ')}], the log gave out [${want.join(', ')}]`;
  for (const a of shown) {
    const exit = t.exits.get(a.attempt);
    const outcome = exit === undefined ? 'running' : outcomeOf(exit);
    if (a.outcome !== outcome) return `attempt ${a.attempt} shows ${a.outcome}, the log says ${outcome}`;
    if (exit !== undefined && exit.node !== a.node)
      return `attempt ${a.attempt} shows node ${a.node ?? '-'}, the log says ${exit.node ?? '-'}`;
  }
  return null;
}

/** How the rules see the task's upstream tasks, counting only results committed at or before `index`. */
function upstreamSeen(job: JobModel, t: TaskModel, index: number): Seen[] {
  return t.plan.deps.map((d) => {
    const dep = job.tasks[d] as TaskModel;
    return dep.finalAt === null || dep.finalAt > index ? 'open' : seenOf(dep.state, dep.reason);
  });
}

function describeUpstream(job: JobModel, t: TaskModel): string {
  if (t.plan.deps.length === 0) return 'none';
  return t.plan.deps
    .map((d) => {
      const up = job.tasks[d];
      if (up === undefined) return `#${d}=?`;
      return `${up.plan.name}=${up.state}${up.reason ? ` (${up.reason})` : ''}`;
    })
    .join(', ');
}

function describeStates(tasks: readonly TaskModel[]): string {
  return tasks.map((t) => `${t.plan.name}=${t.state}${t.attempt > 0 ? `#${t.attempt}` : ''}`).join(' ');
}
