// A big DAG's submit in parts (docs/architecture.md §3, issue 16): each `submit-part` entry carries
// the job's header and a slice of its tasks, and the state machine stages them here, where no
// reader looks (not in the job list, the views, the ready queue nor the claims), until the last
// part applies and the job appears whole, in that one entry.
//
// Each part does all the work its slice allows, so that the last step stays small whatever the
// job's size: the per-task checks (checkJobPart), the name index, every dep on an earlier task
// resolved to its position, and whether each spec is `settled` (all its deps are earlier and
// settled, so it can be on no cycle). The last part resolves the deps on later tasks (none in a
// file written in dependency order), looks for cycles among the unsettled specs only, and hands
// the job its dependency rows ready-made (Job's `graph`).
//
// A staged submit holds nothing a reader sees, but it is replicated state: it is in the snapshot
// (snapshot-codec.ts), for a replica restored from a snapshot taken between two parts must
// create the job when the last part applies, as the others do.
import { sizeProblem } from './dag-graph.js';
import { graphError, taskTotalProblem, type JobHeader } from './dag-check.js';
import type { JobGraph } from './job.js';
import { Problems } from './problems.js';
import type { JobId, JobSpec, Ms, TaskSpec } from './types.js';

/** Deps of one spec compared pairwise below this count (cheaper than a set). */
const PAIRWISE_DEPS = 16;

export type StagedResult =
  { readonly ok: true; readonly spec: JobSpec; readonly graph: JobGraph } | { readonly ok: false; readonly error: string };

export class StagedSubmit {
  /** Parts applied so far: the next one expected is numbered this. */
  received = 0;
  readonly tasks: TaskSpec[] = [];
  private readonly index = new Map<string, number>();
  /** Dependency rows by position: depTargets[depOffsets[i] .. depOffsets[i+1]); -1 until a later task's position is known. */
  private readonly depOffsets: number[] = [0];
  private readonly depTargets: number[] = [];
  /** Flat (spec, edge) pairs of deps on tasks not staged when their spec was. */
  private readonly forward: number[] = [];
  /** Per spec: 1 when all its deps are earlier and settled (it can be on no cycle). */
  private readonly settled: number[] = [];
  private taskTotal = 0;
  /**
   * A name used twice, a self or repeated dep: the submit goes on staging, and the last part
   * answers checkJobSpec's error for the whole DAG (graphError), word for word.
   */
  private broken = false;

  constructor(
    readonly id: JobId,
    readonly key: string | null,
    readonly parts: number,
    readonly header: JobHeader,
    /** Scheduler time of the latest part applied: the submit expires STAGING_LIMITS.idleMs after it. */
    public lastAt: Ms,
  ) {}

  get specs(): number {
    return this.tasks.length;
  }

  /** Stages one part's checked tasks; an error (a size limit) means the submit must be dropped. */
  add(tasks: readonly TaskSpec[]): string | null {
    const size = sizeProblem(this.tasks.length + tasks.length, this.depTargets.length);
    if (size !== null) return whole(size);
    for (const t of tasks) this.addTask(t);
    const deps = sizeProblem(0, this.depTargets.length);
    if (deps !== null) return whole(deps);
    const total = taskTotalProblem(this.taskTotal);
    return total === null ? null : whole(total);
  }

  private addTask(t: TaskSpec): void {
    const i = this.tasks.length;
    this.tasks.push(t);
    this.taskTotal += t.shards ?? 1;
    if (this.index.has(t.name)) this.broken = true;
    else this.index.set(t.name, i);
    if (repeats(t.deps)) this.broken = true;
    let settled = 1;
    for (const d of t.deps) {
      const j = this.index.get(d);
      if (j === i) this.broken = true;
      if (j === undefined || j === i) {
        this.forward.push(i, this.depTargets.length);
        this.depTargets.push(-1);
        settled = 0;
        continue;
      }
      this.depTargets.push(j);
      if (this.settled[j] === 0) settled = 0;
    }
    this.settled.push(settled);
    this.depOffsets.push(this.depTargets.length);
  }

  /** After the last part: the whole job's spec and graph, or the error checkJobSpec gives for the same DAG. */
  finish(): StagedResult {
    const spec: JobSpec = { ...this.header, tasks: this.tasks };
    for (let k = 0; k < this.forward.length; k += 2) {
      const i = this.forward[k] as number;
      const edge = this.forward[k + 1] as number;
      const d = (this.tasks[i] as TaskSpec).deps[edge - (this.depOffsets[i] as number)] as string;
      const j = this.index.get(d);
      if (j === undefined) this.broken = true;
      else this.depTargets[edge] = j;
    }
    if (this.broken || this.hasCycle()) return { ok: false, error: graphError(this.tasks) ?? 'invalid job spec: its graph is broken' };
    return { ok: true, spec, graph: { depOffsets: Int32Array.from(this.depOffsets), depTargets: Int32Array.from(this.depTargets) } };
  }

  /** Kahn's algorithm over the unsettled specs only: a cycle can hold no settled spec. */
  private hasCycle(): boolean {
    const unsettled: number[] = [];
    for (let i = 0; i < this.settled.length; i++) if (this.settled[i] === 0) unsettled.push(i);
    if (unsettled.length === 0) return false;
    const pending = new Map<number, number>();
    const dependents = new Map<number, number[]>();
    for (const i of unsettled) pending.set(i, 0);
    for (const i of unsettled) {
      for (let e = this.depOffsets[i] as number; e < (this.depOffsets[i + 1] as number); e++) {
        const j = this.depTargets[e] as number;
        if (!pending.has(j)) continue;
        pending.set(i, (pending.get(i) as number) + 1);
        const list = dependents.get(j);
        if (list === undefined) dependents.set(j, [i]);
        else list.push(i);
      }
    }
    const free = unsettled.filter((i) => pending.get(i) === 0);
    let done = 0;
    while (free.length > 0) {
      const j = free.pop() as number;
      done++;
      for (const i of dependents.get(j) ?? []) {
        const left = (pending.get(i) as number) - 1;
        pending.set(i, left);
        if (left === 0) free.push(i);
      }
    }
    return done < unsettled.length;
  }
}

/** Whether the part's header (all but its tasks) is the one the first part staged. */
export function sameHeader(a: JobHeader, b: JobHeader): boolean {
  return a.name === b.name && a.retentionMs === b.retentionMs && a.timeoutMs === b.timeoutMs && a.concurrency === b.concurrency;
}

/** The header of a (checked) part's spec. */
export function headerOf(spec: JobSpec): JobHeader {
  return {
    name: spec.name,
    retentionMs: spec.retentionMs,
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    ...(spec.concurrency === undefined ? {} : { concurrency: spec.concurrency }),
  };
}

function repeats(deps: readonly string[]): boolean {
  if (deps.length < 2) return false;
  if (deps.length > PAIRWISE_DEPS) return new Set(deps).size !== deps.length;
  for (let a = 0; a < deps.length; a++) for (let b = a + 1; b < deps.length; b++) if (deps[a] === deps[b]) return true;
  return false;
}

/** A problem of the whole job, worded as checkJobSpec words it. */
function whole(message: string): string {
  const problems = new Problems();
  problems.add(['tasks'], message);
  return `invalid job spec: ${problems.render().join('; ')}`;
}
