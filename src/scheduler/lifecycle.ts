// How tasks and jobs move between states once a command or a timer has decided they do: the
// state machine's transitions (docs/architecture.md §7), with the bookkeeping each one carries (ready
// queue, the holder's slots, timers, dependency counters, per-state counts) and the effects it
// reports. machine.ts decides WHETHER a command may do something; this file does it.
//
// Cost: starting or ending an attempt is O(log n) (timers); a success costs one counter decrement
// per direct dependent spec plus the tasks it readies. Sharded specs become ready, skipped or
// cancelled as ranges: typed-array fills, one queue range and (past RANGE_EVENT_MIN) one effect.
import type { NodeId } from '../raft/types.js';
import { Job, NONE, NO_EXIT, R, T, TASK_STATE_NAMES, reasonText, type ReasonCode, type TaskStateCode } from './job.js';
import { END, keepAttempt, type AttemptEnd } from './attempts.js';
import { heldSorted, takePoolSlot, type NodeRec, type SchedulerState } from './state.js';
import { taskName } from './task-names.js';
import { TimerKind, type Timer } from './timers.js';
import { blocks, triggerSkipReason, triggerVerdict, type UpstreamOutcome } from './trigger-rules.js';
import { MAX_BACKOFF_MS, RANGE_EVENT_MIN, type Effect, type JobState, type Ms, type TaskSpec, type TaskState } from './types.js';

/** A running task is failed as timed out this long after its own timeout, if its holder never reports. */
export const TIMEOUT_GRACE_MS: Ms = 30_000;

/** Backoff before retry number `failures` (1-based): doubling from backoffMs, capped. */
export function backoffFor(backoffMs: Ms, failures: number): Ms {
  return Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** Math.max(0, failures - 1));
}

/** `n` tasks of `spec` ended with `outcome`; `task` is one of them. */
interface Settled {
  readonly spec: number;
  readonly task: number;
  readonly outcome: UpstreamOutcome;
  readonly n: number;
}

/** Tasks [start, end) of one spec that became ready during the current finish (for claimNext). */
export interface Readied {
  readonly job: Job;
  readonly spec: number;
  readonly start: number;
  readonly end: number;
}

/**
 * What applying one log entry gives the transitions besides the state: Scheduler.run makes one
 * per entry and hands it down, so nothing of an entry outlives it on the Lifecycle.
 */
export interface ApplyContext {
  /** The entry's log index: the fence of the claims it accepts. */
  readonly index: number;
  /** The time the entry applies at: the state's `now` once the entry's timestamp has moved it. */
  readonly now: Ms;
  /** The entry's effects, in order. */
  readonly out: Effect[];
  /** While a finish with claimNext is applied: the dependents its successes made ready; null otherwise. */
  readied: Readied[] | null;
}

/**
 * The transitions, on the state it was made with. Every step that reads the time, fences a claim
 * or reports an effect takes the entry's ApplyContext.
 */
export class Lifecycle {
  constructor(private readonly s: SchedulerState) {}

  // --- timers --------------------------------------------------------------------------------------

  /** Fires, in (deadline, seq) order, every timer due at the current time. */
  fireDue(cx: ApplyContext): void {
    const timers = this.s.timers;
    for (let t = timers.popDue(cx.now); t !== undefined; t = timers.popDue(cx.now)) this.fire(cx, t);
  }

  private fire(cx: ApplyContext, t: Timer): void {
    const s = this.s;
    if (t.kind === TimerKind.lease) {
      const node = s.nodes.get(t.owner as NodeId) as NodeRec;
      node.leaseTimer = null;
      this.expireLease(cx, node);
      return;
    }
    const job = s.bySerial.get(t.owner as number) as Job;
    if (t.kind === TimerKind.removal) {
      job.removalTimer = null;
      this.removeJob(cx, job);
      return;
    }
    if (t.kind === TimerKind.jobTimeout) {
      job.timeoutTimer = null;
      if (job.state === 'running') this.abort(cx, job, 'job timeout');
      return;
    }
    job.timers.delete(t.task);
    const spec = job.specOf(t.task);
    if (t.kind === TimerKind.retry) {
      if (job.tState[t.task] === T.waiting) this.makeReady(cx, job, t.task, spec, T.waiting, R.retry);
    } else if (job.tState[t.task] === T.running) {
      // The timeout safety net: the holder never reported.
      const node = this.stopRunning(cx, job, t.task, 'timeout');
      this.keepEnded(cx, job, t.task, END.noReport, null, null);
      this.failAttempt(cx, job, t.task, spec, R.timeout);
      this.syncLease(node);
    }
  }

