// Random DAGs for the scheduler workload, and what the simulated executor makes of each task.
// A job is drawn as a DAG file would hold it (durations as text, defaults, shards, handlers) and
// goes through the real normalizeDag; alongside it, every expanded task gets a fate drawn from the
// same seed: how long its attempts take, how many first attempts fail (never more than its
// retries, so the job must still succeed), or whether it fails every attempt (then the job must
// fail and its dependents be skipped).
import { at, known } from '../src/invariant.js';
import { normalizeDag } from '../src/dag/parse.js';
import type { SeededRng } from '../src/raft/rng.js';
import { taskName } from '../src/scheduler/task-names.js';
import { DEFAULT_TRIGGER, TRIGGER_RULES, type TriggerRule } from '../src/scheduler/trigger-rules.js';
import type { JobSpec, Labels, TaskSpec } from '../src/scheduler/types.js';

/** Handlers some nodes register and others lack (the built-in `noop` is everywhere). */
export const SIM_HANDLERS = ['gpu', 'py', 'render'] as const;

export type TaskFate =
  /** Attempts 1..failFirst fail (exit 1), later ones succeed. */
  | { readonly kind: 'succeed'; readonly failFirst: number }
  /** Every attempt fails (exit 1). */
  | { readonly kind: 'fail' }
  /** Every attempt runs past the task's timeout. */
  | { readonly kind: 'hang' };

export interface PlannedTask {
  /** Full name (`transform[3]` for a shard). */
  readonly name: string;
  /** Index in the job's flat task list: specs in order, a spec's shards consecutive. */
  readonly index: number;
  /** Flat indices of the tasks it waits for (every shard of a sharded dependency). */
  readonly deps: readonly number[];
  readonly handler: string | null;
  readonly retries: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  readonly slots: number;
  readonly trigger: TriggerRule;
  /** Bounds of one attempt's duration, ms. */
  readonly minMs: number;
  readonly maxMs: number;
  readonly fate: TaskFate;
  /** Exit code of a failing attempt k: exits[k-1], the last repeating (default 1). */
  readonly exits?: readonly number[];
  /** The labels a node needs to run it (docs/dag-file.md §14); absent: any node. */
  readonly on?: Labels;
  /** The pool one of whose slots it holds while it runs; absent: none. */
  readonly pool?: string;
}

export interface PlannedJob {
  /** Unique per seed: the job's `name`, which the executor uses to find a task's fate. */
  readonly name: string;
  readonly shape: string;
  /** The DAG as a file holds it. */
  readonly raw: Record<string, unknown>;
  readonly spec: JobSpec;
  readonly tasks: readonly PlannedTask[];
  /** Submitted with an idempotency key (retried with it after a refusal or a timeout). */
  readonly key: string | null;
  /** At most this many of its tasks run at once; absent: no limit. */
  readonly concurrency?: number;
}

/**
 * What a seed's jobs may ask for beyond handlers (docs/dag-file.md §14), drawn from a stream of its
 * own so that a seed without placement draws its jobs as before.
 */
export interface PlacementDraw {
  readonly rng: SeededRng;
  /** Label sets `run` tasks may ask for: enough nodes with two slots hold each (see drawNodes). */
  readonly on: readonly Labels[];
  /** Pools the workload creates. */
  readonly pools: readonly string[];
}

/** Adds `on:`, `pool:` and `concurrency:` to a drawn DAG (before it is normalised). */
function place(p: PlacementDraw, raw: Record<string, unknown>, tasks: Record<string, Record<string, unknown>>): void {
  const rng = p.rng;
  if (rng.chance(0.35)) raw['concurrency'] = rng.range(1, 3);
  for (const t of Object.values(tasks)) {
    // Handler tasks stay unpinned: a node with both the handler and the labels is not promised.
    const runsAnywhere = t['handler'] === undefined || t['handler'] === 'noop';
    if (runsAnywhere && p.on.length > 0 && rng.chance(0.3)) t['on'] = rng.pick(p.on);
    if (p.pools.length > 0 && rng.chance(0.5)) t['pool'] = rng.pick(p.pools);
  }
}

interface SpecDraft {
  name: string;
  deps: string[];
  shards: number | null;
}

