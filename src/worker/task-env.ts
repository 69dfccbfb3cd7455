// The task environment of docs/task-environment.md §2, a fixed contract: the MESHRUN_* variables every
// attempt sees (and none of the node's own), and where its output is logged
// (<dataDir>/logs/<job>/<task>.<attempt>.log).
import { join } from 'node:path';
import type { TaskLaunch } from '../scheduler/types.js';

/** Job ids the scheduler hands out; checked again here because they become a directory name. */
const JOB_ID = /^[a-z0-9-]+$/;
/** A task name, with `[n]` for a shard; it becomes part of a file name. */
const TASK_NAME = /^[A-Za-z0-9_.-]+(\[\d+\])?$/;

/** The contract's variables for one attempt; they override anything of the same name in the task's `env`. */
export function contractEnv(launch: TaskLaunch, nodeId: string): Record<string, string> {
  const env: Record<string, string> = {
    MESHRUN_JOB: launch.job,
    MESHRUN_TASK: launch.name,
    MESHRUN_ATTEMPT: String(launch.attempt),
    MESHRUN_NODE: nodeId,
    MESHRUN_FENCE: String(launch.fence),
  };
  if (launch.shard !== null && launch.shards !== null) {
    env['MESHRUN_SHARD'] = String(launch.shard);
    env['MESHRUN_SHARDS'] = String(launch.shards);
  }
  // A run of a schedule (docs/schedules.md §5): which schedule, and the tick it runs for in ISO 8601 UTC.
  if (launch.schedule !== undefined && launch.tick !== undefined) {
    env['MESHRUN_SCHEDULE'] = launch.schedule;
    env['MESHRUN_TICK'] = new Date(launch.tick).toISOString();
  }
  return env;
}

/** What a handler sees as its environment: the task's `env` plus the contract's variables. */
export function handlerEnv(launch: TaskLaunch, nodeId: string): Record<string, string> {
  return { ...launch.env, ...contractEnv(launch, nodeId) };
}

/** The prefix of meshrun's own variables: the contract's, and the node's (MESHRUN_TOKEN, MESHRUN_LOG_*). */
const OWN_PREFIX = 'MESHRUN_';

/**
 * The environment of a `run` task's shell: the node's own without its MESHRUN_* variables, the
 * task's `env`, then the contract's variables. A task is code from whoever submitted the DAG: it
 * must not read the node's API token, nor inherit a shard or job of a node that itself runs inside
 * a task.
 */
export function shellEnv(launch: TaskLaunch, nodeId: string, nodeEnv: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...withoutOwnVariables(nodeEnv), ...launch.env, ...contractEnv(launch, nodeId) };
}

/** `env` without any variable whose name starts with MESHRUN_. */
export function withoutOwnVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith(OWN_PREFIX)));
}

/** The log file of one attempt; throws on a job id or task name that could escape the logs directory. */
export function taskLogPath(dataDir: string, job: string, task: string, attempt: number): string {
  checkedLogName(job, task, attempt);
  return join(dataDir, 'logs', job, `${task}.${attempt}.log`);
}

/** Its arguments, once checked to be safe as a directory name (job) and a file name (task, attempt); throws otherwise. */
export function checkedLogName(job: string, task: string, attempt: number): { job: string; task: string } {
  if (!JOB_ID.test(job)) throw new Error(`job id ${JSON.stringify(job)} is not a valid log directory name`);
  if (!TASK_NAME.test(task)) throw new Error(`task name ${JSON.stringify(task)} is not a valid log file name`);
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new Error(`attempt ${attempt} is not a positive integer`);
  return { job, task };
}
