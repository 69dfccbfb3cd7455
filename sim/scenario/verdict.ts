// The checkers' verdict, invariant by invariant (docs/simulation.md §8). The run stops at the first
// violation, so one row at most fails; the rows before it in time held until then.
import type { Violation } from '../checkers.js';

export interface VerdictRow {
  readonly invariant: string;
  readonly ok: boolean;
  /** The first violation's detail, on the row it broke. */
  readonly detail: string | null;
}

/** Each row and the checker names (Violation.invariant) that report against it. */
const ROWS: readonly { readonly invariant: string; readonly reports: readonly string[] }[] = [
  { invariant: 'at most one leader per term', reports: ['election safety'] },
  {
    invariant: 'logs match; a committed entry is never lost or changed',
    reports: ['committed entry changed', 'leader completeness', 'commit monotonicity', 'storage contract'],
  },
  {
    invariant: 'every node applies the same command at each index',
    reports: ['state machine safety', 'replicas agree', 'codec round trip'],
  },
  { invariant: 'no task starts unless its trigger rule holds on committed results (a)', reports: ['trigger rule holds (a)'] },
  {
    invariant: 'at most one accepted finish per task, fenced by attempt (b)',
    reports: [
      'one result per task (b)',
      'one finish per attempt (b)',
      'fencing (b)',
      'stale finish accepted (b)',
      'success without a successful run (b)',
    ],
  },
  { invariant: 'no two unexpired leases on one task (c)', reports: ['one lease per task (c)'] },
  { invariant: 'nothing acknowledged is lost (d)', reports: ['acknowledged job lost (d)'] },
  { invariant: 'after the heal, a leader and every job final within the bound (e)', reports: ['liveness', 'job liveness (e)', 'runaway'] },
  { invariant: "job outcomes follow the tasks' results (f)", reports: ['job outcome (f)'] },
];

export function verdictOf(v: Violation | null): VerdictRow[] {
  const rows = ROWS.map((r) => {
    const hit = v !== null && r.reports.includes(v.invariant);
    return { invariant: r.invariant, ok: !hit, detail: hit ? `${v.invariant}: ${v.detail}` : null };
  });
  // Anything else (the simulator's own consistency checks) gets a row of its own.
  if (v !== null && !ROWS.some((r) => r.reports.includes(v.invariant))) rows.push({ invariant: v.invariant, ok: false, detail: v.detail });
  return rows;
}
