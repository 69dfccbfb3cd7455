// `meshrun submit FILE [--wait] [--json]`: validates the DAG file here (so a typo is reported with
// its line, before anything is sent), posts it to a node, prints the job id; with --wait it
// follows the job until it ends and exits 0 when it succeeded, 1 when it failed or was cancelled.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DagError, parseDagText } from '../dag/parse.js';
import { errorMessage } from '../errors.js';
import type { JobSpec } from '../scheduler/types.js';
import { apiBase, apiPost } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { follow, progressFor, type ProgressSink } from './progress.js';

export interface SubmitOptions {
  readonly wait?: boolean;
  readonly json?: boolean;
  readonly api?: string;
  readonly idempotencyKey?: string;
}

export async function submitCommand(file: string, opts: SubmitOptions, out: (s: string) => void): Promise<ExitCode> {
  const base = apiBase(opts.api);
  const id = await submitFile(base, file, opts.idempotencyKey);
  if (!opts.wait) {
    out(opts.json ? `${JSON.stringify({ id })}\n` : `${id}\n`);
    return EXIT.ok;
  }
  if (!opts.json) out(`${id}\n`);
  const sink: ProgressSink = opts.json ? { update: () => undefined, done: () => undefined } : progressFor(out);
  const final = await follow(base, id, sink);
  if (opts.json) out(`${JSON.stringify({ id, state: final.state, counts: final.counts })}\n`);
  return final.state === 'succeeded' ? EXIT.ok : EXIT.jobFailed;
}

/** Reads and validates a DAG file here: its text and spec, or a CliError (exit 2) listing every problem with its line. */
export async function readDagFile(file: string): Promise<{ readonly text: string; readonly spec: JobSpec }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${errorMessage(err)}`, EXIT.usage);
  }
  try {
    return { text, spec: parseDagText(text, file) };
  } catch (err) {
    if (err instanceof DagError) throw new CliError(`${file} is not a valid DAG:\n  ${err.problems.join('\n  ')}`, EXIT.usage, { problems: err.problems });
    throw err;
  }
}

/** Reads and validates a DAG file here (problems with their lines, exit 2), then posts it; the job id. */
export async function submitFile(base: string, file: string, idempotencyKey?: string): Promise<string> {
  const { text } = await readDagFile(file);
  // The API takes the DAG file's own structure as JSON; it validates it again.
  const body: unknown = parseYaml(text);
  const headers: Record<string, string> = idempotencyKey !== undefined ? { 'idempotency-key': idempotencyKey } : {};
  const { id } = await apiPost<{ id: string; existing: boolean }>(base, '/v1/jobs', body, headers);
  return id;
}