/** Draw one job. `handlers`: handler names at least one (in practice: several) nodes can run. */
export function drawJob(rng: SeededRng, n: number, handlers: readonly string[], placement: PlacementDraw | null = null): PlannedJob {
  const { shape, specs } = drawShape(rng);
  const name = `job${n}-${shape}`;
  const defaults: Record<string, unknown> = {};
  if (rng.chance(0.5)) defaults['retries'] = rng.range(0, 2);
  if (rng.chance(0.5)) defaults['backoff'] = `${rng.range(20, 300)}ms`;
  if (rng.chance(0.3)) defaults['priority'] = rng.range(-5, 5);
  // Some jobs draw trigger rules (docs/dag-file.md §12); those fail a task more often, so that
  // the rules meet failures and skips upstream.
  const triggers = rng.chance(0.35);
  if (triggers && rng.chance(0.2)) defaults['trigger'] = rng.pick(TRIGGER_RULES);
  // The default timeout is an hour: attempts here take well under a second.
  const failing = rng.chance(triggers ? 0.5 : 0.15) ? rng.int(specs.length) : -1;
  const hanging = failing < 0 && rng.chance(0.06) ? rng.int(specs.length) : -1;
  const rawTasks: Record<string, Record<string, unknown>> = {};
  const fateOf = new Map<string, 'fail' | 'hang' | null>();
  for (let i = 0; i < specs.length; i++) {
    const s = at(specs, i, 'a spec');
    const t: Record<string, unknown> = {};
    if (handlers.length > 0 && rng.chance(0.3)) t['handler'] = rng.pick(handlers);
    else if (rng.chance(0.1)) t['handler'] = 'noop';
    else t['run'] = `./${s.name}.sh`;
    if (s.deps.length > 0) t['deps'] = s.deps;
    if (s.shards !== null) t['shards'] = s.shards;
    if (rng.chance(0.4)) t['priority'] = rng.range(-10, 10);
    if (rng.chance(0.5)) t['retries'] = rng.range(0, 3);
    if (rng.chance(0.3)) t['backoff'] = `${rng.range(10, 400)}ms`;
    if (rng.chance(0.1)) t['slots'] = 2;
    if (i === hanging) t['timeout'] = `${rng.range(200, 800)}ms`;
    else if (rng.chance(0.2)) t['timeout'] = `${rng.range(5, 60)}s`;
    if (rng.chance(0.1)) t['env'] = { STAGE: s.name };
    if (triggers && s.deps.length > 0 && rng.chance(0.5)) t['trigger'] = rng.pick(TRIGGER_RULES);
    rawTasks[s.name] = t;
    fateOf.set(s.name, i === failing ? 'fail' : i === hanging ? 'hang' : null);
  }
  const raw: Record<string, unknown> = { name, tasks: rawTasks };
  if (Object.keys(defaults).length > 0) raw['defaults'] = defaults;
  if (placement !== null) place(placement, raw, rawTasks);
  const spec = normalizeDag(raw);

  const tasks = planTasks(spec, (t) => {
    const special = fateOf.get(t.name) ?? null;
    // Well inside the timeout, so only a 'hang' fate times out (the hanging spec's other shards share its short timeout).
    // Some run longer than a worker's lease (their holder must keep renewing it while they run).
    const cap = Math.max(1, Math.floor(t.timeoutMs / 2));
    const long = rng.chance(0.12);
    const minMs = Math.min(cap, long ? rng.range(800, 1500) : rng.range(5, 150));
    const maxMs = Math.min(cap, minMs + (long ? rng.range(0, 2500) : rng.range(0, 350)));
    return (shard) => {
      let fate: TaskFate;
      if (special === 'fail' && (shard === 0 || rng.chance(0.3))) fate = { kind: 'fail' };
      else if (special === 'hang' && shard === 0) fate = { kind: 'hang' };
      else fate = { kind: 'succeed', failFirst: t.retries > 0 && rng.chance(0.25) ? rng.range(1, t.retries) : 0 };
      return { minMs, maxMs, fate };
    };
  });
  const key = rng.chance(0.8) ? `key-${n}` : null;
  return { name, shape, raw, spec, tasks, key, ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }) };
}

/** How a task's attempts go: their length bounds, fate and exit codes. */
export type TaskPlanning = Pick<PlannedTask, 'minMs' | 'maxMs' | 'fate' | 'exits'>;

/**
 * A job's flat task list (specs in order, a spec's shards consecutive, as the state machine
 * numbers them) with each task's dependencies as flat indices; `behaviour` is asked once per spec
 * and the function it returns once per shard, in order.
 */
