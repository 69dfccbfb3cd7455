// Schedules in the replicated state machine (docs/schedules.md §3): the schedule commands and the
// decision of which ticks fire. Whether a tick fires is decided here, when a committed `fire`
// entry is applied, from the schedule's cursor (every tick at or before `decidedUntil` is decided)
// and the entry's cluster time, never from a clock: every replica decides every tick the same way
// and a tick is decided once, whoever proposes it and however often. The job a tick starts has an
// id derived from the schedule and the tick, so even a second decision could not start it twice.
//
// machine.ts hands the commands here and lends the two job operations a run needs (start one,
// cancel one) through ScheduleJobs.
import { cadenceProblem, nextTick } from '../schedule/cadence.js';
import { checkJobSpec } from './dag-check.js';
import { envProblem } from './spec-rules.js';
import type { Job } from './job.js';
import type { ApplyContext } from './lifecycle.js';
import {
  CATCHUP_ALL_MAX,
  CATCHUP_POLICIES,
  MAX_PARAMS,
  MAX_RECENT_RUNS,
  MAX_SCHEDULES,
  MAX_TICKS_SCANNED,
  ON_TIME_MS,
  OVERLAP_POLICIES,
  SCHEDULE_NAME,
  type FireItem,
  type JobOrigin,
  type ScheduleCommand,
  type ScheduleSpec,
  type ScheduleView,
  type TickOutcome,
} from './schedule-types.js';
import type { SchedulerState } from './state.js';
import { hashBytes } from './snapshot-codec.js';
import type { JobId, JobSpec, Ms } from './types.js';

/** One run in a schedule's recent list. */
export interface RunRec {
  readonly tick: Ms;
  readonly job: JobId;
  readonly triggered: boolean;
}

export interface ScheduleRec {
  spec: ScheduleSpec;
  /** The DAG with the params merged into every task's env: what each run submits (derived). */
  runSpec: JobSpec;
  readonly createdAt: Ms;
  /** Every tick at or before this time is decided. */
  decidedUntil: Ms;
  /** The first tick after decidedUntil, or null (derived from the cadence). */
  nextAt: Ms | null;
  /** Oldest first, at most MAX_RECENT_RUNS. */
  readonly runs: RunRec[];
  fired: number;
  skipped: number;
  missed: number;
}

/** The job operations a run needs, lent by the machine. */
export interface ScheduleJobs {
  /** Starts a job; the job, or why it could not be started. */
  start(cx: ApplyContext, id: JobId, spec: JobSpec, origin: JobOrigin): Job | string;
  cancel(cx: ApplyContext, job: Job): void;
}

type Check = { readonly ok: true; readonly runSpec: JobSpec } | { readonly ok: false; readonly error: string };

/**
 * The replicated re-check of a schedule (the API checked it already with the file front end):
 * names, cadence, policies, params, and the DAG with the params merged in.
 */
export function checkScheduleSpec(spec: ScheduleSpec): Check {
  const problems: string[] = [];
  if (!SCHEDULE_NAME.test(spec.name)) problems.push(`name '${spec.name}' must be 1 to 128 letters, digits, '_', '.' or '-'`);
  const cadence = cadenceProblem(spec.cadence, spec.timezone);
  if (cadence !== null) problems.push(cadence);
  if (!OVERLAP_POLICIES.includes(spec.overlap)) problems.push(`overlap must be one of ${OVERLAP_POLICIES.join(', ')}`);
  if (!CATCHUP_POLICIES.includes(spec.catchup)) problems.push(`catchup must be one of ${CATCHUP_POLICIES.join(', ')}`);
  const params = Object.entries(spec.params);
  if (params.length > MAX_PARAMS) problems.push(`${params.length} params (at most ${MAX_PARAMS})`);
  for (const [k] of params) {
    const p = envProblem(k);
    if (p !== null) problems.push(`params: ${p}`);
  }
  if (problems.length > 0) return { ok: false, error: problems.join('; ') };
  const merged = withParams(spec.dag, spec.params);
  const check = checkJobSpec(merged);
  return check.ok ? { ok: true, runSpec: check.spec } : { ok: false, error: `dag: ${check.error}` };
}

/** The params are the environment of every task, over the DAG's own `env` (docs/schedules.md §1). */
function withParams(dag: JobSpec, params: Readonly<Record<string, string>>): JobSpec {
  if (Object.keys(params).length === 0) return dag;
  return { ...dag, tasks: dag.tasks.map((t) => ({ ...t, env: { ...t.env, ...params } })) };
}

/**
 * The job id of the run of `schedule` at `tick`: 12 hex digits from a hash of both, so that every
 * replica and every proposer names the run alike. `salt` > 0 only if that id is taken by another job.
 */
