// The scheduler's replicated state machine (docs/architecture.md §7): every replica applies the same
// committed commands in the same order and gets the same state and the same effects. Pure: no
// I/O, no clock (time is the largest entry timestamp seen), no randomness, and nothing whose
// result depends on anything but the commands (Map iteration is insertion order; every order that
// could differ after a restore is sorted).
//
// This file decides whether a command may do what it asks (validation, idempotency, fencing,
// capacity); lifecycle.ts carries out the transitions, state.ts holds the data, job-view.ts builds
// the views and snapshot-codec.ts writes and reads snapshots.
import { at } from '../invariant.js';
import type { NodeId } from '../raft/types.js';
import { END, signalIn } from './attempts.js';
import { decodeCommand } from './command-codec.js';
import { checkJobSpec } from './dag-check.js';
import { Job, NO_EXIT, R, T, TASK_STATE_NAMES, type TaskStateCode } from './job.js';
import { buildJobView, jobSummary, launchOf, readyTasks } from './job-view.js';
import { jobDetail, jobProgress, specPage, taskItem, taskPage, taskPosition } from './job-pages.js';
import { inputsOf } from './outputs.js';
import { Lifecycle, type ApplyContext, type Readied } from './lifecycle.js';
import { chooseRerun } from './reruns.js';
import { Capacity } from './runnable.js';
import { PLACEMENT_LIMITS, formatLabels, hasLabels, poolNameProblem, poolSizeProblem } from './placement.js';
import type { FireItem, JobOrigin, ScheduleView } from './schedule-types.js';
import { Schedules } from './schedules.js';
import { TimerKind } from './timers.js';
import { SnapshotEncoder, decodeSnapshot, encodeSnapshot, hashBytes } from './snapshot-codec.js';
import { checkJobPart } from './dag-check.js';
import { StagedSubmit, sameHeader } from './staging.js';
import { STAGING_LIMITS } from './staging-limits.js';
import type { JobGraph } from './job.js';
import { MAX_RETIRED_BOOTS, NO_LABELS, SchedulerState, heldSorted, newNode, type NodeRec } from './state.js';
import type {
  Command,
  CommandType,
  Effect,
  FinishItem,
  JobId,
  JobSpec,
  JobSummary,
  JobView,
  JobDetail,
  JobProgress,
  TaskItem,
  TaskPageResult,
  SpecQuery,
  SpecPageResult,
  TaskQuery,
  Ms,
  NodeView,
  PoolView,
  ReadyTask,
  RerunCommand,
  RerunRefusal,
  SchedulerStats,
  SchedulerView,
  TaskLaunch,
  TaskRef,
  TaskSpec,
} from './types.js';

export { TIMEOUT_GRACE_MS, backoffFor } from './lifecycle.js';

type Claim = Extract<Command, { type: 'claim' }>;
type Finish = Extract<Command, { type: 'finish' }>;
type Heartbeat = Extract<Command, { type: 'heartbeat' }>;
type PoolSet = Extract<Command, { type: 'pool-set' }>;
type Submit = Extract<Command, { type: 'submit' }>;
type SubmitPart = Extract<Command, { type: 'submit-part' }>;

export class Scheduler implements SchedulerView {
  private readonly s: SchedulerState;
  private readonly life: Lifecycle;
  private readonly sched: Schedules;

  constructor(state: SchedulerState = new SchedulerState()) {
    this.s = state;
    this.life = new Lifecycle(state);
    this.sched = new Schedules(state, {
      start: (cx, id, spec, origin) => this.startJob(cx, id, null, spec, origin),
      cancel: (cx, job) => this.life.cancel(cx, job),
    });
  }

  // --- applying entries --------------------------------------------------------------------------

  /**
   * Applies one committed entry's command bytes; undecodable bytes are counted and otherwise only
   * move time. `proposer` is the member the entry's leader authenticated as its proposer (see
   * Entry.proposer): a claim, heartbeat or finish applies only when it speaks for that member.
   */
  apply(data: Uint8Array, index: number, time: Ms, proposer?: NodeId): Effect[] {
    const d = decodeCommand(data);
    if (d.ok) return this.applyCommand(d.value, index, time, proposer);
    this.s.stats.undecodable++;
    return this.run(index, time, () => undefined);
  }

