// Following a job until it ends (submit --wait, demo), and showing its progress: on a terminal a
// bar with counts per state and the elapsed time, redrawn in place; otherwise a plain line
// whenever the counts change (what pipes, logs and tests read).
import type { JobProgress, JobState, JobSummary, TaskState } from '../scheduler/types.js';
import { httpStatus, type ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';

const POLL_MS = 500;
/** A node that stays unreachable this long while following: give up with exit code 3. */
const UNREACHABLE_MS = 30_000;
const REDRAW_MS = 200;

export interface ProgressSink {
  update(job: JobSummary, elapsedMs: number): void;
  /** A line to say once, above the progress: why tasks wait with no node to run them. */
  note?(line: string): void;
  /** The job ended (or following stopped): the last state, then the sink lets go of the terminal. */
  done(job: JobSummary | null, elapsedMs: number): void;
}

/** Stops following early (a demo's Ctrl-C): follow() then rejects with FollowAborted. */
export class FollowAborted extends Error {
  override readonly name = 'FollowAborted';
}

/**
 * Polls GET /v1/jobs/{id}/summary (the summary and the stuck specs: small whatever the job's size,
 * docs/http-api.md §6) until the job is no longer running. The client moves on to another node
 * when the one it asks dies; a node that does not hold the job yet (404 from a node other than the
 * one that last showed it: it is behind) is waited for like an unreachable one. Unreachable for
 * UNREACHABLE_MS -> exit 3.
 */
export async function follow(client: ApiClient, id: string, sink: ProgressSink, signal?: AbortSignal): Promise<JobSummary> {
  const started = Date.now();
  let unreachableSince: number | null = null;
  let last: JobSummary | null = null;
  let shownBy: string = client.base;
  const said = new Set<string>();
  try {
    for (;;) {
      if (signal?.aborted) throw new FollowAborted('stopped following the job');
      let job: JobProgress;
      try {
        job = await client.get<JobProgress>(`/v1/jobs/${encodeURIComponent(id)}/summary`);
        unreachableSince = null;
        shownBy = client.base;
      } catch (err) {
        const behind = httpStatus(err) === 404 && client.base !== shownBy;
        if (!behind && (!(err instanceof CliError) || err.exitCode !== EXIT.unreachable)) throw err;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > UNREACHABLE_MS) throw err;
        await sleep(POLL_MS, signal);
        continue;
      }
      last = job;
      if (job.state !== 'running') return job;
      for (const line of stuckLines(job)) {
        if (said.has(line)) continue;
        said.add(line);
        sink.note?.(line);
      }
      sink.update(job, Date.now() - started);
      await sleep(POLL_MS, signal);
    }
  } finally {
    sink.done(last, Date.now() - started);
  }
}

/**
 * Why tasks of the job wait with nobody to run them (the `stuck` specs of GET /v1/jobs/{id}/summary):
 * one line per reason, naming the first such task and how many more.
 */
export function stuckLines(job: Pick<JobProgress, 'stuck'>): string[] {
  const byReason = new Map<string, { first: string; count: number }>();
  for (const s of job.stuck) {
    const seen = byReason.get(s.reason);
    if (seen === undefined) byReason.set(s.reason, { first: s.first, count: s.ready });
    else seen.count += s.ready;
  }
  return [...byReason].map(([reason, { first, count }]) => `waiting: ${first}${count > 1 ? ` and ${count - 1} more` : ''}: ${reason}`);
}

const ORDER: readonly TaskState[] = ['succeeded', 'running', 'ready', 'waiting', 'failed', 'skipped'];

export function totalTasks(counts: Readonly<Record<TaskState, number>>): number {
  return ORDER.reduce((n, s) => n + counts[s], 0);
}

/** `3 succeeded, 2 running, 1 failed`; with a `cancelled` count (status splits skipped tasks by why), that too. */
export function countsText(counts: Readonly<Record<TaskState, number>> & { readonly cancelled?: number }): string {
  const parts = ORDER.filter((s) => counts[s] > 0 || s === 'succeeded').map((s) => `${counts[s]} ${s}`);
  if ((counts.cancelled ?? 0) > 0) parts.push(`${counts.cancelled} cancelled`);
  return parts.join(', ');
}

/** The plain progress line: `running   3/8  3 succeeded, 2 running, 3 waiting  (4.2s)`. */
export function progressLine(state: JobState, counts: Readonly<Record<TaskState, number>>, elapsedMs: number): string {
  return `${state.padEnd(9)} ${counts.succeeded}/${totalTasks(counts)}  ${countsText(counts)}  (${(elapsedMs / 1000).toFixed(1)}s)`;
}

/** One line per change of state or counts (the elapsed time alone is no change). */
export function plainProgress(out: (s: string) => void): ProgressSink {
  let last = '';
  const show = (job: JobSummary, elapsedMs: number): void => {
    const key = `${job.state} ${countsText(job.counts)}`;
    if (key !== last) out(`${progressLine(job.state, job.counts, elapsedMs)}\n`);
    last = key;
  };
  return { update: show, note: (line) => out(`${line}\n`), done: (job, elapsedMs) => job && show(job, elapsedMs) };
}

/**
 * The bar: `running   [#########xx---------]  9/20  9 succeeded, 2 failed, 9 waiting  12.3s`, redrawn
 * in place. The number is the succeeded tasks of all, as on the plain line; `x` marks failed and
 * skipped ones.
 */
export function barLine(state: JobState, counts: Readonly<Record<TaskState, number>>, elapsedMs: number, columns: number): string {
  const total = totalTasks(counts);
  const width = 24;
  const ok = total === 0 ? 0 : Math.round((counts.succeeded / total) * width);
  const bad = total === 0 ? 0 : Math.min(width - ok, Math.round(((counts.failed + counts.skipped) / total) * width));
  const bar = `${'#'.repeat(ok)}${'x'.repeat(bad)}${'-'.repeat(width - ok - bad)}`;
  const line = `${state.padEnd(9)} [${bar}] ${counts.succeeded}/${total}  ${countsText(counts)}  ${(elapsedMs / 1000).toFixed(1)}s`;
  return line.length >= columns ? line.slice(0, Math.max(10, columns - 1)) : line;
}

/** The terminal sink: redraws one line (carriage return, erase line) every REDRAW_MS and on each poll. */
export function barProgress(out: (s: string) => void, columns: () => number): ProgressSink {
  let job: JobSummary | null = null;
  let started = Date.now();
  const draw = (): void => {
    if (job) out(`\r\x1b[2K${barLine(job.state, job.counts, Date.now() - started, columns())}`);
  };
  const timer = setInterval(draw, REDRAW_MS);
  timer.unref();
  return {
    update(j, elapsedMs) {
      job = j;
      started = Date.now() - elapsedMs;
      draw();
    },
    note(line) {
      out(`\r\x1b[2K${line}\n`);
      draw();
    },
    done(j, elapsedMs) {
      clearInterval(timer);
      if (j) job = j;
      started = Date.now() - elapsedMs;
      draw();
      if (job) out('\n');
    },
  };
}

/** The sink for stdout: the bar on a terminal (or MESHRUN_PROGRESS=bar), plain lines otherwise (or MESHRUN_PROGRESS=plain). */
export function progressFor(
  out: (s: string) => void,
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): ProgressSink {
  const mode = env['MESHRUN_PROGRESS'];
  // isTTY is typed boolean but is undefined on a pipe or a file.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
  const bar = mode === 'bar' || (mode !== 'plain' && stream.isTTY === true);
  return bar ? barProgress(out, () => stream.columns || 100) : plainProgress(out);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