export function runJobId(schedule: string, tick: Ms, salt = 0): JobId {
  const text = salt === 0 ? `${schedule}\n${tick}` : `${schedule}\n${tick}\n${salt}`;
  return hashBytes(new TextEncoder().encode(text)).slice(0, 12);
}

/** Ids tried for a run before the tick is refused (a collision with a submitted job needs 48 bits of luck). */
const MAX_SALT = 8;

export class Schedules {
  constructor(
    private readonly s: SchedulerState,
    private readonly jobs: ScheduleJobs,
  ) {}

  apply(cx: ApplyContext, cmd: ScheduleCommand): void {
    switch (cmd.type) {
      case 'schedule-put':
        return this.put(cx, cmd.request, cmd.spec, startOf(cx, cmd.at));
      case 'schedule-delete':
        return this.remove(cx, cmd.request, cmd.name);
      case 'schedule-pause':
        return this.pause(cx, cmd.request, cmd.name, cmd.paused, startOf(cx, cmd.at));
      case 'schedule-trigger':
        return this.trigger(cx, cmd.request, cmd.name, cmd.id);
      case 'fire':
        return this.fire(cx, cmd.items);
    }
  }

  // --- schedule commands -------------------------------------------------------------------------

  /** `start`: where the ticks of a new (or resumed) schedule count from (startOf). */
  private put(cx: ApplyContext, request: string, spec: ScheduleSpec, start: Ms): void {
    const check = checkScheduleSpec(spec);
    if (!check.ok) return this.refuse(cx, request, spec.name, 'invalid', check.error);
    const rec = this.s.schedules.get(spec.name);
    if (rec === undefined) {
      if (this.s.schedules.size >= MAX_SCHEDULES)
        return this.refuse(cx, request, spec.name, 'conflict', `there are ${MAX_SCHEDULES} schedules already (at most ${MAX_SCHEDULES})`);
      const created: ScheduleRec = {
        spec,
        runSpec: check.runSpec,
        createdAt: start,
        decidedUntil: start,
        nextAt: null,
        runs: [],
        fired: 0,
        skipped: 0,
        missed: 0,
      };
      created.nextAt = nextDue(created);
      this.s.schedules.set(spec.name, created);
      return this.changed(cx, request, spec.name, 'created', null);
    }
    const wasPaused = rec.spec.paused;
    rec.spec = spec;
    rec.runSpec = check.runSpec;
    // Ticks already decided stay decided; ticks that fell while it was paused are not owed.
    if (wasPaused && !spec.paused) rec.decidedUntil = Math.max(rec.decidedUntil, start);
    rec.nextAt = nextDue(rec);
    this.changed(cx, request, spec.name, 'replaced', null);
  }

  private remove(cx: ApplyContext, request: string, name: string): void {
    if (!this.s.schedules.delete(name)) return this.refuse(cx, request, name, 'not-found', `no schedule named '${name}'`);
    // Its runs go on to their end; they keep their schedule and tick.
    this.changed(cx, request, name, 'deleted', null);
  }

  private pause(cx: ApplyContext, request: string, name: string, paused: boolean, start: Ms): void {
    const rec = this.s.schedules.get(name);
    if (rec === undefined) return this.refuse(cx, request, name, 'not-found', `no schedule named '${name}'`);
    if (rec.spec.paused !== paused) {
      rec.spec = { ...rec.spec, paused };
      if (!paused) rec.decidedUntil = Math.max(rec.decidedUntil, start);
      rec.nextAt = nextDue(rec);
    }
    this.changed(cx, request, name, paused ? 'paused' : 'resumed', null);
  }

  /** A run now (tick = this entry's time), outside the cadence; the overlap policy holds for it too. */
  private trigger(cx: ApplyContext, request: string, name: string, id: JobId): void {
    const rec = this.s.schedules.get(name);
    if (rec === undefined) return this.refuse(cx, request, name, 'not-found', `no schedule named '${name}'`);
    const active = this.active(name);
    if (rec.spec.overlap === 'forbid' && active.length > 0) {
      return this.refuse(
        cx,
        request,
        name,
        'conflict',
        `a run of '${name}' is active (job ${active[0]?.id ?? '?'}) and its overlap is forbid`,
      );
    }
    if (this.s.jobs.has(id)) return this.refuse(cx, request, name, 'conflict', `job id ${id} is already taken`);
    if (rec.spec.overlap === 'replace') for (const job of active) this.jobs.cancel(cx, job);
    const job = this.jobs.start(cx, id, rec.runSpec, { schedule: name, tick: cx.now, triggered: true });
    if (typeof job === 'string') return this.refuse(cx, request, name, 'invalid', job);
    // Not a tick of the cadence: listed with the runs, not counted nor reported as a tick.
    remember(rec, { tick: cx.now, job: job.id, triggered: true });
    this.changed(cx, request, name, 'triggered', job.id);
  }

