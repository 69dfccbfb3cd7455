// One node's worker (docs/architecture.md §4, §8 and §9): it keeps this node's lease with heartbeats,
// claims ready tasks by the claim policy, starts what the replicated state says it holds, and
// reports results with fenced finishes. Everything it touches is injected (clock, executor,
// proposals, gossip, the scheduler's view), so the simulator runs this very code.
//
// Two rules carry the safety argument:
// - it starts an attempt only when this replica's state machine says this boot holds it, and
//   never the same (task, attempt) twice;
// - it counts its lease from the local time a heartbeat was proposed (the leader stamps it
//   later), and kills every execution a margin before that lease would run out, so it never runs
//   a task the scheduler may already have handed to another node.
import type { NodeId } from '../raft/types.js';
import type {
  Effect,
  FinishItem,
  Labels,
  Ms,
  ReadyTask,
  SchedulerView,
  TaskEvent,
  TaskLaunch,
  TaskRangeEvent,
  TaskRef,
} from '../scheduler/types.js';
import { MAX_COMMAND_BYTES } from '../scheduler/command-codec.js';
import { chooseClaims, OwnerCache } from './claim-policy.js';
import { ClaimsInFlight } from './claims-in-flight.js';
import type { Clock, ExecResult, Execution, Executor, PeerLoad, Propose, Timer } from './types.js';

export interface WorkerOptions {
  readonly self: NodeId;
  /** This process's incarnation (see Command). */
  readonly boot: number;
  readonly slots: number;
  /** Default WORKER_DEFAULTS.leaseMs. */
  readonly leaseMs?: Ms;
  /** Default leaseMs / 5. */
  readonly heartbeatMs?: Ms;
  /** Default WORKER_DEFAULTS.stealAfterMs (about two gossip periods). */
  readonly stealAfterMs?: Ms;
  /** This replica's state machine, read only. */
  readonly view: SchedulerView;
  readonly executor: Executor;
  readonly clock: Clock;
  readonly propose: Propose;
  /** Live peers from gossip. */
  readonly peers: () => Iterable<PeerLoad>;
  /** This node's `--label`s, sent with its heartbeats (docs/dag-file.md §14); default none. */
  readonly labels?: Labels;
  /**
   * Claims this node may hold beyond its slots while its tasks are short (0 to `slots`; default
   * WORKER_DEFAULTS.ahead(slots)): each starts as soon as a running task ends, so a slot never
   * waits for the commit of its next claim. 0 turns claiming ahead off.
   */
  readonly ahead?: number;
}

export interface WorkerStats {
  heartbeatsProposed: number;
  /** Claim batches proposed, alone (a claim command) or riding in a finish. */
  claimCommands: number;
  /** Tasks in those commands (the denominator of the conflict rate). */
  claimsProposed: number;
  /** Claimed tasks given up on after RETRY_MS without the view deciding them (lost proposal or rejected). */
  claimsExpired: number;
  tasksStarted: number;
  /** Executions stopped because the scheduler said so or moved on. */
  tasksStopped: number;
  /** Finish commands proposed, re-sends included. */
  finishesProposed: number;
  /** Results carried by those commands. */
  resultsProposed: number;
  /** Results proposed again because the view had not resolved them after RETRY_MS. */
  resultsResent: number;
  /** Attempts killed by a lease loss that the scheduler still gave to this node afterwards, reported failed. */
  attemptsAbandoned: number;
  leaseLosses: number;
  /** Proposals Raft refused at once (no leader). */
  proposalsRefused: number;
}

/** A finish or a claim the view has not decided after this long is taken as lost. */
const RETRY_MS: Ms = 1000;
/** Results of one finish, in bytes: half an entry (MAX_COMMAND_BYTES), leaving room for its claims. */
const FINISH_BUDGET_BYTES = MAX_COMMAND_BYTES / 2;
/** Heartbeats whose proposal time is remembered while waiting to see them applied. */
const MAX_PENDING_HEARTBEATS = 64;
/** Upper bound on ready tasks the policy reads per run. */
const MAX_SCAN_LIMIT = 10_000;
/**
 * Claiming ahead is on while this node's tasks ran this long or less on average (SHORT_WEIGHT
 * below): a task claimed ahead waits on the node until a running task ends, which is then at
 * most a short task's time. Long tasks would hold it back from nodes that are free.
 */
