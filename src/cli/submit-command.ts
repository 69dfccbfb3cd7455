// `meshrun submit FILE [--wait] [--json]`: validates the DAG file here (so a typo is reported with
// its line, before anything is sent), posts it to a node, prints the job id; with --wait it
// follows the job until it ends, on whichever node of the cluster answers, and exits 0 when it
// succeeded, 1 when it failed or was cancelled (listing the failed tasks and why), 130 when
// Ctrl-C stopped the following (the job goes on; docs/cli.md §5).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { DagError, readDagText } from '../dag/parse.js';
import { errorMessage } from '../errors.js';
import type { NodeInfo } from '../api/types.js';
import { didYouMean } from '../scheduler/suggest.js';
import type { JobSpec } from '../scheduler/types.js';
import { ApiClient } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { nodeLabels } from './format.js';
import { getJob, knownNodes } from './job-commands.js';
import { follow, FollowAborted, progressFor, type ProgressSink } from './progress.js';
import { collectTasks, type GetJson } from './task-pages.js';
import { MAX_LISTED, failedTasks, failureReport } from './task-text.js';

/** Failed tasks `submit --wait --json` lists at most (a job can fail a million shards). */
const MAX_FAILED_JSON = 1000;

export interface SubmitOptions {
  readonly wait?: boolean;
  readonly json?: boolean;
  readonly api?: string | readonly string[];
  readonly idempotencyKey?: string;
}

export interface SubmitIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Ctrl-C while following: stops following (tests pass their own). */
  readonly interrupt?: AbortSignal;
}

export async function submitCommand(file: string, opts: SubmitOptions, io: SubmitIo): Promise<ExitCode> {
  const { out, err } = io;
  const client = ApiClient.from(opts.api, err);
  const id = await submitFile(client, file, opts.idempotencyKey);
  if (!opts.wait) {
    out(opts.json ? `${JSON.stringify({ id })}\n` : `${id}\n`);
    return EXIT.ok;
  }
  if (!opts.json) out(`${id}\n`);
  return followToEnd(client, id, opts, io);
}

/**
 * Follows job `id` until it ends, on whichever node answers (submit --wait, rerun --wait): exits 0
 * when it succeeded, 1 otherwise after listing its failed tasks and why, 130 on Ctrl-C.
 */
export async function followToEnd(
  client: ApiClient,
  id: string,
  opts: Pick<SubmitOptions, 'json' | 'api'>,
  io: SubmitIo,
): Promise<ExitCode> {
  const { out, err } = io;
  // The other members' API addresses, while the node that took the job still answers.
  await client.learn();
  const sink: ProgressSink = opts.json
    ? { update: () => undefined, note: (line) => err(`${line}\n`), done: () => undefined }
    : progressFor(out);
  const interrupt = io.interrupt ? { signal: io.interrupt, dispose: () => undefined } : ctrlC();
  let final;
  try {
    final = await follow(client, id, sink, interrupt.signal);
  } catch (e) {
    if (e instanceof FollowAborted) throw interrupted(id, opts.api !== undefined ? client.base : null);
    throw e;
  } finally {
    interrupt.dispose();
  }
  let failed: ReturnType<typeof failedTasks> = [];
  if (final.state !== 'succeeded') {
    // Which tasks failed, and why: the job's spec counts and pages of its failed tasks, once (best
    // effort: the state says enough without them). --json lists up to MAX_FAILED_JSON of them.
    const get: GetJson = (path) => client.get(path);
    const job = await getJob(client, id).catch(() => null);
    const items = await collectTasks(
      get,
      id,
      { state: 'failed', limit: opts.json ? 5000 : MAX_LISTED },
      opts.json ? MAX_FAILED_JSON : MAX_LISTED,
    ).catch(() => null);
    if (job !== null && items !== null) {
      failed = failedTasks(items);
      if (!opts.json) out(failureReport(job, items, nodeLabels(await knownNodes(client))));
    }
  }
  if (opts.json)
    out(`${JSON.stringify({ id, state: final.state, counts: final.counts, ...(final.state === 'succeeded' ? {} : { failed }) })}\n`);
  return final.state === 'succeeded' ? EXIT.ok : EXIT.jobFailed;
}

