// Paged reads of a job (docs/http-api.md §6): the job with its first specs' counts, pages of its
// specs, pages of its tasks and one task by name. None builds an object per task of the job, nor
// one per spec beyond a page: the counts are a loop over the one-byte state column, a page visits
// the tasks from its cursor on (and, with a state filter, skips the others by that byte), so a
// 1,000,000-task job answers in milliseconds. Task and spec order never change for a job, so a
// task or spec name is a stable cursor.
import { Job, R, T, TASK_STATE_NAMES } from './job.js';
import { jobSummary, stateCounts, taskView } from './job-view.js';
import type { Capacity } from './runnable.js';
import { parseTaskName, taskName } from './task-names.js';
import type {
  JobDetail,
  JobProgress,
  SpecPage,
  SpecPageResult,
  SpecQuery,
  SpecSummary,
  StuckSpec,
  TaskItem,
  TaskPageResult,
  TaskQuery,
  TaskSpec,
  TaskState,
} from './types.js';

/** Spec name to spec index, per job spec (built on the first named read, dropped with the job). */
const specIndexes = new WeakMap<Job['spec'], ReadonlyMap<string, number>>();

function specIndex(job: Job): ReadonlyMap<string, number> {
  let index = specIndexes.get(job.spec);
  if (index === undefined) {
    index = new Map(job.spec.tasks.map((t, s) => [t.name, s]));
    specIndexes.set(job.spec, index);
  }
  return index;
}

/** The position of the task called `name` in the job's task list, or null when the job has none. */
export function taskPosition(job: Job, name: string): number | null {
  const parsed = parseTaskName(name);
  if (parsed === null) return null;
  const s = specIndex(job).get(parsed.spec);
  if (s === undefined) return null;
  const shards = (job.spec.tasks[s] as TaskSpec).shards;
  if (shards === null) return parsed.shard === null ? (job.specStart[s] as number) : null;
  if (parsed.shard === null || parsed.shard >= shards) return null;
  return (job.specStart[s] as number) + parsed.shard;
}

function specCounts(job: Job, s: number): { counts: Record<TaskState, number>; cancelled: number } {
  const c = [0, 0, 0, 0, 0, 0];
  let cancelled = 0;
  const end = job.specStart[s + 1] as number;
  for (let t = job.specStart[s] as number; t < end; t++) {
    const st = job.tState[t] as number;
    (c[st] as number)++;
    if (st === T.skipped && job.reason[t] === R.cancelled) cancelled++;
  }
  const counts = stateCounts(c);
  return { counts, cancelled };
}

/** Specs per page: the job's answer carries the first page; a spec page asks for 1 to the maximum. */
export const DEFAULT_SPEC_PAGE = 500;
export const MAX_SPEC_PAGE = 5000;

/** Spec `s` as a page lists it: its shape, its counts and why its ready tasks are stuck. */
function specSummary(job: Job, s: number, stuckOf: Stuck): SpecSummary {
  const ts = job.spec.tasks[s] as TaskSpec;
  const { counts, cancelled } = specCounts(job, s);
  const stuck = counts.ready > 0 ? stuckOf.whyNot(ts) : null;
  return { name: ts.name, deps: ts.deps, shards: ts.shards, counts, cancelled, stuck };
}

/** The job's tasks its cancel stopped or never ran: a scan of the reason column only when some task is skipped. */
function cancelledTasks(job: Job): number {
  if ((job.counts[T.skipped] as number) === 0) return 0;
  let n = 0;
  for (let t = 0; t < job.size; t++) if (job.tState[t] === T.skipped && job.reason[t] === R.cancelled) n++;
  return n;
}

/**
 * `GET /v1/jobs/{id}`: the summary and the first page of specs. A job of 50,000 distinct specs
 * answered them all (3.3 MB, 50-200 ms of the node's loop); the rest now come from spec pages.
 */
export function jobDetail(job: Job, capacity: Stuck): JobDetail {
  const { specs, next } = specRange(job, 0, DEFAULT_SPEC_PAGE, -1, memoized(capacity));
  return { ...jobSummary(job), specCount: job.spec.tasks.length, cancelled: cancelledTasks(job), specs, specsNext: next };
}

/**
 * `GET /v1/jobs/{id}/specs`: the specs matching `query`, in DAG order, after its cursor: at most
 * `limit`, and `next` set only when another matching spec follows.
 */
export function specPage(job: Job, query: SpecQuery, capacity: Stuck): SpecPageResult {
  let start = 0;
  if (query.after !== undefined) {
    const s = specIndex(job).get(query.after);
    if (s === undefined) return { ok: false, error: `after: job ${job.id} has no spec ${JSON.stringify(query.after)}` };
    start = s + 1;
  }
  const code = query.state === undefined ? -1 : TASK_STATE_NAMES.indexOf(query.state);
  return { ok: true, page: specRange(job, start, query.limit, code, memoized(capacity)) };
}

