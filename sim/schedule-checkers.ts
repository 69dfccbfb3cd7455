// The schedules' checkers (docs/simulation.md §5, docs/schedules.md). They follow the committed
// effects once per log index, as the scheduler's checkers do, and keep a model of each schedule:
// the ticks decided so far, and the runs of it that are still running. What they check:
//   - each tick is decided at most once: fired, skipped or missed, never twice, and one job per fired tick;
//   - decisions follow the cadence with no gap: the ticks a decision covers are the cadence's ticks
//     after the last one decided, up to the entry's time, all of them;
//   - catchup: `all` misses nothing (the sim's gaps stay under its bound of 100), `latest` fires or
//     skips the newest due tick, `none` fires only a tick within a minute of its time;
//   - overlap: `forbid` never starts a run while another runs, `replace` leaves one run running;
//   - after the heal, while a quorum is up: every due tick is decided within a bound, and, once the
//     cluster commits again, the fire lag (tick to the cluster time of the entry that fired it) stays within a bound.
import { nextTick } from '../src/schedule/cadence.js';
import type { Entry } from '../src/raft/types.js';
import { CATCHUP_ALL_MAX, MAX_TICKS_SCANNED, ON_TIME_MS, type ScheduleEffect, type ScheduleSpec } from '../src/scheduler/schedule-types.js';
import type { Command, Effect, JobId } from '../src/scheduler/types.js';
import type { CheckerWorld } from './scheduler-checkers.js';

/** Fire lag allowed after the heal: a keeper's retry (100 ms), commits under the sim's delays, clock skew. */
export const LAG_BOUND_MS = 1500;
/**
 * After the heal, a due tick is decided within this long: the lag, plus the commits of a cluster
 * still catching up (snapshots to install, a backlog of retried proposals).
 */
export const DECIDE_BOUND_MS = 5000;

interface ScheduleModel {
  readonly spec: ScheduleSpec;
  /** Every tick at or before it was decided. */
  decidedUntil: number;
  deleted: boolean;
  /** Its runs that are still running, by job id. */
  readonly running: Set<JobId>;
  fired: number;
  lagMax: number;
}

type TickEffect = Extract<ScheduleEffect, { type: 'schedule-tick' }>;

export class ScheduleChecker {
  private readonly models = new Map<string, ScheduleModel>();
  /** Which schedule each run belongs to. */
  readonly runs = new Map<JobId, string>();
  /** Scheduler time as the machine has it: the largest entry time so far. */
  private now = 0;
  private healedAt: number | null = null;
  /**
   * The time of the first entry proposed after the heal that committed: when the cluster decides
   * again. A wiped node rejoining through the join protocol may hold a small cluster's quorum
   * for a while after the heal, and ticks due meanwhile wait for it.
   */
  private resumedAt: number | null = null;
  readonly counts = { fired: 0, skipped: 0, missed: 0, decisions: 0 };
  private failed = false;

  constructor(
    private readonly world: CheckerWorld,
    /** The schedules the workload puts, by name. */
    private readonly specs: ReadonlyMap<string, ScheduleSpec>,
  ) {}

  private fail(invariant: string, detail: string): void {
    if (this.failed) return;
    this.failed = true;
    this.world.fail(invariant, detail);
  }

  /** The schedule of each run a fire or a trigger in these effects starts (for the scheduler checker's job model). */
  static runsIn(effects: readonly Effect[]): Map<JobId, string> {
    const out = new Map<JobId, string>();
    for (const e of effects) {
      if (e.type === 'schedule-tick' && e.job !== null) out.set(e.job, e.schedule);
      else if (e.type === 'schedule-changed' && e.change === 'triggered' && e.job !== null) out.set(e.job, e.name);
    }
    return out;
  }

  healed(at: number): void {
    this.healedAt = at;
  }

