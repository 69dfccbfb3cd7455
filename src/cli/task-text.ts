// How the CLI tells what became of tasks (docs/cli.md §5 and §6): a task the job's cancel stopped
// or never ran is `cancelled` (the state machine keeps it as `skipped` with the reason
// `cancelled`); a process killed by a signal shows the signal (the executor's `meshrun: killed by
// SIGTERM` note at the end of its stderr: the committed exit code is null then); and the failed
// tasks of a job, with why, for `submit --wait`.
import type { JobDetail, JobSummary, TaskItem, TaskState, TaskView } from '../scheduler/types.js';
import { formatMs, table } from './format.js';

export type ShownState = TaskState | 'cancelled';

export function shownState(t: Pick<TaskView, 'state' | 'reason'>): ShownState {
  return t.state === 'skipped' && t.reason === 'cancelled' ? 'cancelled' : t.state;
}

const SIGNAL_NOTE = /^meshrun: killed by (SIG[A-Z0-9]+)$/gm;

/** The signal that killed the attempt's process, from the executor's note; null when it exited (or for handlers). */
export function signalOf(t: Pick<TaskView, 'exitCode' | 'stderr'>): string | null {
  if (t.exitCode !== null) return null;
  let found: string | null = null;
  for (const m of t.stderr.matchAll(SIGNAL_NOTE)) found = m[1] ?? null;
  return found;
}

/** The exit column: the exit code, the signal, or `-`. */
export function exitText(t: Pick<TaskView, 'exitCode' | 'stderr'>): string {
  return t.exitCode !== null ? String(t.exitCode) : (signalOf(t) ?? '-');
}

/** The job's counts with skipped tasks split: those the cancel skipped (counted by the API) become `cancelled`. */
export function shownCounts(job: Pick<JobDetail, 'counts' | 'cancelled'>): Record<TaskState, number> & { cancelled: number } {
  return { ...job.counts, skipped: job.counts.skipped - job.cancelled, cancelled: job.cancelled };
}

/** The last non-empty line of a text, cut to `max` characters. */
export function lastLine(text: string, max = 100): string {
  const lines = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  const line = lines[lines.length - 1] ?? '';
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/** Why an attempt failed, in a few words: the reason, the signal, then the last line the task wrote (else meshrun's note on it). */
export function failureWhy(t: TaskView): string {
  const parts: string[] = [];
  const reason = t.reason !== null && t.reason !== 'attempt failed' ? t.reason : null;
  if (reason !== null) parts.push(reason);
  const sig = signalOf(t);
  if (sig !== null) parts.push(`killed by ${sig}`);
  // The task's own last words first; meshrun's notes (why it stopped it, could not start it) when
  // it wrote nothing and the reason does not say it already.
  const lines = t.stderr.split('\n');
  const own = lastLine(lines.filter((l) => !l.startsWith('meshrun: ')).join('\n'));
  const noted = lastLine(
    lines
      .filter((l) => l.startsWith('meshrun: ') && !/^meshrun: killed by SIG/.test(l))
      .map((l) => l.slice('meshrun: '.length))
      .join('\n'),
  );
  const out = own !== '' ? own : lastLine(t.stdout);
  if (out !== '') parts.push(out);
  else if (noted !== '' && reason === null) parts.push(noted);
  return parts.join('; ');
}

export interface FailedTask {
  readonly task: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly attempt: number;
  readonly node: string | null;
  readonly reason: string | null;
  readonly why: string;
}

/** The failed tasks among `tasks` (a page of GET /v1/jobs/{id}/tasks?state=failed). */
export function failedTasks(tasks: readonly TaskItem[]): FailedTask[] {
  return tasks
    .filter((t) => t.state === 'failed')
    .map((t) => ({
      task: t.name,
      exitCode: t.exitCode,
      signal: signalOf(t),
      attempt: t.attempt,
      node: t.node,
      reason: t.reason,
      why: failureWhy(t),
    }));
}

/** Failed tasks the failure report lists: the caller reads one page of this many. */
export const MAX_LISTED = 20;

/**
 * What `submit --wait` prints after a job that did not succeed: each failed task (the first 20,
 * `failed`: a page of the failed ones) with its exit code or signal, attempts, node and why, then
 * how many were skipped or cancelled.
 */
export function failureReport(
  job: Pick<JobSummary, 'id' | 'reason' | 'counts'> & Pick<JobDetail, 'cancelled'>,
  failed: readonly TaskItem[],
  label: (id: string | null) => string,
): string {
  const counts = shownCounts(job);
  const total = job.counts.failed;
  let text = job.reason ? `${job.reason}\n` : '';
  if (total > 0) {
    const rows = failed
      .slice(0, MAX_LISTED)
      .map((t) => [
        t.name,
        exitText(t),
        String(t.attempt),
        label(t.node),
        formatMs(t.durationMs ?? (t.startedAt !== null && t.finishedAt !== null ? t.finishedAt - t.startedAt : null)),
        failureWhy(t),
      ]);
    text += `failed: ${total} task${total === 1 ? '' : 's'}\n`;
    text += table(['task', 'exit', 'attempts', 'node', 'duration', 'why'], rows)
      .split('\n')
      .map((l) => (l === '' ? l : `  ${l}`))
      .join('\n');
    const shown = Math.min(failed.length, MAX_LISTED);
    if (total > shown) text += `  ... and ${total - shown} more (meshrun status ${job.id} --state failed)\n`;
  }
  if (counts.skipped > 0)
    text += `skipped: ${counts.skipped} task${counts.skipped === 1 ? '' : 's'} (a task they depend on failed, their trigger rule could not be met, or the job timed out)\n`;
  if (counts.cancelled > 0)
    text += `cancelled: ${counts.cancelled} task${counts.cancelled === 1 ? '' : 's'} stopped or never run when the job was cancelled\n`;
  return text;
}