  /** Applies a decoded command of the entry at `index`, stamped `time` by the leader. */
  applyCommand(cmd: Command, index: number, time: Ms, proposer?: NodeId): Effect[] {
    return this.run(index, time, (cx) => {
      this.s.stats.applied++;
      if (proposer !== undefined && 'node' in cmd && cmd.node !== proposer) {
        // A member forging a command for another node (its lease, its results): refused alike everywhere.
        return this.ignore(cx, cmd.type, `proposed by ${proposer}, not by ${cmd.node} for whom it speaks`);
      }
      switch (cmd.type) {
        case 'submit':
          return this.submit(cx, cmd);
        case 'submit-part':
          return this.submitPart(cx, cmd);
        case 'heartbeat':
          return this.heartbeat(cx, cmd);
        case 'claim':
          return this.claim(cx, cmd);
        case 'finish':
          return this.finish(cx, cmd);
        case 'cancel':
          return this.cancel(cx, cmd.job);
        case 'rerun':
          return this.rerun(cx, cmd);
        case 'tick':
          return undefined;
        case 'pool-set':
          return this.poolSet(cx, cmd);
        case 'schedule-put':
        case 'schedule-delete':
        case 'schedule-pause':
        case 'schedule-trigger':
        case 'fire':
          return this.sched.apply(cx, cmd);
        default:
          return this.ignore(cx, (cmd as { type: CommandType }).type, 'unknown command type');
      }
    });
  }

  /**
   * Time first (the entry's timestamp, then every timer due by it), then the command. The entry's
   * ApplyContext (index, time, effects) is made here and handed to every step that needs it.
   */
  private run(index: number, time: Ms, body: (cx: ApplyContext) => void): Effect[] {
    const s = this.s;
    if (time > s.now) s.now = time;
    const cx: ApplyContext = { index, now: s.now, out: [], readied: null };
    this.life.fireDue(cx);
    if (s.staged.size > 0) this.expireStaged(cx);
    body(cx);
    return cx.out;
  }

  private ignore(cx: ApplyContext, command: CommandType, reason: string): void {
    cx.out.push({ type: 'ignored', command, reason });
  }

  // --- submit --------------------------------------------------------------------------------------

  private submit(cx: ApplyContext, cmd: Submit): void {
    const s = this.s;
    const out = cx.out;
    if (cmd.key !== null) {
      const existing = s.keys.get(cmd.key);
      if (existing !== undefined) {
        out.push({ type: 'submitted', requested: cmd.id, job: existing, existing: true });
        return;
      }
    }
    if (typeof cmd.id !== 'string' || cmd.id === '') {
      out.push({ type: 'submit-rejected', requested: cmd.id, error: 'the job id is empty' });
      return;
    }
    if (s.jobs.has(cmd.id)) {
      out.push({ type: 'submit-rejected', requested: cmd.id, error: `job id ${cmd.id} is already taken` });
      return;
    }
    // The API validated it already; every replica checks again, deterministically, what the log holds.
    const check = checkJobSpec(cmd.spec);
    if (!check.ok) {
      out.push({ type: 'submit-rejected', requested: cmd.id, error: check.error });
      return;
    }
    this.startJob(cx, cmd.id, cmd.key, check.spec, null);
  }

  // --- a big submit in parts (staging.ts) ---------------------------------------------------------