  /** The holder may be merely unreachable: its tasks go back to ready without counting a failure. */
  private expireLease(cx: ApplyContext, node: NodeRec): void {
    for (const { job, task } of heldSorted(node)) {
      this.stopRunning(cx, job, task, 'lease expired');
      this.s.stats.leaseExpiries++;
      this.requeueLost(cx, job, task);
    }
  }

  /**
   * An attempt lost with its holder's lease (expired here, or given up by the holder itself when it
   * could not renew it in time: an `abandoned` finish): its task is ready again and no failure is
   * counted, since the task itself may never have failed. Its holder no longer holds it.
   */
  requeueLost(cx: ApplyContext, job: Job, task: number): void {
    this.keepEnded(cx, job, task, END.leaseLost, null, null);
    this.makeReady(cx, job, task, job.specOf(task), T.running, R.leaseExpired);
  }

  /** A new incarnation of `node` says the previous one crashed: everything it held failed with it. */
  holderRestarted(cx: ApplyContext, node: NodeRec): void {
    for (const { job, task } of heldSorted(node)) {
      this.stopRunning(cx, job, task, null);
      this.keepEnded(cx, job, task, END.nodeRestarted, null, null);
      this.failAttempt(cx, job, task, job.specOf(task), R.holderRestarted);
    }
  }

  /** A claim or finish from the current incarnation renews its lease as a heartbeat does. */
  renew(cx: ApplyContext, node: NodeRec): void {
    const until = cx.now + node.leaseMs;
    if (until > node.leaseUntil) node.leaseUntil = until;
  }

  /** Arms, moves or drops the node's lease timer: armed exactly while it holds tasks. */
  syncLease(node: NodeRec | null): void {
    if (node === null) return;
    const timers = this.s.timers;
    if (node.running > 0) {
      const deadline = node.leaseUntil + 1;
      if (node.leaseTimer === null) node.leaseTimer = timers.add(TimerKind.lease, node.id, -1, deadline);
      else if (node.leaseTimer.deadline !== deadline) timers.reschedule(node.leaseTimer, deadline);
    } else if (node.leaseTimer !== null) {
      timers.remove(node.leaseTimer);
      node.leaseTimer = null;
    }
  }

  // --- running -------------------------------------------------------------------------------------

  /** An accepted claim: ready -> running, attempt + 1, fenced by this entry's index. */
  startRunning(cx: ApplyContext, node: NodeRec, job: Job, task: number, spec: number, ts: TaskSpec): void {
    const s = this.s;
    job.setState(task, T.running);
    s.ready.leave(job, task);
    job.attempt[task] = (job.attempt[task] as number) + 1;
    job.holder[task] = job.nodeSlot(node.id);
    job.fence[task] = cx.index;
    job.startedAt[task] = cx.now;
    job.finishedAtCol[task] = NONE;
    job.reason[task] = R.none;
    let held = node.held.get(job);
    if (held === undefined) node.held.set(job, (held = new Set()));
    held.add(task);
    node.used += ts.slots;
    node.running++;
    if (ts.pool !== undefined) takePoolSlot(s, ts.pool, 1);
    job.timers.set(task, s.timers.add(TimerKind.timeout, job.serial, task, cx.now + ts.timeoutMs + TIMEOUT_GRACE_MS));
    s.stats.claimsAccepted++;
    this.taskEvent(cx, job, task, spec, T.ready, T.running, null);
  }

  /**
   * Takes a running task from its holder (slots, held set, timeout timer); with a `stopReason`,
   * tells the holder to stop it. The caller sets the new state. Returns the holder, whose lease
   * timer the caller syncs once it is done with it.
   */
  stopRunning(cx: ApplyContext, job: Job, task: number, stopReason: string | null): NodeRec | null {
    const timer = job.timers.get(task);
    if (timer !== undefined) {
      this.s.timers.remove(timer);
      job.timers.delete(task);
    }
    const pool = job.taskSpec(task).pool;
    // Every running task took its slot in startRunning (or on restore), whatever became of its holder.
    if (pool !== undefined) takePoolSlot(this.s, pool, -1);
    const name = job.holderName(task) as NodeId;
    const node = this.s.nodes.get(name) ?? null;
    if (node !== null) {
      const held = node.held.get(job);
      if (held?.delete(task)) {
        if (held.size === 0) node.held.delete(job);
        node.used -= job.taskSpec(task).slots;
        node.running--;
      }
    }
    job.willChange(task);
    job.finishedAtCol[task] = cx.now;
    if (stopReason !== null) {
      cx.out.push({ type: 'stop', job: job.id, task, node: name, attempt: job.attempt[task] as number, reason: stopReason });
    }
    return node;
  }