  // --- firing ------------------------------------------------------------------------------------

  /**
   * Decides the ticks of each named schedule that are due at this entry's time. A tick at or before
   * the schedule's cursor was decided by an earlier entry: the item is a duplicate and changes nothing.
   */
  private fire(cx: ApplyContext, items: readonly FireItem[]): void {
    // Duplicates are the common case (every node proposes every tick): counted, and said once.
    let decided = 0;
    for (const { schedule, tick } of items) {
      const rec = this.s.schedules.get(schedule);
      if (rec === undefined) this.ignore(cx, `unknown schedule '${schedule}'`);
      else if (rec.spec.paused) this.ignore(cx, `schedule '${schedule}' is paused`);
      else if (tick <= rec.decidedUntil) decided++;
      else if (tick > cx.now) this.ignore(cx, `${schedule}@${tick}: not due at ${cx.now}`);
      else this.decide(cx, rec);
    }
    if (decided > 0) this.ignore(cx, `${decided} tick(s) already decided`);
  }

  /** Every tick of `rec` in (decidedUntil, now]: fired, skipped or missed as its policies say. */
  private decide(cx: ApplyContext, rec: ScheduleRec): void {
    const due = dueTicks(rec, cx.now);
    if (due.count === 0) return;
    const newest = due.newest[due.newest.length - 1] as Ms;
    let fire: readonly Ms[];
    switch (rec.spec.catchup) {
      case 'none':
        // Only the newest due tick can be on time (its successor is not due yet), and only if it is not too late.
        fire = cx.now - newest <= ON_TIME_MS ? [newest] : [];
        break;
      case 'latest':
        fire = [newest];
        break;
      case 'all':
        fire = due.newest.slice(-CATCHUP_ALL_MAX);
        break;
    }
    const missed = due.count - fire.length;
    if (missed > 0) {
      const lastMissed = fire.length === 0 ? newest : (due.newest[due.newest.length - fire.length - 1] ?? due.first);
      rec.missed += missed;
      cx.out.push({
        type: 'schedule-tick',
        schedule: rec.spec.name,
        tick: due.first,
        outcome: 'missed',
        job: null,
        at: cx.now,
        count: missed,
        lastTick: lastMissed,
      });
    }
    rec.decidedUntil = newest;
    rec.nextAt = nextDue(rec);
    for (const tick of fire) this.fireOne(cx, rec, tick);
  }

  private fireOne(cx: ApplyContext, rec: ScheduleRec, tick: Ms): void {
    const name = rec.spec.name;
    const active = this.active(name);
    if (rec.spec.overlap === 'forbid' && active.length > 0) {
      rec.skipped++;
      return this.tick(cx, name, tick, 'skipped', null);
    }
    if (rec.spec.overlap === 'replace') for (const job of active) this.jobs.cancel(cx, job);
    for (let salt = 0; salt < MAX_SALT; salt++) {
      const id = runJobId(name, tick, salt);
      const taken = this.s.jobs.get(id);
      if (taken?.origin?.schedule === name && taken.origin.tick === tick) return; // started already: never twice
      if (taken !== undefined) continue;
      const job = this.jobs.start(cx, id, rec.runSpec, { schedule: name, tick, triggered: false });
      if (typeof job === 'string') break;
      remember(rec, { tick, job: job.id, triggered: false });
      rec.fired++;
      return this.tick(cx, name, tick, 'fired', job.id);
    }
    rec.missed++;
    this.tick(cx, name, tick, 'missed', null);
  }

  /**
   * The running jobs started by schedule `name`, in start order. The index holds every job a
   * schedule of that name started (rebuilt from the jobs on restore); ended ones leave it here.
   */
  private active(name: string): Job[] {
    const index = this.s.runningBySchedule;
    const list = index.get(name);
    if (list === undefined) return [];
    const running = list.filter((job) => job.state === 'running' && this.s.jobs.get(job.id) === job);
    if (running.length === 0) index.delete(name);
    else index.set(name, running);
    return running;
  }

  // --- effects -----------------------------------------------------------------------------------

  private tick(cx: ApplyContext, schedule: string, tick: Ms, outcome: TickOutcome, job: JobId | null): void {
    cx.out.push({ type: 'schedule-tick', schedule, tick, outcome, job, at: cx.now, count: 1, lastTick: tick });
  }

