// `meshrun submit FILE [--wait] [--json]`: validates the DAG file here (so a typo is reported with
// its line, before anything is sent), posts it to a node, prints the job id; with --wait it
// follows the job until it ends and exits 0 when it succeeded, 1 when it failed or was cancelled.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DagError, parseDagText } from '../scheduler/dag.js';
import type { JobState, JobSummary, TaskState } from '../scheduler/types.js';
import { apiBase, apiGet, apiPost } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';

export interface SubmitOptions {
  readonly wait?: boolean;
  readonly json?: boolean;
  readonly api?: string;
  readonly idempotencyKey?: string;
}

const POLL_MS = 500;
/** A node that stays unreachable this long during --wait: give up with exit code 3. */
const UNREACHABLE_MS = 30_000;

export async function submitCommand(file: string, opts: SubmitOptions, out: (s: string) => void): Promise<ExitCode> {
  const base = apiBase(opts.api);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, EXIT.usage);
  }
  try {
    parseDagText(text, file);
  } catch (err) {
    if (err instanceof DagError) throw new CliError(`${file} is not a valid DAG:\n  ${err.problems.join('\n  ')}`, EXIT.usage);
    throw err;
  }
  // The API takes the DAG file's own structure as JSON; it validates it again.
  const body: unknown = parseYaml(text);
  const headers: Record<string, string> = opts.idempotencyKey !== undefined ? { 'idempotency-key': opts.idempotencyKey } : {};
  const { id } = await apiPost<{ id: string; existing: boolean }>(base, '/v1/jobs', body, headers);
  if (!opts.wait) {
    out(opts.json ? `${JSON.stringify({ id })}\n` : `${id}\n`);
    return EXIT.ok;
  }
  if (!opts.json) out(`${id}\n`);
  const final = await follow(base, id, opts.json ? () => undefined : out);
  if (opts.json) out(`${JSON.stringify({ id, state: final.state, counts: final.counts })}\n`);
  return final.state === 'succeeded' ? EXIT.ok : EXIT.jobFailed;
}

/** Polls the job until it ends, printing a line whenever its counts change. */
async function follow(base: string, id: string, out: (s: string) => void): Promise<JobSummary> {
  const started = Date.now();
  let lastLine = '';
  let unreachableSince: number | null = null;
  for (;;) {
    let job: JobSummary;
    try {
      job = await apiGet<JobSummary>(base, `/v1/jobs/${encodeURIComponent(id)}`);
      unreachableSince = null;
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.unreachable) throw err;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > UNREACHABLE_MS) throw err;
      await sleep(POLL_MS);
      continue;
    }
    const line = progressLine(job.state, job.counts, Date.now() - started);
    if (stripElapsed(line) !== stripElapsed(lastLine)) out(`${line}\n`);
    lastLine = line;
    if (job.state !== 'running') return job;
    await sleep(POLL_MS);
  }
}

const ORDER: readonly TaskState[] = ['succeeded', 'running', 'ready', 'waiting', 'failed', 'skipped'];

export function progressLine(state: JobState, counts: Readonly<Record<TaskState, number>>, elapsedMs: number): string {
  const total = ORDER.reduce((n, s) => n + counts[s], 0);
  const parts = ORDER.filter((s) => counts[s] > 0 || s === 'succeeded').map((s) => `${counts[s]} ${s}`);
  return `${state.padEnd(9)} ${counts.succeeded}/${total}  ${parts.join(', ')}  (${(elapsedMs / 1000).toFixed(1)}s)`;
}

function stripElapsed(line: string): string {
  return line.replace(/\s+\(\d+\.\d+s\)$/, '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