  /**
   * Stages one part of a big submit, or (its last part) creates the job. Parts come in order from
   * 0; a repeated part is ignored; a gap, another header, a refused task or a limit drops the
   * staged parts and answers the submit `submit-rejected` with the reason.
   */
  private submitPart(cx: ApplyContext, cmd: SubmitPart): void {
    const s = this.s;
    const out = cx.out;
    const staged = s.staged.get(cmd.id);
    const reject = (error: string, retry = false): void => {
      s.staged.delete(cmd.id);
      out.push({ type: 'submit-rejected', requested: cmd.id, error, ...(retry ? { retry } : {}) });
    };
    if (cmd.key !== null) {
      const existing = s.keys.get(cmd.key);
      if (existing !== undefined) {
        // Another attempt under the same key made the job: this one is answered with it, its parts dropped.
        s.staged.delete(cmd.id);
        out.push({ type: 'submitted', requested: cmd.id, job: existing, existing: true });
        return;
      }
    }
    if (s.jobs.has(cmd.id)) return reject(`job id ${cmd.id} is already taken`);
    if (staged !== undefined && cmd.part < staged.received)
      return this.ignore(cx, 'submit-part', `part ${cmd.part} of job ${cmd.id} is already staged`);
    const expected = staged?.received ?? 0;
    if (cmd.part !== expected)
      return reject(
        staged === undefined
          ? `part ${cmd.part} of job ${cmd.id} came without its earlier parts (dropped after ${STAGING_LIMITS.idleMs / 1000} s without a part, or refused)`
          : `part ${cmd.part} of job ${cmd.id} came when part ${expected} was expected`,
        staged === undefined,
      );
    if (staged !== undefined && (cmd.parts !== staged.parts || cmd.key !== staged.key))
      return reject(`part ${cmd.part} of job ${cmd.id} says ${cmd.parts} parts and key ${String(cmd.key)}, unlike its part 0`);
    const check = checkJobPart(cmd.spec, staged?.specs ?? 0);
    if (!check.ok) return reject(check.error);
    if (staged !== undefined && !sameHeader(staged.header, check.header))
      return reject(`part ${cmd.part} of job ${cmd.id} has another job header (name, retention, timeout, concurrency) than its part 0`);
    let st = staged;
    if (st === undefined) {
      if (s.staged.size >= STAGING_LIMITS.maxStaged)
        return reject(
          `${s.staged.size} big submits are being staged already (at most ${STAGING_LIMITS.maxStaged}); submit again shortly`,
          true,
        );
      st = new StagedSubmit(cmd.id, cmd.key, cmd.parts, check.header, cx.now);
      s.staged.set(cmd.id, st);
    }
    const limit = st.add(check.tasks);
    if (limit !== null) return reject(limit);
    st.received++;
    st.lastAt = cx.now;
    if (st.received < st.parts) {
      out.push({ type: 'submit-staged', requested: cmd.id, part: cmd.part, parts: cmd.parts });
      return;
    }
    s.staged.delete(cmd.id);
    const whole = st.finish();
    if (!whole.ok) return reject(whole.error);
    this.startJob(cx, cmd.id, cmd.key, whole.spec, null, whole.graph);
  }

  /** Drops the staged submits that went STAGING_LIMITS.idleMs of scheduler time without a part. */
  private expireStaged(cx: ApplyContext): void {
    for (const st of [...this.s.staged.values()]) {
      if (cx.now - st.lastAt <= STAGING_LIMITS.idleMs) continue;
      this.s.staged.delete(st.id);
      this.ignore(
        cx,
        'submit-part',
        `job ${st.id}: ${st.received} of ${st.parts} parts staged, none for ${STAGING_LIMITS.idleMs / 1000} s: dropped`,
      );
    }
  }

  /** Creates a job from a checked spec (a submit's, or a schedule's run) and readies its first specs. */
  private startJob(
    cx: ApplyContext,
    id: JobId,
    key: string | null,
    spec: JobSpec,
    origin: JobOrigin | null,
    graph?: JobGraph,
  ): Job | string {
    const s = this.s;
    if (s.jobs.has(id)) return `job id ${id} is already taken`;
    const job = new Job(s.nextSerial++, id, key, spec, cx.now, graph);
    job.origin = origin;
    s.jobs.set(job.id, job);
    s.bySerial.set(job.serial, job);
    if (job.key !== null) s.keys.set(job.key, job.id);
    if (origin !== null) {
      const list = s.runningBySchedule.get(origin.schedule);
      if (list === undefined) s.runningBySchedule.set(origin.schedule, [job]);
      else list.push(job);
    }
    cx.out.push({ type: 'submitted', requested: id, job: job.id, existing: false });
    if (job.spec.timeoutMs !== undefined)
      job.timeoutTimer = s.timers.add(TimerKind.jobTimeout, job.serial, -1, cx.now + job.spec.timeoutMs);
    this.life.readyNew(cx, job);
    return job;
  }

  // --- heartbeat -----------------------------------------------------------------------------------

