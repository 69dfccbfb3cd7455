// The client commands about jobs: `status JOB [--task T]`, `jobs`, `cancel JOB`, `logs JOB TASK`, `output JOB TASK`. Each reads
// the HTTP API (--api or MESHRUN_API, one URL or several), prints a table or, with --json, the
// API's answer. An unknown job is invalid input (exit 2), an unreachable cluster exit 3, naming the URL.
import type { NodeInfo } from '../api/types.js';
import { TASK_STATE_NAMES as TASK_STATES } from '../scheduler/job.js';
import { didYouMean } from '../scheduler/suggest.js';
import type { JobDetail, JobSummary, TaskItem, TaskState, TaskView } from '../scheduler/types.js';
import { formatAttempts } from './attempts-text.js';
import { ApiClient, httpStatus } from './client.js';
import { CliError, EXIT } from './errors.js';
import { formatMs, json, nodeLabels, table } from './format.js';
import { countsText, totalTasks } from './progress.js';
import { collectSpecs, collectTasks, type GetJson } from './task-pages.js';
import { exitText, shownCounts, shownState } from './task-text.js';

export interface ClientOptions {
  readonly json?: boolean;
  readonly api?: string | readonly string[];
}

export interface StatusOptions extends ClientOptions {
  /** Show this task's attempts instead of the table of tasks. */
  readonly task?: string;
  /** List every task in this state instead of the first ones. */
  readonly state?: string;
}

export const jobPath = (id: string): string => `/v1/jobs/${encodeURIComponent(id)}`;
/** Rows of the spec table and of the task table when no --state is given: a glance, not a dump. */
const STATUS_ROWS = 50;
/** Tasks `status --state` lists at most (pages of 5,000). */
const MAX_STATE_ROWS = 10_000;

/** GET /v1/jobs/{id} (the summary and the first specs with their counts), with a 404 said plainly. */
export async function getJob(client: ApiClient, id: string): Promise<JobDetail> {
  try {
    return await client.get<JobDetail>(jobPath(id));
  } catch (err) {
    if (httpStatus(err) === 404) throw notFound(client.base, id);
    throw err;
  }
}

/**
 * The job with every spec, its answer's first page followed by GET /v1/jobs/{id}/specs pages (what
 * `status --json` prints: a job has at most 50,000 specs, a few MB of JSON).
 */
export async function withEverySpec(get: GetJson, job: JobDetail): Promise<JobDetail> {
  if (job.specsNext === null) return job;
  const rest = await collectSpecs(get, job.id, job.specsNext);
  return { ...job, specs: [...job.specs, ...rest], specsNext: null };
}

/** GET /v1/jobs/{id}/tasks/{task}; an unknown task is a usage error naming some of the job's tasks. */
export async function getTask(client: ApiClient, id: string, task: string): Promise<TaskItem> {
  try {
    return await client.get<TaskItem>(`${jobPath(id)}/tasks/${encodeURIComponent(task)}`);
  } catch (err) {
    const status = httpStatus(err);
    if (status !== 404 && status !== 400) throw err;
    throw noTask(await getJob(client, id), task);
  }
}

/** The first task names of the job, from its specs (a sharded spec's first shards): at most `max`. */
function someTaskNames(job: JobDetail, max: number): string[] {
  const names: string[] = [];
  for (const s of job.specs) {
    for (let i = 0; i < (s.shards ?? 1) && names.length < max; i++) names.push(s.shards === null ? s.name : `${s.name}[${i}]`);
    if (names.length >= max) break;
  }
  return names;
}

function noTask(job: JobDetail, task: string): CliError {
  const total = totalTasks(job.counts);
  const names = someTaskNames(job, 12);
  const hint = didYouMean(
    task.replace(/\[\d+\]$/, ''),
    job.specs.map((s) => s.name),
  );
  const shown = names.join(', ') + (total > names.length ? `, ... (${total} in all)` : '');
  return new CliError(
    `job ${job.id} has no task ${JSON.stringify(task)}${hint}; its tasks: ${shown} (a shard is named like name[3])`,
    EXIT.usage,
  );
}

function notFound(base: string, id: string): CliError {
  return new CliError(
    `no job ${id} at ${base} (check the id with 'meshrun jobs'; finished jobs are removed after their retention period)`,
    EXIT.usage,
  );
}

/** The nodes the cluster knows, for their names; empty when the node does not say (an older node, or an error). */
export async function knownNodes(client: ApiClient): Promise<NodeInfo[]> {
  try {
    return (await client.get<{ nodes: NodeInfo[] }>('/v1/nodes')).nodes;
  } catch {
    return [];
  }
}