  /** The running attempt of `task` ended without success (just stopped): kept in its history (attempts.ts). */
  keepEnded(cx: ApplyContext, job: Job, task: number, end: AttemptEnd, exitCode: number | null, signal: string | null): void {
    keepAttempt(job.history, task, {
      attempt: job.attempt[task] as number,
      holder: job.holder[task] as number,
      startedAt: job.startedAt[task] as number,
      finishedAt: cx.now,
      exitCode,
      signal,
      end,
    });
  }

  succeed(cx: ApplyContext, job: Job, task: number, spec: number): void {
    job.setState(task, T.succeeded);
    job.reason[task] = R.none;
    this.taskEvent(cx, job, task, spec, T.running, T.succeeded, null);
    this.settled(cx, job, { spec, task, outcome: 'succeeded', n: 1 });
    this.maybeEnd(cx, job);
  }

  /** A failed attempt of a task that was running: retry after backoff, or fail it and skip what depends on it. */
  failAttempt(cx: ApplyContext, job: Job, task: number, spec: number, reason: ReasonCode): void {
    const s = this.s;
    const ts = job.spec.tasks[spec] as TaskSpec;
    const failures = (job.failures[task] as number) + 1;
    job.willChange(task);
    job.failures[task] = failures;
    job.reason[task] = reason;
    if (failures <= ts.retries) {
      s.stats.retries++;
      const delay = backoffFor(ts.backoffMs, failures);
      if (delay <= 0) {
        this.makeReady(cx, job, task, spec, T.running, reason);
        return;
      }
      job.setState(task, T.waiting);
      job.timers.set(task, s.timers.add(TimerKind.retry, job.serial, task, cx.now + delay));
      this.taskEvent(cx, job, task, spec, T.running, T.waiting, reasonText(reason));
      return;
    }
    job.setState(task, T.failed);
    this.taskEvent(cx, job, task, spec, T.running, T.failed, reasonText(reason));
    this.settled(cx, job, { spec, task, outcome: 'failed', n: 1 });
    this.maybeEnd(cx, job);
  }

  /**
   * `n` tasks of `spec` (`task` among them) ended with `outcome`: its dependents count them and
   * those whose trigger rule now decides become ready or are skipped, and so on downstream (a
   * worklist, not recursion: a chain may be 50,000 specs long). Undecided specs are all waiting
   * and never claimed, so a skip is one range per spec (docs/dag-file.md §12).
   */
  private settled(cx: ApplyContext, job: Job, first: Settled): void {
    // The common case of a success with no dependents allocates nothing.
    if (job.dependentOffsets[first.spec] === job.dependentOffsets[first.spec + 1]) return;
    const work: Settled[] = [first];
    for (let item = work.pop(); item !== undefined; item = work.pop()) {
      const end = job.dependentOffsets[item.spec + 1] as number;
      for (let k = job.dependentOffsets[item.spec] as number; k < end; k++) {
        const d = job.dependentTargets[k] as number;
        const counter = item.outcome === 'succeeded' ? job.upSucceeded : item.outcome === 'failed' ? job.upFailed : job.upSkipped;
        counter[d] = (counter[d] as number) + item.n;
        if (!job.undecided(d)) continue;
        const verdict = triggerVerdict(job.triggerOf(d), job.upstreamCounts(d));
        if (verdict === 'wait') continue;
        if (verdict === 'run') {
          this.readySpec(cx, job, d);
          continue;
        }
        const skipped = this.skipSpec(cx, job, d, verdict, item.task);
        if (skipped.n > 0) work.push({ spec: d, task: skipped.task, outcome: skipped.outcome, n: skipped.n });
      }
    }
  }