  private heartbeat(cx: ApplyContext, cmd: Heartbeat): void {
    const s = this.s;
    let node = s.nodes.get(cmd.node);
    if (node === undefined) {
      node = newNode(cmd.node, cmd.boot);
      s.nodes.set(node.id, node);
    } else if (node.boot !== cmd.boot) {
      // Boots are random, not ordered: a late heartbeat of an earlier incarnation must not pass for a new one.
      if (node.retired.includes(cmd.boot)) return this.ignore(cx, 'heartbeat', `${cmd.node}: boot ${cmd.boot} is an earlier incarnation`);
      this.life.holderRestarted(cx, node);
      node.retired.push(node.boot);
      if (node.retired.length > MAX_RETIRED_BOOTS) node.retired.shift();
      node.boot = cmd.boot;
    } else if (cmd.seq <= node.heartbeatSeq) {
      return this.ignore(cx, 'heartbeat', `${cmd.node}: heartbeat seq ${cmd.seq} is not after ${node.heartbeatSeq}`);
    }
    node.slots = cmd.slots;
    node.ahead = cmd.ahead ?? 0;
    node.handlers = [...cmd.handlers];
    node.handlerSet = new Set(cmd.handlers);
    node.labels = cmd.labels ?? NO_LABELS;
    node.leaseMs = cmd.leaseMs;
    node.heartbeatSeq = cmd.seq;
    node.leaseUntil = cx.now + cmd.leaseMs;
    this.life.syncLease(node);
  }

  /** The node if `boot` is its current incarnation, else why not. */
  private liveNode(id: NodeId, boot: number): NodeRec | string {
    const node = this.s.nodes.get(id);
    if (node === undefined) return `unknown node ${id}`;
    if (node.boot !== boot) return `stale boot ${boot} of ${id}`;
    return node;
  }

  // --- claim ---------------------------------------------------------------------------------------

  private claim(cx: ApplyContext, cmd: Claim): void {
    const node = this.liveNode(cmd.node, cmd.boot);
    if (typeof node !== 'string') this.life.renew(cx, node);
    for (const ref of cmd.tasks) {
      const why = typeof node === 'string' ? node : this.tryClaim(cx, node, ref);
      if (why === null) continue;
      this.s.stats.claimsRejected++;
      this.ignore(cx, 'claim', `${ref.job}/${ref.task}: ${why}`);
      if (typeof node !== 'string') cx.out.push({ type: 'claim-refused', node: node.id, job: ref.job, task: ref.task });
    }
    if (typeof node !== 'string') this.life.syncLease(node);
  }

  /** Claims `ref` for `node` if the rules allow; null when accepted, else why not. */
  private tryClaim(cx: ApplyContext, node: NodeRec, ref: TaskRef): string | null {
    const job = this.s.jobs.get(ref.job);
    if (job === undefined) return 'unknown job';
    if (job.state !== 'running') return `job is ${job.state}`;
    const task = ref.task;
    if (!Number.isInteger(task) || task < 0 || task >= job.size) return 'no such task';
    const state = at(job.tState, task, 'checked just above') as TaskStateCode;
    if (state !== T.ready) return `task is ${TASK_STATE_NAMES[state]}`;
    const spec = job.specOf(task);
    const ts = at(job.spec.tasks, spec, 'a spec');
    const handler = Job.handlerOf(ts);
    if (handler !== null && !node.handlerSet.has(handler)) return `node lacks handler ${handler}`;
    const free = capacity(node) - node.used;
    if (free < ts.slots) return `no free slots (${free} free, ${ts.slots} needed)`;
    const refusal = this.labelRefusal(node, ts) ?? this.poolRefusal(ts) ?? this.concurrencyRefusal(job);
    if (refusal !== null) return refusal;
    this.life.startRunning(cx, node, job, task, spec, ts);
    return null;
  }

  // --- placement and limits (docs/dag-file.md §14) ------------------------------------------------
  // Decided here, at apply, for every claim (a claim command, a finish's claims and its claimNext):
  // the log orders competing claims, so two nodes can never both take a pool's last slot.
  // Protected so the simulator's plants can bend one rule each (sim/scheduler-plants.ts).

  /** Why `node` may not run tasks of `ts` for its labels, or null. */
  protected labelRefusal(node: NodeRec, ts: TaskSpec): string | null {
    if (ts.on === undefined || hasLabels(node.labels, ts.on)) return null;
    return `node lacks labels ${formatLabels(ts.on)}`;
  }

