// A job's task columns as a snapshot in progress reads them (docs/architecture.md §5, Compaction).
// A snapshot of a 1,000,000-task job takes hundreds of ms to encode on a loaded core, so the node
// encodes it in slices between other work while the state machine goes on applying entries. The
// snapshot must still say what the state was when it started: before a task's columns change,
// the job asks its freeze (Job.willChange) to copy the block of tasks around it, once, unless
// the encoder has already written that block. Blocks nothing changed are read from the live
// columns. A snapshot encoded in one go (encodeSnapshot) freezes nothing.
import type { Job, Tails } from './job.js';

/** Tasks per copied block (a power of two): 4,096 tasks are 240 KiB of columns, copied in well under a millisecond. */
export const BLOCK_SHIFT = 12;

/** The columns a snapshot reads for task t at `t - base`, and the output tails by task. */
/** The task columns a snapshot writes: the Job's, by name. */
type ColumnName =
  | 'tState'
  | 'attempt'
  | 'failures'
  | 'holder'
  | 'fence'
  | 'startedAt'
  | 'finishedAtCol'
  | 'exitCode'
  | 'durationMs'
  | 'reason'
  | 'readySeq';

export type TaskCols = Pick<Job, ColumnName> & {
  readonly base: number;
  readonly tails: ReadonlyMap<number, Tails>;
};

/** The job's own columns (base 0). */
export function liveCols(job: Job): TaskCols {
  return {
    base: 0,
    tState: job.tState,
    attempt: job.attempt,
    failures: job.failures,
    holder: job.holder,
    fence: job.fence,
    startedAt: job.startedAt,
    finishedAtCol: job.finishedAtCol,
    exitCode: job.exitCode,
    durationMs: job.durationMs,
    reason: job.reason,
    readySeq: job.readySeq,
    tails: job.tails,
  };
}

function copyBlock(live: TaskCols, block: number, shift: number, size: number): TaskCols {
  const start = block << shift;
  const end = Math.min(size, start + (1 << shift));
  const tails = new Map<number, Tails>();
  for (let t = start; t < end; t++) {
    const tail = live.tails.get(t);
    if (tail !== undefined) tails.set(t, tail);
  }
  return {
    base: start,
    tState: live.tState.slice(start, end),
    attempt: live.attempt.slice(start, end),
    failures: live.failures.slice(start, end),
    holder: live.holder.slice(start, end),
    fence: live.fence.slice(start, end),
    startedAt: live.startedAt.slice(start, end),
    finishedAtCol: live.finishedAtCol.slice(start, end),
    exitCode: live.exitCode.slice(start, end),
    durationMs: live.durationMs.slice(start, end),
    reason: live.reason.slice(start, end),
    readySeq: live.readySeq.slice(start, end),
    tails,
  };
}

/** One job's tasks as of the moment a sliced snapshot started. */
export class TaskFreeze {
  private readonly live: TaskCols;
  private readonly copies = new Map<number, TaskCols>();
  /** Blocks below this one are written: their changes need no copy. */
  private passed = 0;

  constructor(
    private readonly job: Job,
    /** log2 of the tasks per block; tests make blocks small to cross their edges. */
    private readonly shift = BLOCK_SHIFT,
  ) {
    this.live = liveCols(job);
  }

  /** Job.willChange: tasks [start, end) are about to change. */
  save(start: number, end: number): void {
    const last = (end - 1) >> this.shift;
    for (let b = Math.max(start >> this.shift, this.passed); b <= last; b++)
      if (!this.copies.has(b)) this.copies.set(b, copyBlock(this.live, b, this.shift, this.job.size));
  }

  /** Where task t's columns as of the freeze are. */
  cols(t: number): TaskCols {
    return this.copies.get(t >> this.shift) ?? this.live;
  }

  /** The encoder will read no task below `t` again. */
  pass(t: number): void {
    const block = t >> this.shift;
    for (let b = this.passed; b < block; b++) this.copies.delete(b);
    this.passed = Math.max(this.passed, block);
  }
}