const SHORT_TASK_MS: Ms = 100;
/** Weight of each new run time in the average (an exponential moving average over about 8 runs). */
const SHORT_WEIGHT = 1 / 8;
/** Runs seen before the average counts: a fresh node claims nothing ahead until it knows its tasks. */
const SHORT_MIN_RUNS = 8;

/** One attempt this node started, kept until the view no longer shows this node holding it. */
interface Attempt {
  readonly ref: TaskRef;
  readonly key: string;
  readonly attempt: number;
  readonly slots: number;
  /** Until onDone: a process may still occupy the slots after it was told to stop. */
  alive: boolean;
  execution: Execution | null;
  /** Its own result must not be reported: the scheduler stopped it, or the lease was lost. */
  silenced: boolean;
  /** What to report, kept until the view resolves the attempt. */
  result: FinishItem | null;
  /** Local time of the latest proposal carrying `result`; null while not yet sent. */
  sentAt: Ms | null;
  /** The claim batch that rode in the same finish as `result` (0: none): settled when the result is. */
  carried: number;
  /** Its success may ready dependents that the finish's claimNext takes (see TaskLaunch.hasDependents). */
  readonly hasDependents: boolean;
}

interface ClaimInFlight {
  /** Tasks claimed by one command are decided by one entry. */
  readonly batch: number;
  readonly slots: number;
  readonly at: Ms;
  /** The claimed task's pool, and its job when the job has a `concurrency`: the room they take until decided. */
  readonly pool?: string;
  readonly limitedJob?: string;
}

/** What one result adds to a finish's bytes, about: its texts and a few dozen for its numbers. */
function resultBytes(r: FinishItem): number {
  return 48 + Buffer.byteLength(r.stdout) + Buffer.byteLength(r.stderr) + (r.output === undefined ? 0 : Buffer.byteLength(r.output));
}

function attemptKey(ref: TaskRef, attempt: number): string {
  return `${ref.task}\u0000${attempt}\u0000${ref.job}`;
}

/** What a node's worker runs with (the simulator's scenarios use the same). */
export const WORKER_DEFAULTS = {
  leaseMs: 5000,
  stealAfterMs: 2000,
  /**
   * As many as its slots, so that every slot that frees finds its next task waiting (in the
   * simulator, Epigenomics-like went 1.11 x its list schedule with half as many, 1.08 x with these).
   */
  ahead: (slots: number): number => slots,
} as const;

export class Worker {
  readonly stats: WorkerStats = {
    heartbeatsProposed: 0,
    claimCommands: 0,
    claimsProposed: 0,
    claimsExpired: 0,
    tasksStarted: 0,
    tasksStopped: 0,
    finishesProposed: 0,
    resultsProposed: 0,
    resultsResent: 0,
    attemptsAbandoned: 0,
    leaseLosses: 0,
    proposalsRefused: 0,
  };

  private readonly self: NodeId;
  private readonly boot: number;
  private readonly slots: number;
  private readonly leaseMs: Ms;
  private readonly heartbeatMs: Ms;
  private readonly stealAfterMs: Ms;
  /** How long before the lease's conservative end the worker gives it up. */
  private readonly marginMs: Ms;
  private readonly handlers: ReadonlySet<string>;
  private readonly view: SchedulerView;
  private readonly executor: Executor;
  private readonly clock: Clock;
  private readonly propose: Propose;
  private readonly peers: () => Iterable<PeerLoad>;
  private readonly labels: Labels | undefined;
  /** The most claims held ahead (WorkerOptions.ahead). */
  private readonly aheadMax: number;
  /** Moving average of this node's recent run times, and how many runs it has seen. */
  private recentRunMs = 0;
  private runsSeen = 0;
  /** The `ahead` of the latest heartbeat proposed. */
  private aheadSent = 0;

  private readonly attempts = new Map<string, Attempt>();
  /** Held by this boot (claimed ahead) but not started: no slot was free. Started in order as slots free. */
  private readonly waiting = new Map<string, TaskLaunch>();
  private readonly claims = new ClaimsInFlight<ClaimInFlight>();
  /** Ready tasks' preferred owners over the current ring, kept between claim runs (claim-policy.ts). */
  private readonly owners = new OwnerCache();
  private batchSeq = 0;

  private seq = 0;
  /** Local time each heartbeat still waiting to be seen applied was proposed, by seq (ascending). */
  private readonly heartbeatsProposedAt = new Map<number, Ms>();
  private appliedSeq = 0;
  /** The lease holds until renewedAt + leaseMs by the scheduler's clock, at the least. */
  private renewedAt: Ms | null = null;
  private leaseLost = false;