  /** Why one more task of `ts` may not start for its pool, or null. */
  protected poolRefusal(ts: TaskSpec): string | null {
    if (ts.pool === undefined) return null;
    const size = this.s.pools.get(ts.pool);
    if (size === undefined) return `pool ${ts.pool} does not exist`;
    const used = this.s.poolUsed.get(ts.pool) ?? 0;
    return used < size ? null : `pool ${ts.pool} is full (${used} of ${size} slots held)`;
  }

  /** Why one more task of `job` may not start for its `concurrency`, or null. */
  protected concurrencyRefusal(job: Job): string | null {
    const limit = job.spec.concurrency;
    if (limit === undefined) return null;
    const running = job.counts[T.running] as number;
    return running < limit ? null : `job concurrency ${limit} reached`;
  }

  private poolSet(cx: ApplyContext, cmd: PoolSet): void {
    // The codec checked both; a command built in memory (the simulator, tests) is checked the same way.
    const problem = poolNameProblem(cmd.name) ?? poolSizeProblem(cmd.size);
    if (problem !== null) return this.ignore(cx, 'pool-set', problem);
    const pools = this.s.pools;
    if (!pools.has(cmd.name) && pools.size >= PLACEMENT_LIMITS.maxPools)
      return this.ignore(cx, 'pool-set', `${pools.size} pools already (at most ${PLACEMENT_LIMITS.maxPools})`);
    pools.set(cmd.name, cmd.size);
    cx.out.push({ type: 'pool', name: cmd.name, size: cmd.size });
  }

  // --- finish --------------------------------------------------------------------------------------

  private finish(cx: ApplyContext, cmd: Finish): void {
    const life = this.life;
    const node = this.liveNode(cmd.node, cmd.boot);
    if (typeof node !== 'string') {
      life.renew(cx, node);
      if (cmd.claimNext) cx.readied = [];
    }
    for (const r of cmd.results) {
      const why = typeof node === 'string' ? node : this.finishOne(cx, node, r);
      if (why === null) continue;
      this.s.stats.finishesStale++;
      this.ignore(cx, 'finish', `${r.job}/${r.task} attempt ${r.attempt}: ${why}`);
    }
    const readied = cx.readied;
    cx.readied = null;
    if (typeof node !== 'string' && readied !== null) this.claimReadied(cx, node, readied);
    // Claims ride after the results: the slots those freed (and claimNext left) are theirs.
    for (const ref of cmd.claims ?? []) {
      const why = typeof node === 'string' ? node : this.tryClaim(cx, node, ref);
      if (why === null) continue;
      this.s.stats.claimsRejected++;
      this.ignore(cx, 'claim', `${ref.job}/${ref.task}: ${why}`);
      if (typeof node !== 'string') cx.out.push({ type: 'claim-refused', node: node.id, job: ref.job, task: ref.task });
    }
    if (typeof node !== 'string') life.syncLease(node);
  }

  /** Applies one result if it is the current attempt of a task `node` holds (fencing); null when accepted, else why not. */
  private finishOne(cx: ApplyContext, node: NodeRec, r: FinishItem): string | null {
    const job = this.s.jobs.get(r.job);
    if (job === undefined) return 'unknown job';
    const task = r.task;
    if (!Number.isInteger(task) || task < 0 || task >= job.size) return 'no such task';
    if (job.state !== 'running') return `job is ${job.state}`;
    const state = at(job.tState, task, 'checked just above') as TaskStateCode;
    if (state !== T.running) return `task is ${TASK_STATE_NAMES[state]}`;
    if (!job.heldBy(task, node.id)) return `task is held by ${job.holderName(task) ?? 'nobody'}`;
    if (job.attempt[task] !== r.attempt) return `attempt is stale (current ${job.attempt[task]})`;
    this.s.stats.finishesAccepted++;
    this.life.stopRunning(cx, job, task, null);
    if (r.outcome === 'abandoned') {
      this.life.requeueLost(cx, job, task);
      return null;
    }
    job.willChange(task);
    job.exitCode[task] = r.exitCode ?? NO_EXIT;
    job.durationMs[task] = r.durationMs;
    if (r.stdout !== '' || r.stderr !== '') job.tails.set(task, { stdout: r.stdout, stderr: r.stderr });
    else job.tails.delete(task);
    const spec = job.specOf(task);
    if (r.outcome === 'succeeded') {
      if (r.output !== undefined && r.output !== '') job.outputs.set(task, r.output);
      this.life.succeed(cx, job, task, spec);
    } else {
      this.life.keepEnded(cx, job, task, r.outcome === 'timeout' ? END.timeout : END.failed, r.exitCode, signalIn(r.stderr));
      this.life.failAttempt(cx, job, task, spec, r.outcome === 'timeout' ? R.timeout : R.attemptFailed);
    }
    return null;
  }

