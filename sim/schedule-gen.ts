// Random schedules for the scheduler workload (docs/simulation.md §3): every second to every
// minute, as `every` or as a cron expression with seconds in some time zone, with all overlap and
// catchup policies. Each run's DAG is one `noop` task whose attempts take from a fifth of a second
// to three seconds, so the runs of a fast schedule overlap and `forbid` and `replace` have work.
import { normalizeSchedule } from '../src/schedule/file.js';
import type { SeededRng } from '../src/raft/rng.js';
import { CATCHUP_POLICIES, OVERLAP_POLICIES, type ScheduleSpec } from '../src/scheduler/schedule-types.js';
import { planTasks, type PlannedJob } from './dag-gen.js';

export interface PlannedSchedule {
  readonly spec: ScheduleSpec;
  /** What the simulated executor makes of each run's task. */
  readonly plan: PlannedJob;
}

/** The DAG name of a schedule's runs, which the executor and the checkers find the plan by. */
export function runPlanName(schedule: string): string {
  return `run-${schedule}`;
}

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'] as const;

export function drawSchedule(rng: SeededRng, n: number): PlannedSchedule {
  const name = `sched${n}`;
  const dag: Record<string, unknown> = { name: runPlanName(name), tasks: { run: { handler: 'noop' } } };
  const raw: Record<string, unknown> = { name, overlap: rng.pick(OVERLAP_POLICIES), catchup: rng.pick(CATCHUP_POLICIES), dag };
  if (rng.chance(0.3)) {
    raw['cron'] = `*/${rng.pick([1, 2, 3, 5, 10, 30])} * * * * *`;
    raw['timezone'] = rng.pick(ZONES);
  } else {
    raw['every'] = rng.chance(0.8) ? `${rng.range(1, 10)}s` : `${rng.range(11, 60)}s`;
  }
  const spec = normalizeSchedule(raw);
  const minMs = rng.range(200, 1500);
  const maxMs = minMs + rng.range(0, 1500);
  const tasks = planTasks(spec.dag, () => () => ({ minMs, maxMs, fate: { kind: 'succeed', failFirst: 0 } }));
  return { spec, plan: { name: runPlanName(name), shape: 'schedule', raw: dag, spec: spec.dag, tasks, key: null } };
}
