// What a benchmark says when its job did not succeed (issue 16: scale-real once ended `failed` at
// load 40 and said nothing more): the job's own reason, its counts, and for the first failed tasks
// (one page of GET /v1/jobs/{id}/tasks?state=failed) the latest reason, exit code, stderr tail and
// every attempt's node, outcome and reason, so the cause (lost leases, a timeout, a crash) is named.
import { errorMessage } from '../src/errors.js';
import type { NodeProcess } from '../test/process/spawn.js';

/** Failed tasks listed in full; the rest are counted. */
const SHOWN = 10;

interface AttemptItem {
  readonly attempt: number;
  readonly node: string | null;
  readonly outcome: string;
  readonly reason: string | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

interface FailedItem {
  readonly name: string;
  readonly reason: string | null;
  readonly exitCode: number | null;
  readonly stderr: string;
  readonly attempts: readonly AttemptItem[];
}

async function getJson(n: NodeProcess, path: string): Promise<unknown> {
  const res = await fetch(`${n.apiUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
  return res.json();
}

function attemptLine(a: AttemptItem): string {
  const took = a.startedAt !== null && a.finishedAt !== null ? ` after ${a.finishedAt - a.startedAt} ms` : '';
  return `#${a.attempt} on ${a.node?.slice(-8) ?? '?'}: ${a.outcome}${a.reason === null ? '' : ` (${a.reason})`}${took}`;
}

/** A multi-line account of why job `id` did not succeed, read from `node`; never throws (a failed read is reported in the text). */
export async function failureReport(node: NodeProcess, id: string): Promise<string> {
  try {
    const job = (await getJson(node, `/v1/jobs/${id}/summary`)) as {
      state: string;
      reason?: string | null;
      counts: Record<string, number>;
    };
    const page = (await getJson(node, `/v1/jobs/${id}/tasks?state=failed&limit=${SHOWN}`)) as { tasks: FailedItem[] };
    const lines = [
      `job ${id} ${job.state}${job.reason ? ` (${job.reason})` : ''}; counts ${JSON.stringify(job.counts)}`,
      ...page.tasks.map(
        (t) =>
          `  ${t.name}: ${t.reason ?? 'no reason'}, exit ${t.exitCode ?? '-'}` +
          `${t.stderr ? `, stderr ${JSON.stringify(t.stderr.slice(-200))}` : ''}; attempts: ${t.attempts.map(attemptLine).join('; ')}`,
      ),
    ];
    const failed = job.counts['failed'] ?? 0;
    if (failed > page.tasks.length) lines.push(`  ... and ${failed - page.tasks.length} more failed tasks`);
    return lines.join('\n');
  } catch (err) {
    return `job ${id}: could not read why it failed (${errorMessage(err)})`;
  }
}