  /**
   * Skips the waiting tasks of the (undecided) spec whose rule can no longer hold: all of them, or
   * those a re-run put back. Returns the outcome its dependents see, how many were skipped, and one.
   */
  private skipSpec(
    cx: ApplyContext,
    job: Job,
    spec: number,
    verdict: 'skip' | 'skip-failed',
    hint: number,
  ): { outcome: UpstreamOutcome; n: number; task: number } {
    const rule = job.triggerOf(spec);
    const blocker = this.blockingUpstream(job, spec, (o) => blocks(rule, verdict, o), hint);
    if (verdict === 'skip-failed') {
      // Name the task that failed: a blocker skipped for a failure names its own failed task.
      const failed =
        blocker === null ? '?' : job.tState[blocker] === T.failed ? job.taskName(blocker) : (job.skipCause.get(job.specOf(blocker)) ?? '?');
      job.skipCause.set(spec, failed);
    } else {
      const named = blocker === null ? null : { name: job.taskName(blocker), outcome: job.outcomeOf(blocker) as UpstreamOutcome };
      job.skipCause.set(spec, triggerSkipReason(rule, named));
    }
    const code = verdict === 'skip-failed' ? R.upstream : R.trigger;
    job.redo.delete(spec);
    let n = 0;
    let task = job.specStart[spec] as number;
    for (const [start, end] of waitingRuns(job, spec)) {
      if (n === 0) task = start;
      n += end - start;
      this.bulkSet(cx, job, spec, start, end, T.waiting, T.skipped, code);
    }
    return { outcome: verdict === 'skip-failed' ? 'failed' : 'skipped', n, task };
  }

  /** The first upstream task of `spec` (the hint first, then in deps order) whose outcome `matches`, or null. */
  private blockingUpstream(job: Job, spec: number, matches: (o: UpstreamOutcome) => boolean, hint: number): number | null {
    const hinted = job.outcomeOf(hint);
    if (hinted !== null && matches(hinted)) return hint;
    const end = job.depOffsets[spec + 1] as number;
    for (let k = job.depOffsets[spec] as number; k < end; k++) {
      const d = job.depTargets[k] as number;
      for (let t = job.specStart[d] as number; t < (job.specStart[d + 1] as number); t++) {
        const o = job.outcomeOf(t);
        if (o !== null && matches(o)) return t;
      }
    }
    return null;
  }

  // --- ready ---------------------------------------------------------------------------------------

  /**
   * The waiting tasks of the undecided `spec` become ready: all of them (never claimed), one queue
   * range; or those a re-run put back, a range per run of them.
   */
  readySpec(cx: ApplyContext, job: Job, spec: number): void {
    if (!job.undecided(spec)) return;
    job.redo.delete(spec);
    for (const [start, end] of waitingRuns(job, spec)) {
      this.bulkSet(cx, job, spec, start, end, T.waiting, T.ready, R.none);
      this.s.ready.push(job, spec, start, end, cx.now);
      cx.readied?.push({ job, spec, start, end });
    }
  }

  /**
   * A new job's specs without deps become ready: a queue range each, and as effects one
   * TaskRangeEvent per run of consecutive ready specs of at least RANGE_EVENT_MIN tasks, else one
   * per task (as readySpec would). A job of 50,000 independent distinct tasks is one effect, not
   * 50,000 for every replica's worker, event stream and metrics to go through (issue 16).
   */
  readyNew(cx: ApplyContext, job: Job): void {
    const specs = job.spec.tasks.length;
    let runFrom = -1;
    for (let spec = 0; spec <= specs; spec++) {
      if (spec < specs && job.upTotal[spec] === 0) {
        if (runFrom < 0) runFrom = spec;
        const start = job.specStart[spec] as number;
        const end = job.specStart[spec + 1] as number;
        (job.counts[T.waiting] as number) -= end - start;
        (job.counts[T.ready] as number) += end - start;
        job.tState.fill(T.ready, start, end);
        this.s.ready.push(job, spec, start, end, cx.now);
        cx.readied?.push({ job, spec, start, end });
        continue;
      }
      if (runFrom >= 0) this.readyRunEvents(cx, job, runFrom, spec);
      runFrom = -1;
    }
  }

  /** The effects of readyNew for its specs [from, to), all of whose tasks it readied. */
  private readyRunEvents(cx: ApplyContext, job: Job, from: number, to: number): void {
    const start = job.specStart[from] as number;
    const end = job.specStart[to] as number;
    if (end - start >= RANGE_EVENT_MIN) {
      cx.out.push({ type: 'tasks', job: job.id, start, end, from: 'waiting', to: 'ready', reason: null });
      return;
    }
    for (let spec = from; spec < to; spec++) {
      for (let t = job.specStart[spec] as number; t < (job.specStart[spec + 1] as number); t++)
        this.taskEvent(cx, job, t, spec, T.waiting, T.ready, null);
    }
  }

