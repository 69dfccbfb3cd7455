// Re-runs (docs/dag-file.md §13): which tasks of a finished job a `rerun` command puts back to
// waiting. Pure, like the rest of the state machine; Lifecycle.rerun carries the choice out.
//
// The choice is made per task (a failed shard re-runs alone, its succeeded siblings keep their
// results), while "downstream" follows the spec graph: everything downstream of a task is every
// shard of every spec that depends on its spec, directly or not.
import { R, T, type Job } from './job.js';
import { didYouMean } from './suggest.js';
import { parseTaskName } from './task-names.js';
import type { RerunCommand, RerunRefusal } from './types.js';

export type RerunChoice =
  | { readonly ok: true; readonly marked: Uint8Array; readonly count: number }
  | { readonly ok: false; readonly why: RerunRefusal; readonly error: string };

/** Skip reasons that say the task never got its chance: a failure upstream, a cancel, the job's timeout. */
const SKIPPED_FOR_FAILURE: ReadonlySet<number> = new Set([R.upstream, R.cancelled, R.jobTimeout]);

/** The tasks `cmd` re-runs in `job` (a mark per task), or why none. The caller checked the job has ended. */
export function chooseRerun(job: Job, cmd: RerunCommand): RerunChoice {
  const marked = new Uint8Array(job.size);
  if (cmd.failed) markFailed(job, marked);
  const named = markNamed(job, cmd.tasks, marked);
  if (typeof named === 'string') return { ok: false, why: 'unknown-task', error: named };
  if (cmd.downstream) markAllDownstream(job, named, marked);
  let count = 0;
  for (let t = 0; t < job.size; t++) count += marked[t] as number;
  if (count > 0) return { ok: true, marked, count };
  const what = cmd.failed ? 'no task failed or was skipped for a failure' : 'no task was named';
  return { ok: false, why: 'nothing', error: `nothing to re-run in job ${job.id}: ${what}` };
}

/** Every task that failed or was skipped before its chance, then every skipped task downstream of those. */
function markFailed(job: Job, marked: Uint8Array): void {
  const seeds = new Set<number>();
  for (let t = 0; t < job.size; t++) {
    const st = job.tState[t];
    if (st === T.failed || (st === T.skipped && SKIPPED_FOR_FAILURE.has(job.reason[t] as number))) {
      marked[t] = 1;
      seeds.add(job.specOf(t));
    }
  }
  for (const spec of downstreamOf(job, seeds)) {
    for (let t = job.specStart[spec] as number; t < (job.specStart[spec + 1] as number); t++) {
      if (job.tState[t] === T.skipped) marked[t] = 1;
    }
  }
}

/** Marks the named specs (every shard) and shards; returns the specs named, or the error naming the unknown name. */
function markNamed(job: Job, names: readonly string[], marked: Uint8Array): Set<number> | string {
  const specs = new Set<number>();
  const index = new Map(job.spec.tasks.map((t, i) => [t.name, i]));
  for (const name of names) {
    const parsed = parseTaskName(name);
    const spec = parsed === null ? undefined : index.get(parsed.spec);
    if (parsed === null || spec === undefined) {
      return `job ${job.id} has no task ${JSON.stringify(name)}${didYouMean(name, index.keys())}`;
    }
    const start = job.specStart[spec] as number;
    const size = job.specSize(spec);
    const sharded = job.spec.tasks[spec]?.shards !== null;
    if (parsed.shard === null) {
      marked.fill(1, start, start + size);
    } else if (!sharded || parsed.shard >= size) {
      const has = sharded ? `shards ${parsed.spec}[0] to ${parsed.spec}[${size - 1}]` : 'no shards';
      return `job ${job.id} has no task ${JSON.stringify(name)}: ${parsed.spec} has ${has}`;
    } else {
      marked[start + parsed.shard] = 1;
    }
    specs.add(spec);
  }
  return specs;
}

function markAllDownstream(job: Job, from: ReadonlySet<number>, marked: Uint8Array): void {
  for (const spec of downstreamOf(job, from)) marked.fill(1, job.specStart[spec], job.specStart[spec + 1]);
}

/** The specs that depend on any of `from`, directly or not (not `from` themselves unless one depends on another). */
export function downstreamOf(job: Job, from: ReadonlySet<number>): Set<number> {
  const seen = new Set<number>();
  const work = [...from];
  for (let spec = work.pop(); spec !== undefined; spec = work.pop()) {
    const end = job.dependentOffsets[spec + 1] as number;
    for (let k = job.dependentOffsets[spec] as number; k < end; k++) {
      const d = job.dependentTargets[k] as number;
      if (seen.has(d)) continue;
      seen.add(d);
      work.push(d);
    }
  }
  return seen;
}