export function planTasks(spec: JobSpec, behaviour: (t: TaskSpec) => (shard: number) => TaskPlanning): PlannedTask[] {
  const first = new Map<string, number>();
  let flat = 0;
  for (const t of spec.tasks) {
    first.set(t.name, flat);
    flat += t.shards ?? 1;
  }
  const tasks: PlannedTask[] = [];
  for (const t of spec.tasks) {
    const deps: number[] = [];
    for (const d of t.deps) {
      const start = known(first.get(d), 'a dep names an earlier spec');
      const count = spec.tasks.find((x) => x.name === d)?.shards ?? 1;
      for (let k = 0; k < count; k++) deps.push(start + k);
    }
    const perShard = behaviour(t);
    for (let shard = 0; shard < (t.shards ?? 1); shard++) {
      tasks.push({
        name: taskName(t.name, t.shards === null ? null : shard),
        index: tasks.length,
        deps,
        handler: t.exec.kind === 'handler' ? t.exec.name : null,
        retries: t.retries,
        backoffMs: t.backoffMs,
        timeoutMs: t.timeoutMs,
        slots: t.slots,
        trigger: t.trigger ?? DEFAULT_TRIGGER,
        ...(t.on === undefined ? {} : { on: t.on }),
        ...(t.pool === undefined ? {} : { pool: t.pool }),
        ...perShard(shard),
      });
    }
  }
  return tasks;
}

function drawShape(rng: SeededRng): { shape: string; specs: SpecDraft[] } {
  const specs: SpecDraft[] = [];
  const add = (name: string, deps: string[] = [], shards: number | null = null): string => {
    specs.push({ name, deps, shards });
    return name;
  };
  switch (rng.int(6)) {
    case 0: {
      let prev: string | null = null;
      const n = rng.range(2, 7);
      for (let i = 0; i < n; i++) prev = add(`step${i}`, prev === null ? [] : [prev]);
      return { shape: 'chain', specs };
    }
    case 1: {
      const src = add('split');
      const n = rng.range(2, 6);
      const mids: string[] = [];
      for (let i = 0; i < n; i++) mids.push(add(`work${i}`, [src]));
      add('join', mids);
      return { shape: 'fan', specs };
    }
    case 2: {
      const e = add('extract');
      const t = add('transform', [e], rng.range(2, 6));
      add('load', [t]);
      if (rng.chance(0.5)) add('report', [t], rng.range(1, 3));
      return { shape: 'shards', specs };
    }
    case 3: {
      const a = add('a');
      const b = add('b', [a]);
      const c = add('c', [a]);
      add('d', [b, c]);
      return { shape: 'diamond', specs };
    }
    case 4: {
      const n = rng.range(1, 5);
      for (let i = 0; i < n; i++) add(`solo${i}`, [], rng.chance(0.2) ? rng.range(2, 4) : null);
      return { shape: 'independent', specs };
    }
    default: {
      const layers = rng.range(2, 4);
      const all: string[][] = [];
      for (let l = 0; l < layers; l++) {
        const names: string[] = [];
        const width = rng.range(1, 3);
        for (let i = 0; i < width; i++) {
          const earlier = all.flat();
          const deps = earlier.filter(() => rng.chance(0.4));
          if (l > 0 && deps.length === 0) deps.push(rng.pick(at(all, l - 1, 'an earlier layer')));
          names.push(add(`l${l}t${i}`, deps, rng.chance(0.15) ? rng.range(2, 3) : null));
        }
        all.push(names);
      }
      return { shape: 'layers', specs };
    }
  }
}

/**
 * Everything a job's tasks could cost one after the other, in the worst case of their fates (ms);
 * `overheadMs` is added per attempt (getting it claimed and its result committed).
 */
export function worstCaseWork(job: PlannedJob, overheadMs = 0): number {
  let sum = 0;
  for (const t of job.tasks) sum += attemptsCost(t, overheadMs) * t.slots;
  return sum;
}

/** The longest chain of dependent tasks, each at its worst (ms), with `overheadMs` per attempt. */
export function criticalPath(job: PlannedJob, overheadMs = 0): number {
  const finish: number[] = [];
  let best = 0;
  for (const t of job.tasks) {
    let start = 0;
    for (const d of t.deps) start = Math.max(start, finish[d] ?? 0);
    finish[t.index] = start + attemptsCost(t, overheadMs);
    best = Math.max(best, at(finish, t.index, 'a task'));
  }
  return best;
}

/** Every attempt at its longest, plus the backoffs between them. */
function attemptsCost(t: PlannedTask, overheadMs: number): number {
  const attempts = t.retries + 1;
  const each = (t.fate.kind === 'hang' ? t.timeoutMs : t.maxMs) + overheadMs;
  let backoff = 0;
  for (let r = 0; r < t.retries; r++) backoff += Math.min(t.backoffMs * 2 ** r, 300_000);
  return attempts * each + backoff;
}
