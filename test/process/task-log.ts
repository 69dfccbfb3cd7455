// The shared log the partition tests' shell tasks append to, and the checks run on it against the
// committed job. Each run of a task writes a start line when it begins and an end line just before
// it exits 0; a run killed on the way (its holder lost its lease) has no end line. One short line
// per `>>` write: appends to a regular file are atomic, so the file's line order is the real order
// of the writes, and the timestamps (all processes share the machine's clock) agree with it.
import { existsSync, readFileSync } from 'node:fs';
import type { JobView } from '../../src/scheduler/types.js';

export interface LogLine {
  readonly kind: 'start' | 'end';
  readonly task: string;
  readonly attempt: number;
  /** MESHRUN_FENCE: the log index of the claim this run executes. */
  readonly fence: number;
  readonly node: string;
  /** Wall clock, microseconds since the epoch (`date +%s%6N`). */
  readonly us: number;
  /** Position in the file. */
  readonly line: number;
}

/** A shell task: a start line, `sleep`, an end line; the log file comes from $TASK_LOG. */
export function taskScript(sleepSeconds: number): string {
  const line = (kind: string): string =>
    `echo "${kind} $MESHRUN_TASK $MESHRUN_ATTEMPT $MESHRUN_FENCE $MESHRUN_NODE $(date +%s%6N)" >> "$TASK_LOG"`;
  return `${line('start')}; sleep ${sleepSeconds}; ${line('end')}`;
}

export function readTaskLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l, line) => {
      const m = /^(start|end) (\S+) (\d+) (\d+) (\S+) (\d+)$/.exec(l);
      if (!m) throw new Error(`task log line ${line + 1} is malformed: ${JSON.stringify(l)}`);
      return {
        kind: m[1] as 'start' | 'end',
        task: m[2] as string,
        attempt: Number(m[3]),
        fence: Number(m[4]),
        node: m[5] as string,
        us: Number(m[6]),
        line,
      };
    });
}

export interface LogVerdict {
  /** Every broken rule, one sentence each; empty when the log and the job agree. */
  readonly violations: string[];
  /** Tasks that were started more than once (claimed again after a lost lease). */
  readonly rerun: string[];
}

const show = (l: LogLine | undefined): string =>
  l ? `${l.kind} attempt ${l.attempt} fence ${l.fence} on ${l.node.slice(-8)} (line ${l.line + 1})` : 'none';

/**
 * Checks the log against the job as committed (GET /v1/jobs/{id} once it succeeded):
 * - every task has exactly one committed result: it succeeded, with the attempt, fence and node of
 *   a run that started and ended in the log; that attempt is the highest one started, and its end
 *   line is the task's last end line (a stale run's result cannot be the one that counts);
 * - each attempt (claim) ran at most once, and later runs of a task carry higher attempts and
 *   strictly higher fences; a run that ended did so before the next attempt started (no overlap);
 * - no run of a task started before every dependency's committed run had ended (file order and
 *   timestamps both).
 */
export function checkTaskLog(lines: readonly LogLine[], job: JobView, depsOf: (task: string) => readonly string[]): LogVerdict {
  const violations: string[] = [];
  const byTask = new Map<string, LogLine[]>();
  for (const l of lines) {
    if (job.tasks[l.task] === undefined) violations.push(`the log names a task the job does not have: ${l.task}`);
    byTask.set(l.task, [...(byTask.get(l.task) ?? []), l]);
  }
  const committedEnd = new Map<string, LogLine>();
  const rerun: string[] = [];
  for (const [name, t] of Object.entries(job.tasks)) {
    const mine = byTask.get(name) ?? [];
    const starts = mine.filter((l) => l.kind === 'start');
    const ends = mine.filter((l) => l.kind === 'end');
    if (t.state !== 'succeeded') violations.push(`${name} is ${t.state}, not succeeded`);
    if (starts.length > 1) rerun.push(name);
    const same = (l: LogLine): boolean => l.attempt === t.attempt && l.fence === t.fence && l.node === t.node;
    const end = ends.find(same);
    if (!starts.some(same) || end === undefined) {
      violations.push(
        `${name}: the committed attempt ${t.attempt} (fence ${String(t.fence)}, node ${String(t.node)}) has no start and end lines; runs: ${mine.map(show).join(', ')}`,
      );
      continue;
    }
    committedEnd.set(name, end);
    if (ends[ends.length - 1] !== end)
      violations.push(`${name}: the last run to end is ${show(ends[ends.length - 1])}, not the committed ${show(end)}`);
    const maxAttempt = Math.max(...starts.map((s) => s.attempt));
    if (maxAttempt !== t.attempt) violations.push(`${name}: attempt ${maxAttempt} started, but attempt ${t.attempt} is committed`);
    for (let i = 1; i < starts.length; i++) {
      const [a, b] = [starts[i - 1] as LogLine, starts[i] as LogLine];
      if (!(b.attempt > a.attempt && b.fence > a.fence))
        violations.push(`${name}: ${show(b)} started after ${show(a)} without a higher attempt and fence`);
    }
    for (const e of ends) {
      const later = starts.find((s) => s.attempt > e.attempt && s.line < e.line);
      if (later) violations.push(`${name}: ${show(e)} ended after ${show(later)} had started (two runs overlapped)`);
    }
  }
  for (const s of lines) {
    if (s.kind !== 'start') continue;
    for (const d of depsOf(s.task)) {
      const e = committedEnd.get(d);
      if (e === undefined) continue; // reported above
      if (!(e.line < s.line && e.us < s.us)) violations.push(`${s.task}: ${show(s)} began before its dependency ${d} ended (${show(e)})`);
    }
  }
  return { violations, rerun };
}
