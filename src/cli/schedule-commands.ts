// `meshrun schedule add FILE | ls | show NAME | pause NAME | resume NAME | trigger NAME | rm NAME`
// (docs/cli.md §17): a schedule file is validated here, its `dag:` path read relative to it, and the
// schedule posted with the DAG inside; the other commands read or change a schedule through the
// API. Exit codes as the rest: 2 for an invalid file or an unknown schedule, 3 for no cluster.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ScheduleInfo } from '../api/types.js';
import { errorMessage } from '../errors.js';
import { ScheduleError, parseScheduleText } from '../schedule/file.js';
import { ApiClient, httpStatus } from './client.js';
import { CliError, EXIT } from './errors.js';
import { json, table } from './format.js';
import type { ClientOptions } from './job-commands.js';
import { readDagFile } from './submit-command.js';

type Out = (s: string) => void;

const schedulePath = (name: string): string => `/v1/schedules/${encodeURIComponent(name)}`;

/** Reads a schedule file and the DAG file it names; the body POST /v1/schedules takes, or a CliError (exit 2) listing every problem. */
export async function readScheduleFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${errorMessage(err)}`, EXIT.usage);
  }
  // Read before parsing (readDagFile is async; the parser asks for the DAG synchronously).
  const raw: unknown = (() => {
    try {
      return parseYaml(text) as unknown;
    } catch {
      return undefined;
    }
  })();
  const dagPath =
    raw !== null && typeof raw === 'object' && typeof (raw as Record<string, unknown>)['dag'] === 'string'
      ? ((raw as Record<string, unknown>)['dag'] as string)
      : null;
  const dag = dagPath === null ? null : await readDagFile(resolve(dirname(file), dagPath)).catch((err: unknown) => err);
  try {
    return parseScheduleText(text, file, () => {
      if (dag === null) throw new Error('no DAG file');
      if (dag instanceof Error) throw dag;
      const d = dag as Awaited<ReturnType<typeof readDagFile>>;
      return { raw: d.raw, spec: d.spec };
    }).raw;
  } catch (err) {
    if (err instanceof ScheduleError)
      throw new CliError(`${file} is not a valid schedule:\n  ${err.problems.join('\n  ')}`, EXIT.usage, { problems: err.problems });
    throw err;
  }
}

export async function scheduleAddCommand(file: string, opts: ClientOptions, out: Out, err: Out): Promise<void> {
  const body = await readScheduleFile(file);
  const client = ApiClient.from(opts.api, err);
  const info = await client.post<ScheduleInfo>('/v1/schedules', body);
  out(opts.json ? json(info) : `schedule ${info.name}: next tick ${when(info.nextAt)}\n`);
}

export async function scheduleListCommand(opts: ClientOptions, out: Out, err: Out): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const { schedules } = await client.get<{ schedules: ScheduleInfo[] }>('/v1/schedules');
  out(opts.json ? json({ schedules }) : formatSchedules(schedules));
}

export async function scheduleShowCommand(name: string, opts: ClientOptions, out: Out, err: Out): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const info = await known(client, name, () => client.get<ScheduleInfo>(schedulePath(name)));
  out(opts.json ? json(info) : formatSchedule(info));
}

export async function scheduleActionCommand(
  action: 'pause' | 'resume' | 'trigger',
  name: string,
  opts: ClientOptions,
  out: Out,
  err: Out,
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const info = await known(client, name, () => client.post<ScheduleInfo & { job?: string | null }>(`${schedulePath(name)}/${action}`, {}));
  if (opts.json) out(json(info));
  else if (action === 'trigger') out(`schedule ${name}: started job ${info.job ?? '?'}\n`);
  else out(`schedule ${name}: ${info.paused ? 'paused' : `resumed, next tick ${when(info.nextAt)}`}\n`);
}

export async function scheduleRemoveCommand(name: string, opts: ClientOptions, out: Out, err: Out): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  let r: { name: string; deleted: boolean };
  try {
    r = await client.delete<{ name: string; deleted: boolean }>(schedulePath(name));
  } catch (e) {
    // A node that died after taking the delete, and the next one has no such schedule: that was us.
    if (httpStatus(e) === 404 && client.failovers > 0) r = { name, deleted: true };
    else if (httpStatus(e) === 404) throw notFound(client.base, name);
    else throw e;
  }
  out(opts.json ? json(r) : `schedule ${r.name}: removed\n`);
}

async function known<T>(client: ApiClient, name: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (httpStatus(e) === 404) throw notFound(client.base, name);
    throw e;
  }
}

function notFound(base: string, name: string): CliError {
  return new CliError(`no schedule ${name} at ${base} (list them with 'meshrun schedule ls')`, EXIT.usage);
}

function when(at: number | null): string {
  return at === null ? '-' : new Date(at).toISOString().replace('T', ' ').slice(0, 19) + ' utc';
}

function cadence(s: ScheduleInfo): string {
  return s.cron !== undefined ? `cron ${s.cron}${s.timezone === 'UTC' ? '' : ` (${s.timezone})`}` : `every ${s.every ?? '?'}`;
}

export function formatSchedules(list: readonly ScheduleInfo[]): string {
  if (list.length === 0) return 'no schedules\n';
  const rows = list.map((s) => [
    s.name,
    cadence(s),
    s.paused ? 'paused' : 'active',
    when(s.nextAt),
    s.overlap,
    s.catchup,
    s.runs[0]?.job ?? '-',
    s.runs[0]?.state ?? '-',
  ]);
  return table(['name', 'cadence', 'state', 'next tick', 'overlap', 'catchup', 'last run', 'its state'], rows);
}

export function formatSchedule(s: ScheduleInfo): string {
  const params = Object.entries(s.params);
  const head =
    `schedule  ${s.name}\n` +
    `cadence   ${cadence(s)}\n` +
    `state     ${s.paused ? 'paused' : 'active'}   next tick ${when(s.nextAt)}\n` +
    `policies  overlap ${s.overlap}, catchup ${s.catchup}\n` +
    `ticks     ${s.fired} fired, ${s.skipped} skipped, ${s.missed} missed\n` +
    (params.length === 0 ? '' : `params    ${params.map(([k, v]) => `${k}=${v}`).join(' ')}\n`) +
    '\n';
  if (s.runs.length === 0) return `${head}no runs yet\n`;
  const rows = s.runs.map((r) => [when(r.tick), r.job, r.state ?? 'removed', r.triggered ? 'trigger' : '']);
  return head + table(['tick', 'job', 'state', ''], rows);
}