/** SIGINT (Ctrl-C) while following: abort, rather than die, so the user learns that the job goes on. */
function ctrlC(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.on('SIGINT', onSignal);
  return { signal: ac.signal, dispose: () => process.removeListener('SIGINT', onSignal) };
}

function interrupted(id: string, api: string | null): CliError {
  const where = api !== null ? ` --api ${api}` : '';
  return new CliError(
    `stopped following job ${id} (interrupted); the job keeps running on the cluster: see it with 'meshrun status ${id}${where}', stop it with 'meshrun cancel ${id}${where}'`,
    EXIT.interrupted,
    { id, state: 'running' },
  );
}

/**
 * Reads and validates a DAG file here: its text, spec and structure as read (what the API takes),
 * or a CliError (exit 2) listing every problem with its line.
 */
export async function readDagFile(file: string): Promise<{ readonly text: string; readonly spec: JobSpec; readonly raw: unknown }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${errorMessage(err)}`, EXIT.usage);
  }
  try {
    return { text, ...readDagText(text, file) };
  } catch (err) {
    if (err instanceof DagError)
      throw new CliError(`${file} is not a valid DAG:\n  ${err.problems.join('\n  ')}`, EXIT.usage, { problems: err.problems });
    throw err;
  }
}

/**
 * Every handler the DAG names must be one a live node of the cluster has: a typo (`sleepy`) would
 * otherwise wait forever. Skipped when the cluster does not say (an older node, or no answer).
 */
export function checkHandlers(spec: JobSpec, nodes: readonly NodeInfo[]): void {
  const live = nodes.filter((n) => n.state === 'up');
  if (live.length === 0) return;
  const known = [...new Set(live.flatMap((n) => n.handlers))].sort();
  const problems: string[] = [];
  for (const t of spec.tasks) {
    if (t.exec.kind !== 'handler' || known.includes(t.exec.name)) continue;
    problems.push(
      `task '${t.name}': no node has handler '${t.exec.name}'${didYouMean(t.exec.name, known)}; known: ${known.length === 0 ? 'none' : known.join(', ')}`,
    );
  }
  if (problems.length > 0) throw new CliError(`the cluster cannot run this DAG:\n  ${problems.join('\n  ')}`, EXIT.usage, { problems });
}

/** Posts of one submit, in all, when the cluster answers 503 or not at all (each with the same key). */
const SUBMIT_ATTEMPTS = 3;

/**
 * Reads and validates a DAG file here (problems with their lines, exit 2), then posts it; the job
 * id. Without --idempotency-key the request carries a random key of its own, so that a submit that
 * moves on to another node (the first died before answering), or is posted again after a 503 or no
 * answer (the job may have been committed meanwhile), cannot make the job twice. When it gives up,
 * the error names the key, so that the user can submit again and get that job rather than a second
 * one (a big submit is never lost silently; issue 16).
 */
export async function submitFile(client: ApiClient, file: string, idempotencyKey?: string, retryPauseMs = 1000): Promise<string> {
  // The cluster's handlers are asked for first, so that the answer comes while the file is read
  // (knownNodes never rejects: a file with problems is reported at once, whatever the node does).
  const nodes = knownNodes(client);
  const { spec, raw } = await readDagFile(file);
  checkHandlers(spec, await nodes);
  const key = idempotencyKey ?? `cli-${randomBytes(12).toString('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      // The API takes the DAG file's own structure as JSON (as read above, not read again); it validates it again.
      const { id } = await client.post<{ id: string; existing: boolean }>('/v1/jobs', raw, { 'idempotency-key': key });
      return id;
    } catch (err) {
      if (!(err instanceof CliError) || err.exitCode !== EXIT.unreachable) throw err;
      if (attempt >= SUBMIT_ATTEMPTS) {
        const again = `meshrun submit ${file} --idempotency-key ${key}`;
        throw new CliError(
          `${err.message}\nthe job may still have been accepted: '${again}' returns it if it was, and submits it once if it was not`,
          err.exitCode,
          { ...(isRecord(err.details) ? err.details : {}), idempotencyKey: key },
        );
      }
      await new Promise((r) => setTimeout(r, retryPauseMs));
    }
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