  private running = false;
  private stopped = false;
  private claimWanted = false;
  private heartbeatTimer: Timer | null = null;
  private turnTimer: Timer | null = null;
  private leaseTimer: Timer | null = null;
  private pollTimer: Timer | null = null;
  private retryTimer: Timer | null = null;

  constructor(opts: WorkerOptions) {
    this.self = opts.self;
    this.boot = opts.boot;
    this.slots = opts.slots;
    this.leaseMs = opts.leaseMs ?? WORKER_DEFAULTS.leaseMs;
    this.heartbeatMs = opts.heartbeatMs ?? this.leaseMs / 5;
    this.stealAfterMs = opts.stealAfterMs ?? WORKER_DEFAULTS.stealAfterMs;
    this.marginMs = this.leaseMs / 5;
    if (!(this.heartbeatMs > 0 && this.heartbeatMs < this.leaseMs - this.marginMs)) {
      throw new RangeError(`heartbeatMs (${this.heartbeatMs}) must be positive and below leaseMs * 4/5 (${this.leaseMs - this.marginMs})`);
    }
    this.handlers = new Set(opts.executor.handlers);
    this.view = opts.view;
    this.executor = opts.executor;
    this.clock = opts.clock;
    this.propose = opts.propose;
    this.peers = opts.peers;
    this.labels = opts.labels !== undefined && Object.keys(opts.labels).length > 0 ? opts.labels : undefined;
    this.aheadMax = opts.ahead ?? WORKER_DEFAULTS.ahead(this.slots);
    if (!(Number.isInteger(this.aheadMax) && this.aheadMax >= 0 && this.aheadMax <= this.slots)) {
      throw new RangeError(`ahead (${this.aheadMax}) must be an integer from 0 to slots (${this.slots})`);
    }
  }