function stateOption(state: string | undefined): TaskState | undefined {
  if (state === undefined) return undefined;
  if ((TASK_STATES as readonly string[]).includes(state)) return state as TaskState;
  throw new CliError(`--state must be one of ${TASK_STATES.join(', ')}; got ${JSON.stringify(state)}`, EXIT.usage);
}

export async function statusCommand(
  id: string,
  opts: StatusOptions,
  out: (s: string) => void,
  err: (s: string) => void = () => undefined,
  now = Date.now(),
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const state = stateOption(opts.state);
  const job = await getJob(client, id);
  if (opts.task !== undefined) {
    // Checked first, so an unknown task is an error with --json too.
    const t = await getTask(client, id, opts.task);
    out(opts.json ? json(t.attempts) : formatAttempts(job, t, now, nodeLabels(await knownNodes(client))));
    return;
  }
  const get: GetJson = (path) => client.get(path);
  const tasks =
    state === undefined
      ? await collectTasks(get, id, { limit: STATUS_ROWS }, STATUS_ROWS)
      : await collectTasks(get, id, { state, limit: 5000 }, MAX_STATE_ROWS);
  if (opts.json) {
    out(json(state === undefined ? await withEverySpec(get, job) : { tasks }));
    return;
  }
  out(formatStatus(job, tasks, now, nodeLabels(await knownNodes(client)), state));
}

/**
 * The header, the spec table (for a job with shards or more tasks than the task table shows) and the
 * task table of `tasks` (the first ones, or those in `state`), saying how many more there are.
 */
export function formatStatus(
  job: JobDetail,
  tasks: readonly TaskItem[],
  now: number,
  label: (id: string | null) => string = nodeLabels([]),
  state?: TaskState,
): string {
  const elapsed = (job.finishedAt ?? now) - job.submittedAt;
  const total = totalTasks(job.counts);
  let text =
    `job      ${job.id}  ${job.name}\n` +
    `state    ${job.state}   ${job.counts.succeeded}/${total} succeeded   ${countsText(shownCounts(job))}\n` +
    `elapsed  ${formatMs(elapsed)}${job.finishedAt === null ? '' : ' (ended)'}\n` +
    (job.reason ? `reason   ${job.reason}\n` : '') +
    '\n';
  if (job.specs.some((s) => s.shards !== null) || total > STATUS_ROWS) text += `${formatSpecs(job)}\n`;
  const rows = tasks.map((t) => [
    t.name,
    shownState(t),
    label(t.node),
    t.attempt === 0 ? '-' : String(t.attempt),
    formatMs(taskDuration(t, now)),
    exitText(t),
    note(t, now),
  ]);
  text += table(['task', 'state', 'node', 'attempt', 'duration', 'exit', 'note'], rows);
  const more = (state === undefined ? total : job.counts[state]) - tasks.length;
  if (more > 0)
    text += `... and ${more} more task${more === 1 ? '' : 's'}${state === undefined ? '' : ` ${state}`} (meshrun status ${job.id} --state STATE lists those in one state)\n`;
  return text;
}

/** One row per spec (the first STATUS_ROWS): its tasks by state, and why its ready tasks wait when nobody can run them. */
function formatSpecs(job: JobDetail): string {
  const rows = job.specs
    .slice(0, STATUS_ROWS)
    .map((s) => [
      s.name,
      String(totalTasks(s.counts)),
      String(s.counts.succeeded),
      String(s.counts.running),
      String(s.counts.ready),
      String(s.counts.waiting),
      String(s.counts.failed),
      String(s.counts.skipped - s.cancelled),
      String(s.cancelled),
      s.stuck ?? '',
    ]);
  const extra = job.specCount - rows.length;
  return (
    table(['spec', 'tasks', 'succeeded', 'running', 'ready', 'waiting', 'failed', 'skipped', 'cancelled', 'note'], rows) +
    (extra > 0 ? `... and ${extra} more specs (meshrun status ${job.id} --json lists them all)\n` : '')
  );
}

function taskDuration(t: TaskView, now: number): number | null {
  if (t.durationMs !== null) return t.durationMs;
  if (t.startedAt === null) return null;
  return (t.finishedAt ?? (t.state === 'running' ? now : null) ?? t.startedAt) - t.startedAt;
}

function note(t: TaskView, now: number): string {
  if (t.retryAt !== null && t.state !== 'succeeded') return `retry in ${formatMs(t.retryAt - now)}${t.reason ? ` (${t.reason})` : ''}`;
  // The state says it already.
  if (shownState(t) === 'cancelled') return '';
  return t.reason ?? '';
}