/** Up to `limit` specs from `start` with a task in state `code` (-1: any), and the cursor when another follows. */
function specRange(job: Job, start: number, limit: number, code: number, stuckOf: Stuck): SpecPage {
  const end = job.spec.tasks.length;
  const matches = (s: number): boolean => code < 0 || specHas(job, s, code);
  const specs: SpecSummary[] = [];
  let s = start;
  for (; s < end && specs.length < limit; s++) if (matches(s)) specs.push(specSummary(job, s, stuckOf));
  while (s < end && !matches(s)) s++;
  const last = specs.at(-1);
  return { specs, next: s < end && last !== undefined ? last.name : null };
}

/** Whether spec `s` has a task in state `code`: stops at the first. */
function specHas(job: Job, s: number, code: number): boolean {
  const end = job.specStart[s + 1] as number;
  for (let t = job.specStart[s] as number; t < end; t++) if (job.tState[t] === code) return true;
  return false;
}

/** The summary and the specs whose ready tasks no live node can run: only those specs' tasks are visited. */
export function jobProgress(job: Job, capacity: Stuck): JobProgress {
  const stuckOf = memoized(capacity);
  const stuck: StuckSpec[] = [];
  if ((job.counts[T.ready] as number) > 0) {
    job.spec.tasks.forEach((ts, s) => {
      const reason = stuckOf.whyNot(ts);
      if (reason === null) return;
      let first = -1;
      let ready = 0;
      const end = job.specStart[s + 1] as number;
      for (let t = job.specStart[s] as number; t < end; t++) {
        if (job.tState[t] !== T.ready) continue;
        if (first < 0) first = t;
        ready++;
      }
      if (ready > 0) stuck.push({ spec: ts.name, first: job.taskName(first), ready, reason });
    });
  }
  return { ...jobSummary(job), stuck };
}

/** What a read asks of the live nodes: why a spec's ready tasks cannot run. */
type Stuck = Pick<Capacity, 'whyNot'>;

/**
 * Asks `capacity` once per handler and slot count (all it depends on): a page of 5,000 ready shards,
 * or 20,000 specs of one handler, ask once.
 */
function memoized(capacity: Stuck): Stuck {
  const seen = new Map<string, string | null>();
  return {
    whyNot: (ts) => {
      const key = `${ts.exec.kind === 'handler' ? ts.exec.name : ''}\u0000${ts.slots}`;
      const known = seen.get(key);
      if (known !== undefined) return known;
      const why = capacity.whyNot(ts);
      seen.set(key, why);
      return why;
    },
  };
}

/** The task at `position` as a page lists it; a ready task no live node can run says why. */
export function taskItem(job: Job, position: number, capacity: Stuck): TaskItem {
  const s = job.specOf(position);
  const ts = job.spec.tasks[s] as TaskSpec;
  const stuck = job.tState[position] === T.ready ? capacity.whyNot(ts) : null;
  return {
    name: taskName(ts.name, ts.shards === null ? null : position - (job.specStart[s] as number)),
    ...taskView(job, position, stuck),
  };
}

/**
 * The tasks matching `query`, in task order, after its cursor: at most `limit`, and `next` set only
 * when another matching task follows (so a client never fetches an empty last page).
 */
export function taskPage(job: Job, query: TaskQuery, capacity: Stuck): TaskPageResult {
  const stuck = memoized(capacity);
  let start = 0;
  let end = job.size;
  if (query.spec !== undefined) {
    const s = specIndex(job).get(query.spec);
    if (s === undefined) return { ok: false, error: `job ${job.id} has no spec ${JSON.stringify(query.spec)}` };
    start = job.specStart[s] as number;
    end = job.specStart[s + 1] as number;
  }
  if (query.after !== undefined) {
    const p = taskPosition(job, query.after);
    if (p === null) return { ok: false, error: `after: job ${job.id} has no task ${JSON.stringify(query.after)}` };
    start = Math.max(start, p + 1);
  }
  const code = query.state === undefined ? -1 : TASK_STATE_NAMES.indexOf(query.state);
  const matches = (t: number): boolean => code < 0 || job.tState[t] === code;
  const tasks: TaskItem[] = [];
  let t = start;
  for (; t < end && tasks.length < query.limit; t++) if (matches(t)) tasks.push(taskItem(job, t, stuck));
  while (t < end && !matches(t)) t++;
  const last = tasks.at(-1);
  return { ok: true, page: { tasks, next: t < end && last !== undefined ? last.name : null } };
}