  /** The effects of the entry at `entry.index`, once per index, in log order. */
  committed(entry: Entry, cmd: Command | null, effects: readonly Effect[]): void {
    if (entry.time > this.now) this.now = entry.time;
    if (this.healedAt !== null && this.resumedAt === null && entry.time >= this.healedAt) this.resumedAt = entry.time;
    // A schedule's ticks count from the later of the entry's time and its proposer's clock (schedules.ts).
    const start = cmd?.type === 'schedule-put' || cmd?.type === 'schedule-pause' ? Math.max(this.now, cmd.at) : this.now;
    const ticks = new Map<string, TickEffect[]>();
    for (const e of effects) {
      switch (e.type) {
        case 'schedule-changed':
          this.changed(e.name, e.change, start);
          // A trigger's run is a run of the schedule too (overlap), though no tick.
          if (e.change === 'triggered' && e.job !== null) {
            this.runs.set(e.job, e.name);
            this.models.get(e.name)?.running.add(e.job);
          }
          break;
        case 'schedule-tick': {
          const list = ticks.get(e.schedule);
          if (list === undefined) ticks.set(e.schedule, [e]);
          else list.push(e);
          this.tick(e);
          break;
        }
        case 'job':
          if (e.state !== 'running') {
            const name = this.runs.get(e.job);
            if (name !== undefined) this.models.get(name)?.running.delete(e.job);
          }
          break;
        default:
          break;
      }
    }
    for (const [name, list] of ticks) this.decision(name, list, entry.index);
    for (const [name, m] of this.models) {
      if (m.spec.overlap !== 'allow' && m.running.size > 1)
        this.fail(
          'schedule overlap',
          `after index ${entry.index}, ${m.running.size} runs of '${name}' (overlap ${m.spec.overlap}) are running: ${[...m.running].join(', ')}`,
        );
    }
  }

  private changed(name: string, change: string, start: number): void {
    if (change === 'created') {
      const spec = this.specs.get(name);
      if (spec === undefined) return this.fail('schedule accounting', `a schedule '${name}' was created that the workload never put`);
      this.models.set(name, { spec, decidedUntil: start, deleted: false, running: new Set(), fired: 0, lagMax: 0 });
    } else if (change === 'deleted') {
      const m = this.models.get(name);
      if (m) m.deleted = true;
    }
  }

  private tick(e: TickEffect): void {
    const m = this.models.get(e.schedule);
    if (m === undefined || m.deleted)
      return this.fail('schedule accounting', `a tick of '${e.schedule}', which is not a live schedule, was decided at ${e.at}`);
    if (e.tick <= m.decidedUntil)
      return this.fail(
        'tick decided once',
        `'${e.schedule}' tick ${e.tick} was decided (${e.outcome}) at ${e.at}, but every tick up to ${m.decidedUntil} was decided already`,
      );
    if (e.tick > e.at || e.lastTick > e.at)
      return this.fail('tick decided once', `'${e.schedule}' tick ${e.tick} was decided (${e.outcome}) at ${e.at}, before it was due`);
    // The ticks it covers are the cadence's next ones, with no gap.
    let t: number | null = m.decidedUntil;
    let covered = 0;
    const first = nextTick(m.spec.cadence, m.spec.timezone, m.decidedUntil);
    if (first !== e.tick)
      return this.fail(
        'ticks without a gap',
        `'${e.schedule}' decided tick ${e.tick} (${e.outcome}) at ${e.at}, but the next tick after ${m.decidedUntil} is ${String(first)}`,
      );
    while (t !== null && covered < e.count && covered < MAX_TICKS_SCANNED) {
      t = nextTick(m.spec.cadence, m.spec.timezone, t);
      covered++;
    }
    // Past MAX_TICKS_SCANNED the machine skips a stretch in one step and counts it as a lower bound (docs/schedules.md §4).
    if (covered >= MAX_TICKS_SCANNED && e.outcome === 'missed') t = e.lastTick;
    if (t !== e.lastTick)
      return this.fail(
        'ticks without a gap',
        `'${e.schedule}' ${e.outcome} ${e.count} tick(s) from ${e.tick}, which end at ${String(t)}, not at ${e.lastTick}`,
      );
    m.decidedUntil = e.lastTick;
    this.world.trace(
      () =>
        `schedule ${e.schedule}: tick ${e.tick}${e.count > 1 ? `..${e.lastTick} (${e.count})` : ''} ${e.outcome}${e.job === null ? '' : ` as ${e.job}`} at ${e.at} (lag ${e.at - e.tick}ms)`,
    );
    if (e.outcome === 'missed') {
      this.counts.missed += e.count;
      return;
    }
    if (e.outcome === 'skipped') {
      this.counts.skipped++;
      if (m.spec.overlap !== 'forbid' || m.running.size === 0)
        this.fail(
          'schedule overlap',
          `'${e.schedule}' tick ${e.tick} was skipped with ${m.running.size} run(s) running and overlap ${m.spec.overlap}`,
        );
      return;
    }
    this.counts.fired++;
    m.fired++;
    if (e.job === null) return this.fail('tick decided once', `'${e.schedule}' tick ${e.tick} fired without a job`);
    if (this.runs.has(e.job))
      return this.fail('tick decided once', `job ${e.job} was started for '${e.schedule}' tick ${e.tick}, and before for another tick`);
    if (m.spec.overlap === 'forbid' && m.running.size > 0)
      this.fail(
        'schedule overlap',
        `'${e.schedule}' (overlap forbid) started ${e.job} for tick ${e.tick} while ${[...m.running].join(', ')} ran`,
      );
    this.runs.set(e.job, e.schedule);
    m.running.add(e.job);
    const lag = e.at - e.tick;
    // While a quorum is up (after the heal, once the cluster commits again and the first decisions caught up): the lag is bounded.
    if (this.resumedAt !== null && e.tick >= this.resumedAt + LAG_BOUND_MS) {
      m.lagMax = Math.max(m.lagMax, lag);
      if (lag > LAG_BOUND_MS)
        this.fail(
          'fire lag',
          `'${e.schedule}' tick ${e.tick} fired at ${e.at}, ${lag} ms late (bound ${LAG_BOUND_MS} ms once the cluster committed again after the heal)`,
        );
    }
  }