  /** claimNext: the dependents this finish made ready go to the same node, in order, while they fit. */
  private claimReadied(cx: ApplyContext, node: NodeRec, readied: readonly Readied[]): void {
    for (const { job, spec, start, end } of readied) {
      if (node.used >= capacity(node)) return;
      if (job.state !== 'running') continue;
      const ts = at(job.spec.tasks, spec, 'a spec');
      const handler = Job.handlerOf(ts);
      if (handler !== null && !node.handlerSet.has(handler)) continue;
      if (this.labelRefusal(node, ts) !== null) continue;
      for (let t = start; t < end && capacity(node) - node.used >= ts.slots; t++) {
        if (this.poolRefusal(ts) !== null || this.concurrencyRefusal(job) !== null) break;
        if (job.tState[t] === T.ready) this.life.startRunning(cx, node, job, t, spec, ts);
      }
    }
  }

  // --- cancel --------------------------------------------------------------------------------------

  private cancel(cx: ApplyContext, id: JobId): void {
    const job = this.s.jobs.get(id);
    if (job === undefined) return this.ignore(cx, 'cancel', `unknown job ${id}`);
    if (job.state !== 'running') return this.ignore(cx, 'cancel', `job ${id} has already ended: ${job.state}`);
    this.life.cancel(cx, job);
  }

  // --- rerun ---------------------------------------------------------------------------------------

  /** Re-runs tasks of a finished job (reruns.ts chooses them, Lifecycle.rerun carries it out), or says why not. */
  private rerun(cx: ApplyContext, cmd: RerunCommand): void {
    const refuse = (why: RerunRefusal, error: string): void => {
      cx.out.push({ type: 'rerun-rejected', job: cmd.job, why, error });
    };
    const job = this.s.jobs.get(cmd.job);
    if (job === undefined) return refuse('unknown-job', `no job ${cmd.job} (finished jobs are removed after their retention period)`);
    if (job.state === 'running') return refuse('not-finished', `job ${cmd.job} is still running: only a finished job can be re-run`);
    const choice = chooseRerun(job, cmd);
    if (!choice.ok) return refuse(choice.why, choice.error);
    this.life.rerun(cx, job, choice.marked, choice.count);
  }

  // --- the view ------------------------------------------------------------------------------------

  get now(): Ms {
    return this.s.now;
  }

  get stats(): Readonly<SchedulerStats> {
    return this.s.stats;
  }

  job(id: JobId): JobView | undefined {
    const job = this.s.jobs.get(id);
    return job === undefined ? undefined : buildJobView(job, this.capacity());
  }

  jobs(): JobSummary[] {
    return [...this.s.jobs.values()].map(jobSummary);
  }

  jobSummary(id: JobId): JobSummary | undefined {
    const job = this.s.jobs.get(id);
    return job === undefined ? undefined : jobSummary(job);
  }

  jobDetail(id: JobId): JobDetail | undefined {
    const job = this.s.jobs.get(id);
    return job === undefined ? undefined : jobDetail(job, this.capacity());
  }

  jobProgress(id: JobId): JobProgress | undefined {
    const job = this.s.jobs.get(id);
    return job === undefined ? undefined : jobProgress(job, this.capacity());
  }

  task(id: JobId, name: string): TaskItem | undefined {
    const job = this.s.jobs.get(id);
    const position = job === undefined ? null : taskPosition(job, name);
    return job === undefined || position === null ? undefined : taskItem(job, position, this.capacity());
  }

  taskPage(id: JobId, query: TaskQuery): TaskPageResult | undefined {
    const job = this.s.jobs.get(id);
    return job === undefined ? undefined : taskPage(job, query, this.capacity());
  }

