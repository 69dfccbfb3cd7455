// Read-only views of the scheduler's state (docs/http-api.md §6): what the API, the worker, the
// claim policy and the simulator's checkers read. Built on demand from the task columns; a job's
// full view is O(its tasks), everything else is small.
import { MAX_ATTEMPTS_KEPT, attemptView, signalIn } from './attempts.js';
import { Job, NONE, NO_EXIT, T, TASK_STATE_NAMES } from './job.js';
import type { ReadyQueue, ReadyRange } from './ready-queue.js';
import type { Capacity } from './runnable.js';
import { TimerKind } from './timers.js';
import { taskName } from './task-names.js';
import type { AttemptView, JobSummary, JobView, ReadyTask, TaskLaunch, TaskSpec, TaskState, TaskView } from './types.js';

function orNull(v: number): number | null {
  return v === NONE ? null : v;
}

function countsOf(job: Job): Record<TaskState, number> {
  return stateCounts(job.counts);
}

/** Tasks per state, by name, from a count per state code (indexed by T). */
export function stateCounts(c: ArrayLike<number>): Record<TaskState, number> {
  return {
    waiting: c[T.waiting] ?? 0,
    ready: c[T.ready] ?? 0,
    running: c[T.running] ?? 0,
    succeeded: c[T.succeeded] ?? 0,
    failed: c[T.failed] ?? 0,
    skipped: c[T.skipped] ?? 0,
  };
}

export function jobSummary(job: Job): JobSummary {
  const summary: JobSummary = {
    id: job.id,
    name: job.spec.name,
    state: job.state,
    submittedAt: job.submittedAt,
    finishedAt: job.finishedAt,
    reason: job.timedOut ? `job timeout: still running after ${(job.spec.timeoutMs ?? 0) / 1000}s` : null,
    counts: countsOf(job),
  };
  return job.origin === null ? summary : { ...summary, schedule: job.origin.schedule, tick: job.origin.tick };
}

/** `stuck`: why nobody can take the task, when it is ready and no live node can run it (runnable.ts). */
export function taskView(job: Job, task: number, stuck: string | null = null): TaskView {
  const tails = job.tails.get(task);
  const timer = job.timers.get(task);
  const exit = job.exitCode[task] as number;
  return {
    state: TASK_STATE_NAMES[job.tState[task] as number] as TaskState,
    attempt: job.attempt[task] as number,
    node: job.holderName(task),
    fence: orNull(job.fence[task] as number),
    exitCode: exit === NO_EXIT ? null : exit,
    startedAt: orNull(job.startedAt[task] as number),
    finishedAt: orNull(job.finishedAtCol[task] as number),
    durationMs: orNull(job.durationMs[task] as number),
    retryAt: timer !== undefined && timer.kind === TimerKind.retry ? timer.deadline : null,
    stdout: tails?.stdout ?? '',
    stderr: tails?.stderr ?? '',
    reason: stuck ?? job.reasonText(task),
    output: job.outputs.get(task) ?? null,
    attempts: attemptsOf(job, task, exit === NO_EXIT ? null : exit, tails?.stderr ?? ''),
  };
}

/** The kept attempts that ended without success, then the latest one when it runs or succeeded (attempts.ts). */
function attemptsOf(job: Job, task: number, exitCode: number | null, stderr: string): AttemptView[] {
  const out = (job.history.get(task) ?? []).map((r) => attemptView(r, job.nodeNames[r.holder] ?? null));
  const state = job.tState[task];
  if (state === T.running || state === T.succeeded) {
    const running = state === T.running;
    out.push({
      attempt: job.attempt[task] as number,
      node: job.holderName(task),
      startedAt: orNull(job.startedAt[task] as number),
      finishedAt: running ? null : orNull(job.finishedAtCol[task] as number),
      exitCode: running ? null : exitCode,
      signal: running ? null : signalIn(stderr),
      outcome: running ? 'running' : 'succeeded',
      reason: null,
    });
  }
  return out.length > MAX_ATTEMPTS_KEPT ? out.slice(-MAX_ATTEMPTS_KEPT) : out;
}

/** `GET /v1/jobs/{id}`: tasks keyed by full name (`transform[3]`), in task order; a ready task no live node can run says why. */
export function buildJobView(job: Job, capacity: Capacity): JobView {
  const entries = new Array<[string, TaskView]>(job.size);
  const specs = job.spec.tasks;
  for (let s = 0; s < specs.length; s++) {
    const ts = specs[s] as TaskSpec;
    const start = job.specStart[s] as number;
    const end = job.specStart[s + 1] as number;
    let stuck: string | null | undefined;
    for (let t = start; t < end; t++) {
      if (job.tState[t] === T.ready && stuck === undefined) stuck = capacity.whyNot(ts) ?? concurrencyWait(job);
      entries[t] = [
        taskName(ts.name, ts.shards === null ? null : t - start),
        taskView(job, t, job.tState[t] === T.ready ? (stuck ?? null) : null),
      ];
    }
  }
  // fromEntries defines own properties, so a task called `__proto__` is an ordinary key.
  return {
    ...jobSummary(job),
    specs: specs.map((t) => ({ name: t.name, deps: t.deps, shards: t.shards })),
    tasks: Object.fromEntries(entries),
  };
}

/** Why the job's ready tasks wait when it runs as many as its `concurrency` allows, or null. */
function concurrencyWait(job: Job): string | null {
  const limit = job.spec.concurrency;
  const running = job.counts[T.running] as number;
  return limit !== undefined && running >= limit ? `waiting: job concurrency ${limit} reached (${running} running)` : null;
}

/** What a worker needs to run `task` (which is running). */
export function launchOf(job: Job, task: number): TaskLaunch {
  const spec = job.specOf(task);
  const ts = job.spec.tasks[spec] as TaskSpec;
  const shard = job.shardOf(task, spec);
  return {
    job: job.id,
    task,
    jobName: job.spec.name,
    name: taskName(ts.name, shard),
    exec: ts.exec,
    attempt: job.attempt[task] as number,
    fence: job.fence[task] as number,
    timeoutMs: ts.timeoutMs,
    env: ts.env,
    cwd: ts.cwd,
    shard,
    shards: ts.shards,
    slots: ts.slots,
    hasDependents: (job.dependentOffsets[spec + 1] as number) > (job.dependentOffsets[spec] as number),
    ...(job.origin === null ? {} : { schedule: job.origin.schedule, tick: job.origin.tick }),
  };
}

/** Ready tasks in claim order, built one at a time as the caller reads them. */
export function readyTasks(queue: ReadyQueue): Generator<ReadyTask> {
  return queue.tasks(readyTask);
}

function readyTask(range: ReadyRange, task: number): ReadyTask {
  const ts = range.job.spec.tasks[range.spec] as TaskSpec;
  const base = { job: range.job.id, task, priority: ts.priority, readyAt: range.readyAt, slots: ts.slots, handler: Job.handlerOf(ts) };
  const concurrency = range.job.spec.concurrency;
  // Placement and limits are rare: the common task pays nothing for them.
  if (ts.on === undefined && ts.pool === undefined && concurrency === undefined) return base;
  return {
    ...base,
    ...(ts.on === undefined ? {} : { on: ts.on }),
    ...(ts.pool === undefined ? {} : { pool: ts.pool }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}