  /** One task becomes ready again (retry, lease expiry, no backoff). */
  private makeReady(cx: ApplyContext, job: Job, task: number, spec: number, from: TaskStateCode, reason: ReasonCode): void {
    job.setState(task, T.ready);
    job.reason[task] = reason;
    this.s.ready.push(job, spec, task, task + 1, cx.now);
    this.taskEvent(cx, job, task, spec, from, T.ready, reasonText(reason));
  }

  /** Tasks [start, end) of `spec`, all in state `from` and none running nor waiting for a retry, move to `to` together. */
  private bulkSet(
    cx: ApplyContext,
    job: Job,
    spec: number,
    start: number,
    end: number,
    from: TaskStateCode,
    to: TaskStateCode,
    reason: ReasonCode,
  ): void {
    const n = end - start;
    if (n <= 0) return;
    (job.counts[from] as number) -= n;
    (job.counts[to] as number) += n;
    job.willChange(start, end);
    job.tState.fill(to, start, end);
    job.reason.fill(reason, start, end);
    if (to === T.skipped) job.finishedAtCol.fill(cx.now, start, end);
    this.runEvent(cx, job, spec, start, end, from, to, job.reasonText(start));
  }

  // --- jobs ----------------------------------------------------------------------------------------

  /**
   * Once every task is final: `failed` when any task failed, else `succeeded` (docs/dag-file.md
   * §12). After a re-run (§13) tasks a cancel or the job's timeout skipped may still stand, never
   * run: then the job ends as that ended it, `failed` for a timeout, else `cancelled`.
   */
  private maybeEnd(cx: ApplyContext, job: Job): void {
    if (job.state !== 'running' || job.finalCount !== job.size) return;
    if ((job.counts[T.failed] as number) > 0) return this.endJob(cx, job, 'failed');
    let cancelled = false;
    if ((job.counts[T.skipped] as number) > 0) {
      for (let t = 0; t < job.size; t++) {
        if (job.tState[t] !== T.skipped) continue;
        if (job.reason[t] === R.jobTimeout) return this.endJob(cx, job, 'failed');
        if (job.reason[t] === R.cancelled) cancelled = true;
      }
    }
    this.endJob(cx, job, cancelled ? 'cancelled' : 'succeeded');
  }

  private endJob(cx: ApplyContext, job: Job, state: Exclude<JobState, 'running'>): void {
    // A cancel or timeout may end a job whose re-run tasks still waited: nothing waits now (and a
    // restored replica, which derives the set from waiting tasks, has it empty too).
    job.redo.clear();
    if (job.timeoutTimer !== null) this.s.timers.remove(job.timeoutTimer);
    job.timeoutTimer = null;
    job.state = state;
    job.finishedAt = cx.now;
    job.removalTimer = this.s.timers.add(TimerKind.removal, job.serial, -1, cx.now + job.spec.retentionMs);
    cx.out.push({ type: 'job', job: job.id, state });
  }

  private removeJob(cx: ApplyContext, job: Job): void {
    const s = this.s;
    for (const t of job.timers.values()) s.timers.remove(t);
    job.timers.clear();
    if (job.removalTimer !== null) s.timers.remove(job.removalTimer);
    job.removalTimer = null;
    if (job.timeoutTimer !== null) s.timers.remove(job.timeoutTimer);
    job.timeoutTimer = null;
    s.jobs.delete(job.id);
    s.bySerial.delete(job.serial);
    if (job.key !== null && s.keys.get(job.key) === job.id) s.keys.delete(job.key);
    s.stats.jobsRemoved++;
    cx.out.push({ type: 'removed', job: job.id });
  }

  /** Ends a running job as cancelled: running tasks are stopped, every unfinished task is skipped. */
  cancel(cx: ApplyContext, job: Job): void {
    this.abort(cx, job, 'cancelled');
  }