  private changed(
    cx: ApplyContext,
    request: string,
    name: string,
    change: 'created' | 'replaced' | 'deleted' | 'paused' | 'resumed' | 'triggered',
    job: JobId | null,
  ): void {
    cx.out.push({ type: 'schedule-changed', request, name, change, job });
  }

  private refuse(cx: ApplyContext, request: string, name: string, code: 'not-found' | 'conflict' | 'invalid', error: string): void {
    cx.out.push({ type: 'schedule-refused', request, name, code, error });
  }

  private ignore(cx: ApplyContext, reason: string): void {
    cx.out.push({ type: 'ignored', command: 'fire', reason });
  }

  // --- views -------------------------------------------------------------------------------------

  view(name: string): ScheduleView | undefined {
    const rec = this.s.schedules.get(name);
    return rec === undefined ? undefined : this.viewOf(rec);
  }

  views(): ScheduleView[] {
    return [...this.s.schedules.values()]
      .sort((a, b) => (a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0))
      .map((r) => this.viewOf(r));
  }

  /** The next tick of every schedule that is not paused: what a schedule keeper proposes when due. */
  *due(): Iterable<FireItem> {
    for (const rec of this.s.schedules.values()) if (rec.nextAt !== null) yield { schedule: rec.spec.name, tick: rec.nextAt };
  }

  private viewOf(rec: ScheduleRec): ScheduleView {
    const spec = rec.spec;
    return {
      name: spec.name,
      cadence: spec.cadence,
      timezone: spec.timezone,
      overlap: spec.overlap,
      catchup: spec.catchup,
      paused: spec.paused,
      params: spec.params,
      createdAt: rec.createdAt,
      decidedUntil: rec.decidedUntil,
      nextAt: rec.nextAt,
      runs: [...rec.runs]
        .reverse()
        .map((r) => ({ tick: r.tick, job: r.job, triggered: r.triggered, state: this.s.jobs.get(r.job)?.state ?? null })),
      fired: rec.fired,
      skipped: rec.skipped,
      missed: rec.missed,
    };
  }
}

/**
 * Where a new or resumed schedule's ticks count from: the entry's cluster time, or the proposer's
 * clock when that is later. A new cluster's first entries carry the time 0 until a quorum of voters
 * has reported its clock (docs/architecture.md §6): counting from there would owe every tick since
 * 1970. A proposer whose clock runs ahead only delays its own schedule's first tick.
 */
function startOf(cx: ApplyContext, at: Ms): Ms {
  return Math.max(cx.now, at);
}

/** The next tick to decide: null while paused. */
export function nextDue(rec: ScheduleRec): Ms | null {
  return rec.spec.paused ? null : nextTick(rec.spec.cadence, rec.spec.timezone, rec.decidedUntil);
}

function remember(rec: ScheduleRec, run: RunRec): void {
  rec.runs.push(run);
  if (rec.runs.length > MAX_RECENT_RUNS) rec.runs.shift();
}

interface Due {
  /** How many ticks are due. */
  readonly count: number;
  /** The oldest due tick. */
  readonly first: Ms;
  /** The newest due ticks, ascending, at most CATCHUP_ALL_MAX + 1. */
  readonly newest: readonly Ms[];
}

/** The ticks of `rec` in (decidedUntil, now]: counted, with the newest kept. */
function dueTicks(rec: ScheduleRec, now: Ms): Due {
  const keep = CATCHUP_ALL_MAX + 1;
  const first = rec.nextAt;
  if (first === null || first > now) return { count: 0, first: 0, newest: [] };
  const { cadence, timezone } = rec.spec;
  if (cadence.kind === 'every') {
    const count = Math.floor((now - first) / cadence.everyMs) + 1;
    const last = first + (count - 1) * cadence.everyMs;
    const n = Math.min(count, keep);
    return { count, first, newest: Array.from({ length: n }, (_, i) => last - (n - 1 - i) * cadence.everyMs) };
  }
  const newest: Ms[] = [];
  let count = 0;
  let t: Ms | null = first;
  while (t !== null && t <= now) {
    count++;
    newest.push(t);
    if (newest.length > keep) newest.shift();
    if (count === MAX_TICKS_SCANNED) {
      // A very long gap of a frequent cron: look again from shortly before now (the stretch between
      // counts as what the scan saw, documented as a lower bound in docs/schedules.md §4).
      const span = t - first;
      const restart = now - Math.ceil(span / 100);
      if (restart > t) {
        newest.length = 0;
        t = nextTick(cadence, timezone, restart);
        continue;
      }
    }
    t = nextTick(cadence, timezone, t);
  }
  return { count, first, newest };
}