export async function jobsCommand(
  opts: ClientOptions,
  out: (s: string) => void,
  err: (s: string) => void = () => undefined,
  now = Date.now(),
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const { jobs } = await client.get<{ jobs: JobSummary[] }>('/v1/jobs');
  out(opts.json ? json({ jobs }) : formatJobs(jobs, now));
}

export function formatJobs(jobs: readonly JobSummary[], now: number): string {
  if (jobs.length === 0) return 'no jobs\n';
  const rows = [...jobs]
    .sort((a, b) => a.submittedAt - b.submittedAt)
    .map((j) => [
      j.id,
      j.name,
      j.state,
      `${j.counts.succeeded}/${totalTasks(j.counts)}`,
      String(j.counts.running),
      String(j.counts.failed),
      String(j.counts.skipped),
      new Date(j.submittedAt).toISOString().replace('T', ' ').slice(0, 19),
      formatMs((j.finishedAt ?? now) - j.submittedAt),
    ]);
  return table(['id', 'name', 'state', 'done', 'running', 'failed', 'skipped', 'submitted (utc)', 'elapsed'], rows);
}

export async function cancelCommand(
  id: string,
  opts: ClientOptions,
  out: (s: string) => void,
  err: (s: string) => void = () => undefined,
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  let r: { id: string; state: string };
  try {
    r = await client.post<{ id: string; state: string }>(`${jobPath(id)}/cancel`, {});
  } catch (e) {
    if (httpStatus(e) === 404) throw notFound(client.base, id);
    // A node that died after taking the cancel, and the next one finds the job cancelled: that was us.
    if (httpStatus(e) === 409 && client.failovers > 0) {
      const job = await getJob(client, id);
      if (job.state !== 'cancelled') throw e;
      r = { id, state: job.state };
    } else {
      throw e;
    }
  }
  out(opts.json ? json(r) : `job ${r.id}: ${r.state}\n`);
}

/**
 * A succeeded task's output (docs/task-environment.md §7), raw: exactly the bytes it handed on, no
 * newline added, so that `meshrun output JOB TASK > file` reproduces them. A task that has not
 * succeeded has none to give: exit 2, saying its state.
 */
export async function outputCommand(
  id: string,
  task: string,
  opts: ClientOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const t = await getTask(client, id, task);
  if (t.state !== 'succeeded')
    throw new CliError(`task ${task} of job ${id} is ${t.state}: only a task that succeeded hands on an output`, EXIT.usage);
  const output = t.output ?? '';
  out(opts.json ? json({ job: id, task, output: t.output ?? null }) : output);
}

export interface LogsOptions extends ClientOptions {
  readonly attempt?: string;
}

/**
 * GET /v1/jobs/{id}/tasks/{task}/log[?attempt=N]: the attempt's whole log (stdout and stderr as
 * written). A node without that endpoint: the last 4 KiB of stdout and stderr kept in the job.
 */
export async function logsCommand(
  id: string,
  task: string,
  opts: LogsOptions,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  let attempt: number | undefined;
  if (opts.attempt !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(opts.attempt))
      throw new CliError(`--attempt must be a positive integer, got ${JSON.stringify(opts.attempt)}`, EXIT.usage);
    attempt = Number(opts.attempt);
  }
  const t = await getTask(client, id, task);
  if (t.attempt === 0) throw new CliError(`task ${task} of job ${id} has not started yet (${t.state}): no log`, EXIT.usage);
  if (attempt !== undefined && attempt > t.attempt)
    throw new CliError(`task ${task} of job ${id} has had ${t.attempt} attempt(s); there is no attempt ${attempt}`, EXIT.usage);
  let which = attempt ?? t.attempt;
  let ranOn = attempt === undefined || attempt === t.attempt ? t.node : null;
  const path = `${jobPath(id)}/tasks/${encodeURIComponent(task)}/log${attempt !== undefined ? `?attempt=${attempt}` : ''}`;
  const r = await client.getText(path);
  // The node that served the log says which attempt it is and where it ran.
  const servedAttempt = Number(r.headers.get('x-meshrun-attempt'));
  if (Number.isSafeInteger(servedAttempt) && servedAttempt > 0) which = servedAttempt;
  ranOn = r.headers.get('x-meshrun-node') ?? ranOn;
  const log = r.text;
  if (opts.json) out(json({ job: id, task, attempt: which, node: ranOn, log }));
  else out(log.length === 0 || log.endsWith('\n') ? log : `${log}\n`);
}