  /** Proposes the first heartbeat now, then one every heartbeatMs. */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.heartbeat();
  }

  /** Cancels every timer and stops every execution; no finish is proposed after this. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.heartbeatTimer, this.turnTimer, this.leaseTimer, this.pollTimer, this.retryTimer]) t?.cancel();
    this.heartbeatTimer = this.turnTimer = this.leaseTimer = this.pollTimer = this.retryTimer = null;
    this.silenceAll('worker stopped');
    this.claims.clear();
    this.waiting.clear();
  }

  /**
   * Called after entries were applied on this replica, with their effects (possibly several
   * entries' at once), or with none after the whole state was replaced by a snapshot. Decisions
   * read the view's current state; an effect only says where to look.
   */
  onEffects(effects: readonly Effect[]): void {
    if (this.stopped || !this.running) return;
    this.refreshLease();
    // Stops first: the task event that comes with a stop (running -> ready, skipped...) would
    // otherwise stop the attempt first, with a vaguer reason than the scheduler's.
    for (const e of effects) if (e.type === 'stop' && e.node === this.self) this.stopAttempt(e, e.attempt, e.reason);
    for (const e of effects) {
      if (e.type === 'task') this.onTaskEvent(e);
      else if (e.type === 'tasks') this.onRangeEvent(e);
      else if (e.type === 'claim-refused' && e.node === this.self) this.onClaimRefused(e);
    }
    // No effects: a snapshot replaced the state, and any of them may have been missed.
    if (effects.length === 0) this.reconcile();
    this.scheduleTurn();
  }

  /** This node's load, for gossip. */
  load(): { slots: number; free: number; running: number; handlers: readonly string[] } {
    let running = 0;
    for (const a of this.attempts.values()) if (a.alive) running++;
    // Free slots to claim into may include claims ahead (freeSlots); a load report counts slots, never more than there are.
    return { slots: this.slots, free: Math.min(this.slots, this.freeSlots()), running, handlers: this.executor.handlers };
  }

  // --- the lease -------------------------------------------------------------------------------

  private heartbeat(): void {
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = null;
    const seq = ++this.seq;
    this.aheadSent = this.aheadWanted();
    const ok = this.propose({
      type: 'heartbeat',
      node: this.self,
      boot: this.boot,
      slots: this.slots,
      handlers: this.executor.handlers,
      leaseMs: this.leaseMs,
      seq,
      ...(this.labels === undefined ? {} : { labels: this.labels }),
      ...(this.aheadSent === 0 ? {} : { ahead: this.aheadSent }),
    });
    if (ok) {
      this.stats.heartbeatsProposed++;
      this.heartbeatsProposedAt.set(seq, this.clock.now());
      // Forgetting the oldest only makes the worker more conservative: that heartbeat, if it is
      // applied after all, renews nothing.
      if (this.heartbeatsProposedAt.size > MAX_PENDING_HEARTBEATS) {
        const oldest = this.heartbeatsProposedAt.keys().next();
        if (!oldest.done) this.heartbeatsProposedAt.delete(oldest.value);
      }
    } else {
      this.stats.proposalsRefused++;
    }
    this.refreshLease();
    // The periodic safety net: effects can be missed (a snapshot), and gossip or the age of ready
    // tasks (stealing) change without any entry.
    this.reconcile();
    this.heartbeatTimer = this.clock.after(this.heartbeatMs, () => this.heartbeat());
  }

  private leaseDeadline(): Ms | null {
    return this.renewedAt === null ? null : this.renewedAt + this.leaseMs - this.marginMs;
  }

  private leaseHeld(): boolean {
    const deadline = this.leaseDeadline();
    return deadline !== null && !this.leaseLost && this.clock.now() < deadline;
  }

  /**
   * Reads this boot's latest applied heartbeat from the view: the lease was renewed as of the
   * local time that heartbeat was proposed, or the cluster time its entry carries if that is
   * earlier. A leader that has not heard a quorum's clocks lately stamps entries with the last time
   * it knew (docs/architecture.md §6), so the scheduler may count the lease from before the
   * proposal and end it sooner than the proposal time says. Then gives the lease up if its deadline has passed,
   * or takes it back up after a newer heartbeat. A heartbeat entry has no effects, so besides
   * every onEffects the worker also looks on its own timers.
   */
  private refreshLease(): void {
    const wasHeld = this.leaseHeld();
    const node = this.view.node(this.self);
    if (node !== undefined && node.boot === this.boot && node.heartbeatSeq > this.appliedSeq) {
      const applied = node.heartbeatSeq;
      const proposedAt = this.heartbeatsProposedAt.get(applied);
      for (const s of this.heartbeatsProposedAt.keys()) {
        if (s > applied) break;
        this.heartbeatsProposedAt.delete(s);
      }
      this.appliedSeq = applied;
      const renewed = proposedAt === undefined ? undefined : Math.min(proposedAt, node.leaseUntil - node.leaseMs);
      if (renewed !== undefined && (this.renewedAt === null || renewed > this.renewedAt)) {
        this.renewedAt = renewed;
        this.armLeaseTimer();
      }
    }
    const deadline = this.leaseDeadline();
    if (deadline !== null && this.clock.now() >= deadline) {
      if (!this.leaseLost) this.loseLease();
    } else if (deadline !== null) {
      this.leaseLost = false;
    }
    if (this.leaseHeld()) {
      // Just renewed for the first time or after a loss: what the view gives this boot may start.
      if (!wasHeld) this.reconcile();
    } else {
      this.pollForHeartbeat();
    }
  }

  /** The first valid renewal (or the first after a loss) lets the node run and claim again: look for it soon. */
  private pollForHeartbeat(): void {
    if (this.pollTimer !== null || this.stopped || this.heartbeatsProposedAt.size === 0) return;
    this.pollTimer = this.clock.after(Math.max(1, this.heartbeatMs / 20), () => {
      this.pollTimer = null;
      this.refreshLease();
    });
  }

  private armLeaseTimer(): void {
    const deadline = this.leaseDeadline();
    if (deadline === null || this.stopped) return;
    this.leaseTimer?.cancel();
    this.leaseTimer = this.clock.after(Math.max(0, deadline - this.clock.now()), () => {
      this.leaseTimer = null;
      this.refreshLease();
    });
  }

  private loseLease(): void {
    this.leaseLost = true;
    this.stats.leaseLosses++;
    // The lease ends at the earliest marginMs from now (by the leader's clock): the processes must
    // be gone by then, whatever grace period the executor gives a stop otherwise.
    this.silenceAll('lease lost', this.marginMs / 2);
    // Claims still in flight may yet be accepted, and what waits may yet start: reconcile starts them once the lease is back.
    this.claims.clear();
    this.waiting.clear();
  }

  // --- starting, stopping and settling attempts ----------------------------------------------

  private onTaskEvent(e: TaskEvent): void {
    if (e.from === 'ready' || e.to === 'ready') this.claimWanted = true;
    if (e.from === 'ready') this.settleClaim(e);
    if (e.node !== this.self) return;
    if (e.to === 'running') this.maybeStart(e, e.attempt);
    else {
      this.waiting.delete(attemptKey(e, e.attempt));
      const a = this.attempts.get(attemptKey(e, e.attempt));
      if (a === undefined) return;
      // The entry that settled this attempt decided the claims that rode with its result too (those
      // accepted start with their own events, which follow in the same entry's effects).
      if (a.carried !== 0) this.dropBatch(a.carried);
      a.carried = 0;
      this.settle(a);
    }
  }

  /**
   * Many never-claimed tasks changed state at once (a big sharded spec became ready, or was
   * skipped or cancelled): nothing of ours runs among them, but the ready set changed, and a claim
   * of ours for one that left `ready` is settled (it can no longer succeed).
   */
  private onRangeEvent(e: TaskRangeEvent): void {
    if (e.from === 'ready' || e.to === 'ready') this.claimWanted = true;
    if (e.from !== 'ready') return;
    this.claims.deleteRange(e.job, e.start, e.end);
  }

  /** The scheduler refused one of our claims: the slot it kept is free for another claim now. */
  private onClaimRefused(ref: TaskRef): void {
    if (this.claims.delete(ref)) this.claimWanted = true;
  }

  /** A claimed task left `ready`: by our claim (it starts) or someone else's (released). */
  private settleClaim(e: TaskEvent): void {
    const claim = this.claims.get(e);
    if (claim === undefined) return;
    this.claims.delete(e);
    if (e.to !== 'running' || e.node !== this.self || e.fence === null) return;
    // This entry decided the whole claim command: the rest of its tasks were rejected.
    this.dropBatch(claim.batch);
  }

  private dropBatch(batch: number): void {
    this.claims.deleteWhere((c) => c.batch === batch);
  }

  /** Starts (ref, attempt) only if this replica's state says this boot holds it right now. */
  private maybeStart(ref: TaskRef, attempt: number): void {
    if (!this.leaseHeld() || this.view.node(this.self)?.boot !== this.boot) return;
    const launch = this.view.launch(ref);
    if (launch !== undefined && launch.attempt === attempt) this.startAttempt(launch);
  }

  /** Starts what this boot holds, or keeps it waiting (claimed ahead) until a slot frees. */
  private startAttempt(launch: TaskLaunch): void {
    const key = attemptKey(launch, launch.attempt);
    if (this.attempts.has(key) || this.waiting.has(key)) return;
    this.claims.delete(launch);
    if (this.slotsInUse() + launch.slots > this.slots) {
      this.waiting.set(key, launch);
      return;
    }
    this.launch(launch);
  }

  private launch(launch: TaskLaunch): void {
    const key = attemptKey(launch, launch.attempt);
    const a: Attempt = {
      ref: { job: launch.job, task: launch.task },
      key,
      attempt: launch.attempt,
      slots: launch.slots,
      alive: true,
      execution: null,
      silenced: false,
      result: null,
      sentAt: null,
      carried: 0,
      hasDependents: launch.hasDependents ?? true,
    };
    this.attempts.set(key, a);
    this.stats.tasksStarted++;
    const inputs = this.view.inputs(launch);
    const withInputs = Object.keys(inputs).length > 0 ? { ...launch, inputs } : launch;
    const execution = this.executor.start(withInputs, (result) => this.onDone(a, result));
    if (a.alive) a.execution = execution;
  }

  private onDone(a: Attempt, r: ExecResult): void {
    a.alive = false;
    a.execution = null;
    if (this.stopped) return;
    // The slot is free on this machine now: what was claimed ahead starts before the result is even proposed.
    this.startWaiting();
    if (a.silenced) {
      this.settle(a);
    } else {
      a.result = {
        job: a.ref.job,
        task: a.ref.task,
        attempt: a.attempt,
        outcome: r.outcome,
        exitCode: r.exitCode,
        durationMs: r.durationMs,
        stdout: r.stdout,
        stderr: r.stderr,
        ...(r.outcome === 'succeeded' && r.output !== undefined && r.output !== '' ? { output: r.output } : {}),
      };
      a.sentAt = null;
    }
    this.claimWanted = true;
    this.scheduleTurn();
    // Last: it may propose a heartbeat, whose reconcile must find this attempt's result in place.
    if (!a.silenced) this.noteRun(r.durationMs);
  }

  /** The scheduler told this node to stop (cancel, timeout, lease expiry): no finish for it. */
  private stopAttempt(ref: TaskRef, attempt: number, reason: string): void {
    this.waiting.delete(attemptKey(ref, attempt));
    const a = this.attempts.get(attemptKey(ref, attempt));
    if (a === undefined) return;
    a.result = null;
    if (!a.silenced && a.alive) this.stats.tasksStopped++;
    this.silence(a, reason);
    this.settle(a);
  }

  private silence(a: Attempt, reason: string, graceMs?: Ms): void {
    if (a.silenced) {
      // Already stopping with the executor's full grace period: a lease loss brings the SIGKILL forward.
      if (graceMs !== undefined && a.alive) a.execution?.stop(reason, graceMs);
      return;
    }
    a.silenced = true;
    if (graceMs === undefined) a.execution?.stop(reason);
    else a.execution?.stop(reason, graceMs);
  }

  private silenceAll(reason: string, graceMs?: Ms): void {
    for (const a of this.attempts.values()) if (a.alive) this.silence(a, reason, graceMs);
  }

  private holds(a: Attempt): boolean {
    return this.view.node(this.self)?.boot === this.boot && this.view.launch(a.ref)?.attempt === a.attempt;
  }

  /**
   * Brings one attempt in line with the view: forgotten once the scheduler no longer gives it to
   * this node; stopped if it still runs after that; reported failed if the scheduler still gives
   * it to this node although a lease loss killed it (the lease is back, the process is not).
   */
  private settle(a: Attempt): void {
    if (this.holds(a)) {
      if (!a.alive && a.result === null && this.leaseHeld()) {
        a.result = abandonedResult(a);
        a.sentAt = null;
        this.stats.attemptsAbandoned++;
      }
      return;
    }
    if (a.alive) {
      if (!a.silenced) this.stats.tasksStopped++;
      this.silence(a, 'no longer held by this node');
      return;
    }
    this.attempts.delete(a.key);
    this.claimWanted = true;
  }

  /** Every attempt against the view, then whatever the view says this boot holds and is not running. */
  private reconcile(): void {
    for (const a of this.attempts.values()) this.settle(a);
    this.startWaiting();
    if (this.leaseHeld() && this.view.node(this.self)?.boot === this.boot) {
      for (const launch of this.view.held(this.self)) this.startAttempt(launch);
    }
    this.expireLost();
    this.claimWanted = true;
    this.scheduleTurn();
  }

  // --- one turn: finishes, then claims ---------------------------------------------------------

  /**
   * Everything decided during one turn of the event loop goes out together, in ONE command: all
   * finished results, with claimNext, then the new claims. In that entry the results free their
   * slots first, claimNext takes the dependents they readied, and the claims take what is left; so
   * the claims may count the results' slots as free, and a busy node pays one commit per task (the
   * finish that also claims its successor), not two. Without results, the claims go alone.
   */
  private scheduleTurn(): void {
    if (this.turnTimer !== null || this.stopped || !this.running) return;
    const run = (): void => {
      this.turnTimer = null;
      this.turn();
    };
    // Results of tasks that finished together (handlers settle in the same microtask wave) are all
    // in before a microtask queued by the first of them runs: batching is kept, a loop turn saved.
    this.turnTimer = this.clock.soon ? this.clock.soon(run) : this.clock.after(0, run);
  }

  private turn(): void {
    // Results are held back while the lease is lost; re-sent (they are fenced) once it is back, if still wanted.
    const due: Attempt[] = [];
    let bytes = 0;
    let more = false;
    if (this.leaseHeld()) {
      for (const a of this.attempts.values()) {
        if (a.result === null || a.sentAt !== null) continue;
        // One entry holds at most MAX_COMMAND_BYTES: outputs (64 KiB each) could pass it; the rest go next turn.
        bytes += resultBytes(a.result);
        if (due.length > 0 && bytes > FINISH_BUDGET_BYTES) {
          more = true;
          break;
        }
        due.push(a);
      }
    }
    let chosen: ReadyTask[] = [];
    if (this.claimWanted || due.length > 0) {
      this.claimWanted = false;
      // The slots of results that may ready dependents are left to claimNext: claims competing for
      // them in the same entry would be refused (and the chain would lose its one-commit hop).
      let freed = 0;
      for (const a of due) freed += a.slots;
      chosen = this.chooseClaims(freed);
    }
    if (due.length === 0) {
      if (chosen.length > 0) this.proposeClaims(chosen);
      return;
    }
    const results = due.map((a) => a.result as FinishItem);
    const tasks = chosen.map((t) => ({ job: t.job, task: t.task }));
    const ok = this.propose({
      type: 'finish',
      node: this.self,
      boot: this.boot,
      results,
      claimNext: true,
      ...(tasks.length > 0 ? { claims: tasks } : {}),
    });
    if (ok) {
      this.stats.finishesProposed++;
      this.stats.resultsProposed += results.length;
    } else {
      this.stats.proposalsRefused++;
    }
    const batch = ok && chosen.length > 0 ? this.recordClaims(chosen) : 0;
    // A refused proposal is retried like a lost one.
    const now = this.clock.now();
    for (const a of due) {
      a.sentAt = now;
      a.carried = batch;
    }
    this.armRetry();
    if (more) this.scheduleTurn();
  }

  // --- claiming ahead ----------------------------------------------------------------------------

  /** Claims ahead this node asks for now: aheadMax while its tasks are short, else none. */
  private aheadWanted(): number {
    return this.runsSeen >= SHORT_MIN_RUNS && this.recentRunMs <= SHORT_TASK_MS ? this.aheadMax : 0;
  }

  /**
   * Claims ahead the scheduler allows this boot now (its applied heartbeat's) and the node still
   * wants: a claim past what the applied heartbeat allows would be refused.
   */
  private aheadNow(): number {
    const node = this.view.node(this.self);
    if (node === undefined || node.boot !== this.boot) return 0;
    return Math.min(node.ahead, this.aheadWanted());
  }

  /** A run ended after `ms`: the average moves, and a heartbeat tells the scheduler at once when claiming ahead turns on or off. */
  private noteRun(ms: Ms): void {
    this.recentRunMs = this.runsSeen === 0 ? ms : this.recentRunMs + SHORT_WEIGHT * (ms - this.recentRunMs);
    this.runsSeen++;
    if (this.aheadWanted() !== this.aheadSent && this.running && !this.stopped) this.heartbeat();
  }

  /** Slots that executions occupy on this machine now (a process told to stop occupies them until it ends). */
  private slotsInUse(): number {
    let used = 0;
    for (const a of this.attempts.values()) if (a.alive) used += a.slots;
    return used;
  }

  /** Starts what waits, in order, while it fits; forgets what this boot no longer holds. */
  private startWaiting(): void {
    if (this.waiting.size === 0 || !this.leaseHeld()) return;
    let free = this.slots - this.slotsInUse();
    for (const [key, launch] of this.waiting) {
      if (this.view.launch(launch)?.attempt !== launch.attempt || this.view.node(this.self)?.boot !== this.boot) {
        this.waiting.delete(key);
        this.claimWanted = true;
        continue;
      }
      if (launch.slots > free) continue;
      this.waiting.delete(key);
      free -= launch.slots;
      this.launch(launch);
    }
  }

  /**
   * Slots not taken by live executions, unresolved results or claims in flight. An unresolved
   * result still counts: the scheduler counts it until the finish is applied, and that finish's
   * claimNext has first call on the slots it frees; a claim competing for them would be rejected.
   */
  private freeSlots(): number {
    let used = 0;
    for (const a of this.attempts.values()) if (a.alive || a.result !== null) used += a.slots;
    for (const c of this.claims.values()) used += c.slots;
    for (const w of this.waiting.values()) used += w.slots;
    return Math.max(0, this.slots + this.aheadNow() - used);
  }

  /** What to claim now, with `freed` more slots than freeSlots() counts (results about to be proposed). */
  private chooseClaims(freed: number): ReadyTask[] {
    if (!this.leaseHeld()) return [];
    const free = this.freeSlots() + freed;
    if (free <= 0) return [];
    const peers = [...this.peers()];
    return chooseClaims({
      self: this.self,
      free,
      slots: this.slots,
      handlers: this.handlers,
      ...(this.labels === undefined ? {} : { labels: this.labels }),
      labelsOf: (node) => this.view.node(node)?.labels,
      room: this.room(),
      now: this.clock.now(),
      ready: this.view.ready(),
      peers,
      skip: (ref) => this.claims.has(ref),
      stealAfterMs: this.stealAfterMs,
      // Alive and at work (it holds running tasks): it claims its own tasks as its slots free.
      claimsSoon: (node) => (this.view.node(node)?.running ?? 0) > 0,
      canSteal: (node) => {
        const n = this.view.node(node);
        return n !== undefined && n.used < n.slots + n.ahead;
      },
      ownerFull: (node) => {
        const n = this.view.node(node);
        return n !== undefined && n.used >= n.slots + n.ahead;
      },
      // Enough to find this node's share (about 1 / nodes) of the tasks that fit its free slots.
      // Past its own claims in flight too, which are still ready in the view until applied.
      maxScan: Math.min(MAX_SCAN_LIMIT, 64 + 4 * (free + this.claims.size) * (peers.length + 1)),
      owners: this.owners,
    });
  }

  /** Room in pools and jobs by the replicated state, less what this node's claims in flight would take. */
  private room(): { pool(name: string): number; job(job: string, limit: number): number } {
    const inFlight = new Map<string, number>();
    for (const c of this.claims.values()) {
      if (c.pool !== undefined) inFlight.set(`p:${c.pool}`, (inFlight.get(`p:${c.pool}`) ?? 0) + 1);
      if (c.limitedJob !== undefined) inFlight.set(`j:${c.limitedJob}`, (inFlight.get(`j:${c.limitedJob}`) ?? 0) + 1);
    }
    return {
      pool: (name) => {
        const p = this.view.pool(name);
        return p === undefined ? 0 : p.size - p.used - (inFlight.get(`p:${name}`) ?? 0);
      },
      job: (job, limit) => limit - this.view.jobRunning(job) - (inFlight.get(`j:${job}`) ?? 0),
    };
  }

  private proposeClaims(chosen: readonly ReadyTask[]): void {
    const tasks = chosen.map((t) => ({ job: t.job, task: t.task }));
    if (!this.propose({ type: 'claim', node: this.self, boot: this.boot, tasks })) {
      this.stats.proposalsRefused++;
      return;
    }
    this.recordClaims(chosen);
  }

  /** Claims just proposed (alone or with a finish): in flight until decided or RETRY_MS. Returns their batch. */
  private recordClaims(chosen: readonly ReadyTask[]): number {
    this.stats.claimCommands++;
    this.stats.claimsProposed += chosen.length;
    const batch = ++this.batchSeq;
    const at = this.clock.now();
    for (const t of chosen) {
      this.claims.set(t, {
        batch,
        slots: t.slots,
        at,
        ...(t.pool === undefined ? {} : { pool: t.pool }),
        ...(t.concurrency === undefined ? {} : { limitedJob: t.job }),
      });
    }
    this.armRetry();
    return batch;
  }

  // --- lost proposals ----------------------------------------------------------------------------

  private armRetry(): void {
    if (this.retryTimer !== null || this.stopped) return;
    this.retryTimer = this.clock.after(RETRY_MS, () => {
      this.retryTimer = null;
      this.refreshLease();
      for (const a of this.attempts.values()) this.settle(a);
      this.expireLost();
      this.scheduleTurn();
      if (this.claims.size > 0 || [...this.attempts.values()].some((a) => a.sentAt !== null)) this.armRetry();
    });
  }

  /** Claims and results the view has not decided within RETRY_MS are taken as lost. */
  private expireLost(): void {
    const now = this.clock.now();
    this.claims.deleteWhere((c) => {
      if (now - c.at < RETRY_MS) return false;
      this.stats.claimsExpired++;
      this.claimWanted = true;
      return true;
    });
    for (const a of this.attempts.values()) {
      if (a.result === null || a.sentAt === null || now - a.sentAt < RETRY_MS) continue;
      a.sentAt = null;
      this.stats.resultsResent++;
    }
  }
}

/**
 * The report of an attempt this node killed when it could not renew its lease in time, which the
 * scheduler still gives it: `abandoned`, so it runs again without spending a retry (the task
 * itself did not fail; a starved node must not fail a job of `retries: 0`).
 */
function abandonedResult(a: Attempt): FinishItem {
  return {
    job: a.ref.job,
    task: a.ref.task,
    attempt: a.attempt,
    outcome: 'abandoned',
    exitCode: null,
    durationMs: 0,
    stdout: '',
    stderr: 'meshrun: killed by its node when the node could not renew its lease',
  };
}
