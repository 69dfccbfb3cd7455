// Attempt history (docs/http-api.md §6): how each earlier attempt of a task ended. The task
// columns of job.ts hold the latest attempt only, which is all a task that ran once needs; so an
// attempt is written here only when it ends without success (failed, timed out, lost with its
// lease or its node, cancelled): rare, and what a user looks for; or when a re-run puts a task
// that succeeded back to waiting, so that its success outlives the columns. The view puts the latest attempt,
// from the columns, after them. At most MAX_ATTEMPTS_KEPT per task, the oldest dropped first.
import type { Reader, Writer } from '../codec/binary.js';
import type { NodeId } from '../raft/types.js';
import type { AttemptView, Ms } from './types.js';

export const MAX_ATTEMPTS_KEPT = 20;

/** How an attempt ended without success, as stored (one byte in snapshots). */
export const END = {
  failed: 0,
  timeout: 1,
  leaseLost: 2,
  nodeRestarted: 3,
  cancelled: 4,
  noReport: 5,
  jobTimeout: 6,
  /** A success a re-run (reruns.ts) moved here from the task's columns, which the next attempt takes. */
  succeeded: 7,
} as const;
export type AttemptEnd = (typeof END)[keyof typeof END];
const MAX_END = 7;

const END_TEXT: Readonly<Record<AttemptEnd, Pick<AttemptView, 'outcome' | 'reason'>>> = {
  [END.failed]: { outcome: 'failed', reason: null },
  [END.timeout]: { outcome: 'timeout', reason: 'timeout' },
  [END.leaseLost]: { outcome: 'lost', reason: 'lease expired' },
  [END.nodeRestarted]: { outcome: 'failed', reason: 'holder restarted' },
  [END.cancelled]: { outcome: 'cancelled', reason: 'cancelled' },
  [END.noReport]: { outcome: 'timeout', reason: 'timeout: no result from its node' },
  [END.jobTimeout]: { outcome: 'timeout', reason: 'job timeout' },
  [END.succeeded]: { outcome: 'succeeded', reason: null },
};

export interface AttemptRec {
  readonly attempt: number;
  /** Index into the job's nodeNames. */
  readonly holder: number;
  readonly startedAt: Ms;
  readonly finishedAt: Ms;
  /** null when there was none (a handler, a signal, or no result reached the log). */
  readonly exitCode: number | null;
  /** The signal that killed the process, from the executor's note in its stderr; null otherwise. */
  readonly signal: string | null;
  readonly end: AttemptEnd;
}

/** The executor ends the stderr of a process killed by a signal with this note (src/worker/executor.ts). */
const SIGNAL_NOTE = /^meshrun: killed by (SIG[A-Z0-9]{1,12})$/gm;

export function signalIn(stderr: string): string | null {
  let found: string | null = null;
  for (const m of stderr.matchAll(SIGNAL_NOTE)) found = m[1] ?? null;
  return found;
}

/** Appends `rec` to the task's history, dropping the oldest beyond the bound. */
export function keepAttempt(history: Map<number, AttemptRec[]>, task: number, rec: AttemptRec): void {
  let list = history.get(task);
  if (list === undefined) history.set(task, (list = []));
  list.push(rec);
  if (list.length > MAX_ATTEMPTS_KEPT) list.shift();
}

export function attemptView(rec: AttemptRec, node: NodeId | null): AttemptView {
  return {
    attempt: rec.attempt,
    node,
    startedAt: rec.startedAt,
    finishedAt: rec.finishedAt,
    exitCode: rec.exitCode,
    signal: rec.signal,
    ...END_TEXT[rec.end],
  };
}

// --- snapshots (snapshot-codec.ts, format 3) -----------------------------------------------------

/** Every task's history, by task index, in the canonical order. */
export function writeHistory(
  w: Writer,
  history: ReadonlyMap<number, readonly AttemptRec[]>,
  writeTime: (v: Ms) => void,
  writeNum: (v: number) => void,
): void {
  const tasks = [...history.keys()].sort((a, b) => a - b);
  w.varint(tasks.length, 'history tasks');
  for (const task of tasks) {
    const list = history.get(task) ?? [];
    w.varint(task, 'history task');
    w.varint(list.length, 'attempts kept');
    for (const r of list) {
      w.varint(r.attempt, 'attempt');
      w.varint(r.holder, 'attempt holder');
      writeTime(r.startedAt);
      writeTime(r.finishedAt);
      w.bool(r.exitCode !== null);
      if (r.exitCode !== null) writeNum(r.exitCode);
      w.bool(r.signal !== null);
      if (r.signal !== null) w.string(r.signal);
      w.u8(r.end);
    }
  }
}

/** Reads what writeHistory wrote for a job of `size` tasks and `holders` node names; `fail` throws. */
export function readHistory(
  r: Reader,
  size: number,
  holders: number,
  readTime: (field: string) => Ms,
  readNum: (field: string) => number,
  fail: (problem: string) => never,
): Map<number, AttemptRec[]> {
  const history = new Map<number, AttemptRec[]>();
  const count = r.count('history tasks', 2);
  let last = -1;
  for (let i = 0; i < count; i++) {
    const task = r.varint('history task');
    if (task <= last || task >= size) fail(`attempt history of task ${task} is out of order or range`);
    last = task;
    const n = r.count('attempts kept', 6);
    if (n === 0 || n > MAX_ATTEMPTS_KEPT) fail(`${n} attempts kept for task ${task} (1 to ${MAX_ATTEMPTS_KEPT})`);
    const list: AttemptRec[] = [];
    for (let k = 0; k < n; k++) {
      const attempt = r.varint('attempt');
      const holder = r.varint('attempt holder');
      if (holder >= holders) fail(`attempt holder ${holder} out of range`);
      const startedAt = readTime('attempt startedAt');
      const finishedAt = readTime('attempt finishedAt');
      const exitCode = r.bool('exit flag') ? readNum('attempt exitCode') : null;
      const signal = r.bool('signal flag') ? r.string('signal', 16) : null;
      const end = r.u8('attempt end');
      if (end > MAX_END) fail(`bad attempt end ${end}`);
      list.push({ attempt, holder, startedAt, finishedAt, exitCode, signal, end: end as AttemptEnd });
    }
    history.set(task, list);
  }
  return history;
}
