// The scheduler's checkers (docs/simulation.md §5). They follow two streams:
// - the committed effects, once per log index (replicas apply the same entries to the same state,
//   which the Raft checker verifies by the state hash, so one copy of the stream is the canonical
//   one), from which they keep a model of every job and task;
// - the simulated executors' records: which attempt of which task ran on which node, from when to
//   when, and how it ended.
// What they check:
//   (a) a task is readied, claimed and started only once all its dependencies succeeded (in the
//       log, at or before the claim, and in simulated time, before it starts);
//   (b) each (task, attempt) leaves `running` at most once; a task succeeds at most once and never
//       changes after a final state; an accepted finish is the holder's, for the current attempt;
//       a committed success is an execution of that attempt, on that node, that succeeded;
//   (c) no two attempts of one task execute at the same simulated time (a paused node's frozen
//       attempt does not execute; its worker must kill it before it thaws if its lease ran out);
//   (d) every acknowledged job exists on every replica after convergence, in the same state;
//   (f) outcomes: a job whose tasks' fates all end in success ends `succeeded` (unless faults
//       excused the failure of a task), a job with an always-failing task ends `failed`, the
//       failing task `failed` and everything downstream of it `skipped`.
// (e), the bound on the time to finish after the heal, is the workload's (it owns the clock).
// And the adversary's (adversary.ts): a member's command forged to speak for another node (a
// heartbeat with a new boot, a claim in its name, a finish of a task it holds) may be in the log,
// but applies as ignored and changes nothing of that node's (checkLie).
import { at } from '../src/invariant.js';
import { decodeNodeEntry } from '../src/node/entry-envelope.js';
import type { Entry, NodeId } from '../src/raft/types.js';
import { decodeCommand } from '../src/scheduler/command-codec.js';
import { FINAL_TASK_STATES, type Command, type Effect, type JobId, type JobState, type TaskEvent, type TaskState, type TaskView } from '../src/scheduler/types.js';
import type { PlannedJob, PlannedTask } from './dag-gen.js';
import type { ExecRecord } from './sim-executor.js';

/**
 * Reasons with which a task leaves `running` without a finish having been accepted. ('timeout' is
 * either: the holder's own finish with outcome timeout, or the state machine's safety net.)
 */