  /**
   * Ends a running job before its tasks did: cancelled by a `cancel`, or failed by its own timeout.
   * Running tasks are stopped, every unfinished task is skipped with the reason.
   */
  private abort(cx: ApplyContext, job: Job, why: 'cancelled' | 'job timeout'): void {
    const code = why === 'cancelled' ? R.cancelled : R.jobTimeout;
    const s = this.s;
    s.ready.dropJob(job);
    const holders = new Set<NodeRec>();
    const specs = job.spec.tasks.length;
    for (let spec = 0; spec < specs; spec++) {
      const end = job.specStart[spec + 1] as number;
      for (let t = job.specStart[spec] as number; t < end;) {
        const from = job.tState[t] as TaskStateCode;
        if (from >= T.succeeded) {
          t++;
          continue;
        }
        if (from !== T.running && job.attempt[t] === 0) {
          // A run of never-claimed tasks in one state (no timers, no holder) goes at once.
          let u = t + 1;
          while (u < end && job.tState[u] === from && job.attempt[u] === 0) u++;
          this.bulkSet(cx, job, spec, t, u, from, T.skipped, code);
          t = u;
          continue;
        }
        if (from === T.running) {
          const node = this.stopRunning(cx, job, t, why);
          this.keepEnded(cx, job, t, why === 'cancelled' ? END.cancelled : END.jobTimeout, null, null);
          if (node !== null) holders.add(node);
        } else {
          const timer = job.timers.get(t);
          if (timer !== undefined) {
            s.timers.remove(timer);
            job.timers.delete(t);
          }
          job.willChange(t);
          job.finishedAtCol[t] = cx.now;
        }
        job.setState(t, T.skipped);
        job.reason[t] = code;
        this.taskEvent(cx, job, t, spec, from, T.skipped, why);
        t++;
      }
    }
    if (why === 'job timeout') job.timedOut = true;
    this.endJob(cx, job, why === 'cancelled' ? 'cancelled' : 'failed');
    for (const node of [...holders].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) this.syncLease(node);
  }

  // --- re-runs -------------------------------------------------------------------------------------

  /**
   * Puts the `marked` tasks of the finished `job` back to waiting and the job back to running
   * (docs/dag-file.md §13). Earlier attempts stay: a success moves from the columns to the history,
   * failures are there already, and the attempt column keeps counting (fencing needs numbers that
   * never repeat). Outputs, tails and failure counts of the re-run tasks go. Then every spec with
   * re-run tasks asks its trigger rule, on the results that stand: run, skip, or wait for upstream
   * tasks that re-run too. Order does not matter: a rule only counts final upstream tasks, and each
   * one that settles later asks again (settled).
   */
  rerun(cx: ApplyContext, job: Job, marked: Uint8Array, count: number): void {
    const specs = new Set<number>();
    for (let spec = 0; spec < job.spec.tasks.length; spec++) {
      const end = job.specStart[spec + 1] as number;
      for (let t = job.specStart[spec] as number; t < end; t++) {
        if (marked[t] !== 1) continue;
        let u = t + 1;
        while (u < end && marked[u] === 1 && job.tState[u] === job.tState[t]) u++;
        this.resetRun(cx, job, spec, t, u);
        specs.add(spec);
        t = u - 1;
      }
    }
    this.reopen(cx, job);
    cx.out.push({ type: 'rerun', job: job.id, tasks: count });
    job.recount();
    for (const spec of specs) this.decideRerun(cx, job, spec);
    this.maybeEnd(cx, job);
  }

  /** Tasks [start, end) of `spec`, all in one final state, back to waiting with their last results moved aside. */
  private resetRun(cx: ApplyContext, job: Job, spec: number, start: number, end: number): void {
    const from = job.tState[start] as TaskStateCode;
    job.willChange(start, end);
    for (let t = start; t < end; t++) {
      if (from === T.succeeded && (job.attempt[t] as number) > 0) {
        keepAttempt(job.history, t, {
          attempt: job.attempt[t] as number,
          holder: job.holder[t] as number,
          startedAt: job.startedAt[t] as number,
          finishedAt: job.finishedAtCol[t] as number,
          exitCode: job.exitCode[t] === NO_EXIT ? null : (job.exitCode[t] as number),
          signal: null,
          end: END.succeeded,
        });
      }
      job.outputs.delete(t);
      job.tails.delete(t);
    }
    job.failures.fill(0, start, end);
    job.startedAt.fill(NONE, start, end);
    job.exitCode.fill(NO_EXIT, start, end);
    job.durationMs.fill(NONE, start, end);
    this.bulkSet(cx, job, spec, start, end, from, T.waiting, R.none);
    job.finishedAtCol.fill(NONE, start, end);
  }

