// `meshrun status JOB --task T` (docs/cli.md §6): one task's attempts, oldest first, as the job's
// view holds them (the last 20, docs/http-api.md §6).
import type { JobSummary, TaskItem } from '../scheduler/types.js';
import { formatMs, table } from './format.js';

/** `t`: GET /v1/jobs/{id}/tasks/{task}. */
export function formatAttempts(
  job: Pick<JobSummary, 'id' | 'name' | 'submittedAt'>,
  t: TaskItem,
  now: number,
  label: (id: string | null) => string,
): string {
  const header = `job      ${job.id}  ${job.name}\ntask     ${t.name}  ${t.state}${t.reason === null ? '' : ` (${t.reason})`}\n\n`;
  if (t.attempts.length === 0) return `${header}no attempt yet\n`;
  const rows = t.attempts.map((a) => [
    String(a.attempt),
    label(a.node),
    a.startedAt === null ? '-' : `+${formatMs(a.startedAt - job.submittedAt)}`,
    formatMs(a.startedAt === null ? null : (a.finishedAt ?? now) - a.startedAt),
    a.outcome,
    a.exitCode !== null ? String(a.exitCode) : (a.signal ?? '-'),
    a.reason ?? '',
  ]);
  const dropped = (t.attempts[0]?.attempt ?? 1) - 1;
  const note = dropped > 0 ? `(the first ${dropped} attempts are no longer kept)\n` : '';
  return header + table(['attempt', 'node', 'start', 'duration', 'outcome', 'exit', 'reason'], rows) + note;
}