const NOT_A_FINISH: ReadonlySet<string> = new Set(['lease expired', 'holder restarted', 'cancelled']);

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
  /** Log index of the committed success. */
  succeededAt: number | null;
  /** The execution whose result that success is. */
  success: ExecRecord | null;
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
  readonly key: string | null;
  readonly submittedAt: number;
  state: JobState;
  /** Log index at which the job reached a final state. */
  finalAt: number | null;
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
  readonly counts = { claims: 0, finishesAccepted: 0, successes: 0, retriesOrRequeues: 0, started: 0, overlapsChecked: 0 };
  /** Executions by task (job id, task index), oldest first. */
  private readonly execs = new Map<string, ExecRecord[]>();
  private failed = false;

  constructor(
    private readonly world: CheckerWorld,
    private readonly planByName: ReadonlyMap<string, PlannedJob>,
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
    for (const e of effects) {
      switch (e.type) {
        case 'submitted':
          if (!e.existing) this.submitted(e.job, cmd, entry.index);
          break;
        case 'task':
          this.taskEvent(e, cmd, entry.index);
          break;
        case 'tasks':
          // A run of never-claimed tasks, as one event per task.
          for (let task = e.start; task < e.end; task++) {
            const name = this.jobs.get(e.job)?.tasks[task]?.plan.name ?? `#${task}`;
            this.taskEvent({ type: 'task', job: e.job, task, name, from: e.from, to: e.to, node: null, attempt: 0, fence: null, reason: e.reason }, cmd, entry.index);
          }
          break;
        case 'job':
          this.jobEvent(e.job, e.state, entry.index);
          break;
        default:
          break;
      }
    }
    return cmd;
  }

  private submitted(id: JobId, cmd: Command | null, index: number): void {
    if (cmd?.type !== 'submit' || cmd.id !== id) {
      this.fail('job accounting', `a job ${id} was created at ${index} by an entry that is not its submit`);
      return;
    }
    const plan = this.planByName.get(cmd.spec.name);
    if (!plan) {
      this.fail('job accounting', `job ${id} at ${index} is named '${cmd.spec.name}', which the workload never submitted`);
      return;
    }
    if (this.jobs.has(id)) {
      this.fail('job accounting', `job ${id} was created twice (again at ${index})`);
      return;
    }
    if (cmd.key !== null) {
      for (const j of this.jobs.values()) {
        if (j.key === cmd.key) this.fail('idempotency', `job ${id} created at ${index} with key '${cmd.key}', which job ${j.id} already has`);
      }
    }
    this.jobs.set(id, {
      id, plan, key: cmd.key, submittedAt: index, state: 'running', finalAt: null,
      tasks: plan.tasks.map((t) => ({
        plan: t, state: 'waiting', attempt: 0, node: null, fence: null, succeededAt: null, success: null, exits: new Map(),
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
    this.world.trace(() => `log ${index}: ${e.job}/${e.name} ${e.from} -> ${e.to}${e.node ? ` (${e.node} #${e.attempt})` : ''}${e.reason ? `: ${e.reason}` : ''}`);
    if (e.name !== t.plan.name) this.fail('task events', `${what}: the DAG's task ${e.task} is '${t.plan.name}'`);
    if (e.from !== t.state) this.fail('task events', `${what}: event ${e.from} -> ${e.to}, but the task was ${t.state}`);
    if (FINAL_TASK_STATES.has(t.state)) {
      this.fail('one result per task (b)', `${what} left its final state ${t.state} for ${e.to}`);
    }
    // (a) at the state level: nothing is ready or claimed while a dependency has not succeeded.
    if (e.to === 'ready' || e.to === 'running') {
      const open = t.plan.deps.filter((d) => job.tasks[d]?.succeededAt === null);
      if (open.length > 0) {
        const names = open.map((d) => `${job.tasks[d]?.plan.name} (${job.tasks[d]?.state})`).join(', ');
        this.fail('dependencies first (a)', `${what} became ${e.to} while its dependencies ${names} had not succeeded`);
      }
    }
    if (e.to === 'running') {
      this.counts.claims++;
      if (e.attempt <= t.attempt) {
        this.fail('fencing (b)', `${what}: claimed as attempt ${e.attempt}, but attempt ${t.attempt} was already given out`);
      }
      if (e.fence !== index) this.fail('fencing (b)', `${what}: claimed with fence ${String(e.fence)} by the entry at ${index}`);
    }
    if (e.from === 'running') {
      if (t.exits.has(e.attempt)) {
        this.fail('one finish per attempt (b)', `${what}: attempt ${e.attempt} left running a second time (${e.to}${e.reason ? `, ${e.reason}` : ''})`);
      }
      const finish = (e.reason === null || !NOT_A_FINISH.has(e.reason)) && this.acceptedFinish(e, t, cmd, what);
      t.exits.set(e.attempt, { node: e.node, to: e.to, reason: e.reason, finish });
      if (e.to !== 'succeeded') this.counts.retriesOrRequeues++;
    }
    if (e.to === 'succeeded') this.succeeded(e, t, index, what);
    t.state = e.to;
    t.attempt = Math.max(t.attempt, e.attempt);
    t.node = e.node;
    t.fence = e.fence;
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
      this.fail('success without a successful run (b)', `${what}: committed succeeded as attempt ${e.attempt} on ${e.node ?? '-'}, but no such attempt ran to success; runs: ${runs}`);
      return;
    }
    t.success = rec;
  }

  private jobEvent(id: JobId, state: JobState, index: number): void {
    const job = this.jobs.get(id);
    if (!job) {
      this.fail('job accounting', `a job event (${state}) for unknown job ${id} at ${index}`);
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
    // (a) against the executions: every dependency succeeded at or before the claim, by a run that had ended.
    const t = at(job.tasks, rec.task, 'a task of the model');
    for (const d of t.plan.deps) {
      const dep = at(job.tasks, d, 'a task of the model');
      if (dep.succeededAt === null || dep.succeededAt > rec.fence) {
        this.fail('dependencies first (a)', `${what}, but its dependency ${dep.plan.name} ${dep.succeededAt === null ? `has not succeeded (it is ${dep.state})` : `succeeded only at index ${dep.succeededAt}`}`);
        return;
      }
      if (dep.success && (dep.success.endedAt === null || dep.success.endedAt > rec.startedAt)) {
        this.fail('dependencies first (a)', `${what} at ${rec.startedAt}ms, before its dependency ${dep.plan.name}'s run ended`);
        return;
      }
    }
    this.checkOverlap(rec, list);
  }

  thawed(rec: ExecRecord): void {
    this.checkOverlap(rec, this.execs.get(execKey(rec.job, rec.task)) ?? []);
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
    const doomed = tasks.filter((t) => t.plan.fate.kind !== 'succeed');
    const failedTasks = tasks.filter((t) => t.state === 'failed');
    const all = (s: TaskState): boolean => tasks.every((t) => t.state === s);
    if (job.state === 'running') {
      this.fail('job liveness (e)', `${name} is still running`);
      return;
    }
    if (job.state === 'succeeded' && !all('succeeded')) {
      this.fail('job outcome (f)', `${name} succeeded with tasks ${describeStates(tasks)}`);
      return;
    }
    if (job.state === 'failed' && failedTasks.length === 0) {
      this.fail('job outcome (f)', `${name} failed, yet none of its tasks failed: ${describeStates(tasks)}`);
      return;
    }
    if (job.state === 'cancelled') {
      this.fail('job outcome (f)', `${name} was cancelled, but the workload cancels nothing`);
      return;
    }
    for (const t of tasks) {
      if (!FINAL_TASK_STATES.has(t.state)) {
        this.fail('job outcome (f)', `${name} is ${job.state} with task ${t.plan.name} still ${t.state}`);
        return;
      }
    }
    // Skipped exactly below a failure: everything downstream of a failed task, and nothing else.
    const below = downstreamOf(job.plan, failedTasks.map((t) => t.plan.index));
    for (const t of tasks) {
      if (below.has(t.plan.index) && t.state !== 'skipped' && t.state !== 'failed') {
        this.fail('job outcome (f)', `${name}: task ${t.plan.name} is ${t.state}, though it depends on a failed task (${failedTasks.map((f) => f.plan.name).join(', ')})`);
        return;
      }
      if (t.state === 'skipped' && !below.has(t.plan.index)) {
        this.fail('job outcome (f)', `${name}: task ${t.plan.name} was skipped, but nothing upstream of it failed`);
        return;
      }
    }
    if (doomed.length > 0) {
      if (job.state !== 'failed') {
        this.fail('job outcome (f)', `${name} has a task that fails every attempt (${doomed.map((t) => t.plan.name).join(', ')}) but ended ${job.state}`);
        return;
      }
      for (const t of doomed) {
        if (t.state !== 'failed' && t.state !== 'skipped') {
          this.fail('job outcome (f)', `${name}: task ${t.plan.name} fails every attempt but ended ${t.state}`);
          return;
        }
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
        this.fail('job outcome (f)', `${name}: task ${t.plan.name} ended failed after only planned failures (${t.plan.fate.failFirst} planned, ${t.plan.retries} retries): ${this.describeExecs(job.id, t.plan.index)}`);
        return;
      }
    }
  }

  /**
   * (d) and the replicas' agreement: every acknowledged job is on every replica in the state the
   * log gives it; `views` are the replicas' scheduler views.
   */
  checkReplicas(acked: ReadonlyMap<JobId, string>, replicas: ReadonlyMap<NodeId, { job(id: JobId): { state: JobState; tasks: Readonly<Record<string, TaskView>> } | undefined }>): void {
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
    return runs.map((r) => `#${r.attempt} on ${r.node} ${r.startedAt}-${r.endedAt ?? '…'}ms ${r.end ?? 'running'}${r.outcome ? `/${r.outcome}` : ''}`).join(', ');
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
      const done = effects.find((e) => e.type === 'task' && e.to === 'succeeded' && cmd.results.some((r) => r.job === e.job && r.task === e.task));
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

/** Flat indices of the tasks that depend, directly or not, on any of `roots`. */
function downstreamOf(plan: PlannedJob, roots: readonly number[]): Set<number> {
  const out = new Set<number>();
  const bad = new Set(roots);
  // Tasks come in file order after their deps (the generator only names earlier specs).
  for (const t of plan.tasks) {
    if (t.deps.some((d) => bad.has(d) || out.has(d))) out.add(t.index);
  }
  return out;
}

function describeStates(tasks: readonly TaskModel[]): string {
  return tasks.map((t) => `${t.plan.name}=${t.state}${t.attempt > 0 ? `#${t.attempt}` : ''}`).join(' ');
}