  /** The ended job runs again: no removal, its own timeout counted afresh, its schedule's running runs again. */
  private reopen(cx: ApplyContext, job: Job): void {
    const s = this.s;
    if (job.removalTimer !== null) s.timers.remove(job.removalTimer);
    job.removalTimer = null;
    job.state = 'running';
    job.finishedAt = null;
    job.timedOut = false;
    if (job.spec.timeoutMs !== undefined)
      job.timeoutTimer = s.timers.add(TimerKind.jobTimeout, job.serial, -1, cx.now + job.spec.timeoutMs);
    if (job.origin !== null) {
      // In start (serial) order, as a restore rebuilds it (snapshot-codec.ts).
      const list = s.runningBySchedule.get(job.origin.schedule) ?? [];
      if (!list.includes(job)) {
        list.push(job);
        list.sort((a, b) => a.serial - b.serial);
      }
      s.runningBySchedule.set(job.origin.schedule, list);
    }
    cx.out.push({ type: 'job', job: job.id, state: 'running' });
  }

  /** A spec with re-run tasks: its rule decides now on the results that stand, or it waits (Job.redo). */
  private decideRerun(cx: ApplyContext, job: Job, spec: number): void {
    // Decided already by an earlier spec's skip in this same re-run (settled), or readied.
    if (!hasWaiting(job, spec)) return;
    job.redo.add(spec);
    const verdict = triggerVerdict(job.triggerOf(spec), job.upstreamCounts(spec));
    if (verdict === 'wait') return;
    if (verdict === 'run') {
      this.readySpec(cx, job, spec);
      return;
    }
    const skipped = this.skipSpec(cx, job, spec, verdict, job.specStart[spec] as number);
    if (skipped.n > 0) this.settled(cx, job, { spec, task: skipped.task, outcome: skipped.outcome, n: skipped.n });
  }

  // --- effects -------------------------------------------------------------------------------------

  private taskEvent(
    cx: ApplyContext,
    job: Job,
    task: number,
    spec: number,
    from: TaskStateCode,
    to: TaskStateCode,
    reason: string | null,
  ): void {
    const ts = job.spec.tasks[spec] as TaskSpec;
    const fence = job.fence[task] as number;
    cx.out.push({
      type: 'task',
      job: job.id,
      task,
      name: taskName(ts.name, ts.shards === null ? null : task - (job.specStart[spec] as number)),
      from: TASK_STATE_NAMES[from] as TaskState,
      to: TASK_STATE_NAMES[to] as TaskState,
      node: job.holderName(task),
      attempt: job.attempt[task] as number,
      fence: fence === NONE ? null : fence,
      reason,
    });
  }

  /**
   * Tasks [start, end) of `spec` went from `from` to `to`: one effect each, or one for a long run
   * of never-claimed tasks (a TaskRangeEvent says node null and attempt 0; re-run tasks have more).
   */
  private runEvent(
    cx: ApplyContext,
    job: Job,
    spec: number,
    start: number,
    end: number,
    from: TaskStateCode,
    to: TaskStateCode,
    reason: string | null,
  ): void {
    if (end - start >= RANGE_EVENT_MIN && neverClaimed(job, start, end)) {
      cx.out.push({
        type: 'tasks',
        job: job.id,
        start,
        end,
        from: TASK_STATE_NAMES[from] as TaskState,
        to: TASK_STATE_NAMES[to] as TaskState,
        reason,
      });
      return;
    }
    for (let t = start; t < end; t++) this.taskEvent(cx, job, t, spec, from, to, reason);
  }
}

/** The maximal runs [start, end) of waiting tasks of `spec`, in order: the whole spec when none was ever decided. */
function* waitingRuns(job: Job, spec: number): Generator<[number, number]> {
  const end = job.specStart[spec + 1] as number;
  for (let t = job.specStart[spec] as number; t < end; t++) {
    if (job.tState[t] !== T.waiting) continue;
    let u = t + 1;
    while (u < end && job.tState[u] === T.waiting) u++;
    yield [t, u];
    t = u;
  }
}

function hasWaiting(job: Job, spec: number): boolean {
  for (let t = job.specStart[spec] as number; t < (job.specStart[spec + 1] as number); t++) if (job.tState[t] === T.waiting) return true;
  return false;
}

function neverClaimed(job: Job, start: number, end: number): boolean {
  for (let t = start; t < end; t++) if (job.attempt[t] !== 0) return false;
  return true;
}