  /** One entry's decisions for one schedule: every due tick, and what its catchup says of them. */
  private decision(name: string, list: readonly TickEffect[], index: number): void {
    const m = this.models.get(name);
    if (m === undefined) return;
    this.counts.decisions++;
    const at = (list[0] as TickEffect).at;
    const next = nextTick(m.spec.cadence, m.spec.timezone, m.decidedUntil);
    if (next !== null && next <= at)
      this.fail(
        'ticks without a gap',
        `at index ${index} '${name}' decided up to ${m.decidedUntil}, leaving tick ${next} due at ${at} undecided`,
      );
    const missed = list.filter((e) => e.outcome === 'missed').reduce((n, e) => n + e.count, 0);
    const newest = list[list.length - 1] as TickEffect;
    const catchup = m.spec.catchup;
    if (catchup === 'all' && missed > 0 && list.filter((e) => e.outcome !== 'missed').length < CATCHUP_ALL_MAX) {
      this.fail('catchup', `'${name}' (catchup all) missed ${missed} tick(s) at index ${index} with fewer than ${CATCHUP_ALL_MAX} due`);
    }
    if (catchup === 'latest' && newest.outcome === 'missed')
      this.fail('catchup', `'${name}' (catchup latest) missed its newest due tick ${newest.lastTick} at index ${index}`);
    if (catchup === 'none') {
      for (const e of list) {
        if (e.outcome !== 'missed' && (at - e.tick > ON_TIME_MS || e !== newest))
          this.fail('catchup', `'${name}' (catchup none) ${e.outcome} tick ${e.tick} at ${at}: only the newest tick, on time, may fire`);
      }
    }
  }

  /** At `now`, with a quorum up since the heal: every tick due more than DECIDE_BOUND_MS ago is decided. */
  checkDecided(now: number): void {
    for (const [name, m] of this.models) {
      if (m.deleted) continue;
      const next = nextTick(m.spec.cadence, m.spec.timezone, m.decidedUntil);
      if (next !== null && next < now - DECIDE_BOUND_MS)
        this.fail(
          'ticks after the heal',
          `at ${now}, '${name}' has decided its ticks only up to ${m.decidedUntil}: tick ${next} is ${now - next} ms overdue`,
        );
    }
  }

  describe(): string {
    const lags = [...this.models.values()].map((m) => m.lagMax);
    return `schedules: ${this.models.size}, ticks ${this.counts.fired} fired, ${this.counts.skipped} skipped, ${this.counts.missed} missed, max lag after the heal ${Math.max(0, ...lags)}ms`;
  }
}
