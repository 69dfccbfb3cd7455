// Read-only views of the scheduler's state (docs/http-api.md §6): what the API, the worker, the
// claim policy and the simulator's checkers read. Built on demand from the task columns; a job's
// full view is O(its tasks), everything else is small.
import { at } from '../invariant.js';
import { Job, NONE, NO_EXIT, T, TASK_STATE_NAMES } from './job.js';
import type { ReadyQueue } from './ready-queue.js';
import { TimerKind } from './timers.js';
import { taskName } from './task-names.js';
import type { JobSummary, JobView, ReadyTask, TaskLaunch, TaskState, TaskView } from './types.js';

function orNull(v: number): number | null {
  return v === NONE ? null : v;
}

function countsOf(job: Job): Record<TaskState, number> {
  const c = job.counts;
  return {
    waiting: at(c, T.waiting, 'a state code'),
    ready: at(c, T.ready, 'a state code'),
    running: at(c, T.running, 'a state code'),
    succeeded: at(c, T.succeeded, 'a state code'),
    failed: at(c, T.failed, 'a state code'),
    skipped: at(c, T.skipped, 'a state code'),
  };
}

export function jobSummary(job: Job): JobSummary {
  return {
    id: job.id,
    name: job.spec.name,
    state: job.state,
    submittedAt: job.submittedAt,
    finishedAt: job.finishedAt,
    counts: countsOf(job),
  };
}

export function taskView(job: Job, task: number): TaskView {
  const tails = job.tails.get(task);
  const timer = job.timers.get(task);
  const exit = at(job.exitCode, task, 'a task');
  return {
    state: at(TASK_STATE_NAMES, at(job.tState, task, 'a task'), 'a state code'),
    attempt: at(job.attempt, task, 'a task'),
    node: job.holderName(task),
    fence: orNull(at(job.fence, task, 'a task')),
    exitCode: exit === NO_EXIT ? null : exit,
    startedAt: orNull(at(job.startedAt, task, 'a task')),
    finishedAt: orNull(at(job.finishedAtCol, task, 'a task')),
    durationMs: orNull(at(job.durationMs, task, 'a task')),
    retryAt: timer !== undefined && timer.kind === TimerKind.retry ? timer.deadline : null,
    stdout: tails?.stdout ?? '',
    stderr: tails?.stderr ?? '',
    reason: job.reasonText(task),
  };
}

/** `GET /v1/jobs/{id}`: tasks keyed by full name (`transform[3]`), in task order. */
export function buildJobView(job: Job): JobView {
  const entries = new Array<[string, TaskView]>(job.size);
  const specs = job.spec.tasks;
  for (let s = 0; s < specs.length; s++) {
    const ts = at(specs, s, 'a spec');
    const start = at(job.specStart, s, 'a spec (specStart)');
    const end = at(job.specStart, s + 1, 'a spec (specStart)');
    for (let t = start; t < end; t++) entries[t] = [taskName(ts.name, ts.shards === null ? null : t - start), taskView(job, t)];
  }
  // fromEntries defines own properties, so a task called `__proto__` is an ordinary key.
  return { ...jobSummary(job), specs: specs.map((t) => ({ name: t.name, deps: t.deps, shards: t.shards })), tasks: Object.fromEntries(entries) };
}

/** What a worker needs to run `task` (which is running). */
export function launchOf(job: Job, task: number): TaskLaunch {
  const spec = job.specOf(task);
  const ts = at(job.spec.tasks, spec, 'a spec');
  const shard = job.shardOf(task, spec);
  return {
    job: job.id,
    task,
    jobName: job.spec.name,
    name: taskName(ts.name, shard),
    exec: ts.exec,
    attempt: at(job.attempt, task, 'a task'),
    fence: at(job.fence, task, 'a task'),
    timeoutMs: ts.timeoutMs,
    env: ts.env,
    cwd: ts.cwd,
    shard,
    shards: ts.shards,
    slots: ts.slots,
    hasDependents: at(job.dependentOffsets, spec + 1, 'a spec (offsets)') > at(job.dependentOffsets, spec, 'a spec (offsets)'),
  };
}

/** Ready tasks in claim order, built one at a time as the caller reads them. */
export function* readyTasks(queue: ReadyQueue): Generator<ReadyTask> {
  for (const { range, task } of queue.tasks()) {
    const ts = at(range.job.spec.tasks, range.spec, 'a spec');
    yield { job: range.job.id, task, priority: ts.priority, readyAt: range.readyAt, slots: ts.slots, handler: Job.handlerOf(ts) };
  }
}