  specPage(id: JobId, query: SpecQuery): SpecPageResult | undefined {
    const job = this.s.jobs.get(id);
    return job === undefined ? undefined : specPage(job, query, this.capacity());
  }

  /** The live nodes as the views judge them (runnable.ts), at scheduler time. */
  private capacity(): Capacity {
    return new Capacity(this.s.nodes.values(), this.s.now, this.s.pools, this.s.poolUsed);
  }

  jobSpec(id: JobId): JobSpec | undefined {
    return this.s.jobs.get(id)?.spec;
  }

  jobWithKey(key: string): JobId | undefined {
    return this.s.keys.get(key);
  }

  ready(): Iterable<ReadyTask> {
    const queue = this.s.ready;
    return { [Symbol.iterator]: () => readyTasks(queue) };
  }

  readyCount(): number {
    return this.s.ready.count;
  }

  node(id: NodeId): NodeView | undefined {
    const n = this.s.nodes.get(id);
    return n === undefined ? undefined : nodeView(n);
  }

  nodes(): NodeView[] {
    return [...this.s.nodes.values()].map(nodeView);
  }

  held(node: NodeId): TaskLaunch[] {
    const n = this.s.nodes.get(node);
    return n === undefined ? [] : heldSorted(n).map(({ job, task }) => launchOf(job, task));
  }

  launch(ref: TaskRef): TaskLaunch | undefined {
    const job = this.s.jobs.get(ref.job);
    if (job === undefined || !Number.isInteger(ref.task) || ref.task < 0 || ref.task >= job.size) return undefined;
    return job.tState[ref.task] === T.running ? launchOf(job, ref.task) : undefined;
  }

  inputs(ref: TaskRef): Record<string, string> {
    const job = this.s.jobs.get(ref.job);
    if (job === undefined || !Number.isInteger(ref.task) || ref.task < 0 || ref.task >= job.size) return {};
    return inputsOf(job, ref.task);
  }

  nextDeadline(): Ms | null {
    return this.s.timers.peek()?.deadline ?? null;
  }

  pools(): PoolView[] {
    return [...this.s.pools.keys()].sort().map((name) => this.poolView(name));
  }

  pool(name: string): PoolView | undefined {
    return this.s.pools.has(name) ? this.poolView(name) : undefined;
  }

  private poolView(name: string): PoolView {
    return { name, size: this.s.pools.get(name) ?? 0, used: this.s.poolUsed.get(name) ?? 0 };
  }

  jobRunning(id: JobId): number {
    return this.s.jobs.get(id)?.counts[T.running] ?? 0;
  }

  schedules(): ScheduleView[] {
    return this.sched.views();
  }

  schedule(name: string): ScheduleView | undefined {
    return this.sched.view(name);
  }

  scheduleTicks(): Iterable<FireItem> {
    return this.sched.due();
  }

  // --- snapshots -----------------------------------------------------------------------------------

  /** The whole state as bytes; `Scheduler.restore` of them behaves exactly like this machine. */
  encode(): Uint8Array {
    return encodeSnapshot(this.s);
  }

  /** Encodes the state as it is now a slice at a time, while commands go on being applied (SnapshotEncoder). */
  startEncode(blockShift?: number): SnapshotEncoder {
    return new SnapshotEncoder(this.s, true, blockShift);
  }

  /** Throws on bytes that are not a snapshot this code wrote. */
  static restore(bytes: Uint8Array): Scheduler {
    return new Scheduler(decodeSnapshot(bytes));
  }

  /** A deterministic digest of the whole state (FNV over encode()), for comparing replicas. */
  hash(): string {
    return hashBytes(this.encode());
  }
}

/** The slots a node's claims may take: its slots and the claims it holds ahead (Command heartbeat `ahead`). */
function capacity(n: NodeRec): number {
  return n.slots + n.ahead;
}

function nodeView(n: NodeRec): NodeView {
  return {
    id: n.id,
    boot: n.boot,
    slots: n.slots,
    ahead: n.ahead,
    handlers: n.handlers,
    labels: n.labels,
    leaseMs: n.leaseMs,
    leaseUntil: n.leaseUntil,
    heartbeatSeq: n.heartbeatSeq,
    used: n.used,
    running: n.running,
  };
}
