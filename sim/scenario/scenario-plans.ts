// What the simulated executor makes of a scenario's DAGs: every task's attempt lengths, exit codes
// and fate, from the scenario's `tasks:` where it says, otherwise drawn from the seed. Built-in
// handlers behave as in a node: `noop` returns at once, `sleep` takes its `args.ms`.
import type { SeededRng } from '../../src/raft/rng.js';
import type { Json, TaskSpec } from '../../src/scheduler/types.js';
import { planTasks, type PlannedJob, type TaskFate, type TaskPlanning } from '../dag-gen.js';
import { DEFAULT_RUN_MS, type Scenario, type ScenarioDag, type TaskBehaviour } from './scenario-file.js';

export function planScenarioJob(s: Scenario, dag: ScenarioDag, rng: SeededRng): PlannedJob {
  const spec = dag.spec;
  const tasks = planTasks(spec, (t) => {
    const given = s.tasks.get(`${spec.name}/${t.name}`) ?? s.tasks.get(t.name);
    return () => planning(t, given, rng);
  });
  return { name: spec.name, shape: 'scenario', raw: {}, spec, tasks, key: `scenario-${spec.name}` };
}

function planning(t: TaskSpec, given: TaskBehaviour | undefined, rng: SeededRng): TaskPlanning {
  if (t.exec.kind === 'handler') {
    const ms = t.exec.name === 'sleep' ? sleepMs(t.exec.args) : 1;
    return bounded(t, ms, ms, { kind: 'succeed', failFirst: 0 }, undefined);
  }
  const b = given ?? { minMs: DEFAULT_RUN_MS[0], maxMs: DEFAULT_RUN_MS[1], exits: [0] };
  // One length per task, drawn once, so every attempt of it takes about as long.
  const ms = rng.range(b.minMs, b.maxMs);
  return bounded(t, ms, ms, fateOf(t, b.exits), b.exits);
}

/** Exit codes per attempt to a fate the checkers understand: the first 0 ends the failures. */
function fateOf(t: TaskSpec, exits: readonly number[]): TaskFate {
  const firstOk = exits.indexOf(0);
  if (firstOk < 0 || firstOk > t.retries) return { kind: 'fail' };
  return { kind: 'succeed', failFirst: firstOk };
}

/** An attempt longer than the task's timeout times out, every time: that is a hang. */
function bounded(t: TaskSpec, minMs: number, maxMs: number, fate: TaskFate, exits: readonly number[] | undefined): TaskPlanning {
  if (minMs >= t.timeoutMs) return { minMs, maxMs, fate: { kind: 'hang' } };
  return { minMs, maxMs: Math.min(maxMs, t.timeoutMs - 1), fate, ...(exits ? { exits } : {}) };
}

function sleepMs(args: Json): number {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return 1;
  const ms = (args as { readonly [k: string]: Json })['ms'];
  return typeof ms === 'number' ? ms : 1;
}
