// Trigger rules (docs/dag-file.md §12): when a task may run, as a function of its upstream tasks'
// committed outcomes. Airflow's names and meanings, with one difference of vocabulary: meshrun has
// no `upstream_failed` state, so a task skipped because of a failure upstream counts, for the
// rules of its own dependents, as failed (Airflow's upstream_failed), and any other skipped task
// as skipped. Pure: the state machine calls it on every replica.

export const TRIGGER_RULES = ['all_success', 'all_done', 'all_failed', 'one_success', 'one_failed', 'none_failed'] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];
export const DEFAULT_TRIGGER: TriggerRule = 'all_success';

export function isTriggerRule(v: unknown): v is TriggerRule {
  return typeof v === 'string' && (TRIGGER_RULES as readonly string[]).includes(v);
}

/** The outcome of one final upstream task, as the rules see it. */
export type UpstreamOutcome = 'succeeded' | 'failed' | 'skipped';

/** How many of a task's upstream tasks (every shard of a sharded dependency) ended each way. */
export interface UpstreamCounts {
  readonly total: number;
  readonly succeeded: number;
  /** Failed, or skipped because of a failure further up. */
  readonly failed: number;
  readonly skipped: number;
}

/**
 * What the rule says now: `wait` for more results, `run` (the task becomes ready), or it can no
 * longer hold: `skip-failed` (skipped because of a failure: its own dependents see a failure) or
 * `skip` (skipped: its dependents see a skip). A task without upstream tasks always runs.
 */
export type TriggerVerdict = 'wait' | 'run' | 'skip-failed' | 'skip';

export function triggerVerdict(rule: TriggerRule, c: UpstreamCounts): TriggerVerdict {
  if (c.total === 0) return 'run';
  const done = c.succeeded + c.failed + c.skipped;
  switch (rule) {
    case 'all_success':
      if (c.failed > 0) return 'skip-failed';
      if (c.skipped > 0) return 'skip';
      return c.succeeded === c.total ? 'run' : 'wait';
    case 'all_done':
      return done === c.total ? 'run' : 'wait';
    case 'all_failed':
      if (c.succeeded > 0 || c.skipped > 0) return 'skip';
      return c.failed === c.total ? 'run' : 'wait';
    case 'one_success':
      if (c.succeeded > 0) return 'run';
      if (done < c.total) return 'wait';
      return c.failed > 0 ? 'skip-failed' : 'skip';
    case 'one_failed':
      if (c.failed > 0) return 'run';
      return done === c.total ? 'skip' : 'wait';
    case 'none_failed':
      if (c.failed > 0) return 'skip-failed';
      return c.succeeded + c.skipped === c.total ? 'run' : 'wait';
  }
}

/**
 * Whether an upstream task with `outcome` is one that kept the rule from holding (the reason names
 * the first such task); rules that fail for want of an outcome (one_success, one_failed) name none.
 */
export function blocks(rule: TriggerRule, verdict: 'skip' | 'skip-failed', outcome: UpstreamOutcome): boolean {
  if (verdict === 'skip-failed') return outcome === 'failed';
  if (rule === 'all_success') return outcome === 'skipped';
  if (rule === 'all_failed') return outcome !== 'failed';
  return false;
}

/** The reason a task skipped by its rule (not by a failure) shows; `upstream` names a task whose outcome decided, if any. */
export function triggerSkipReason(
  rule: TriggerRule,
  upstream: { readonly name: string; readonly outcome: UpstreamOutcome } | null,
): string {
  switch (rule) {
    case 'one_success':
      return 'trigger rule one_success: no upstream task succeeded';
    case 'one_failed':
      return 'trigger rule one_failed: no upstream task failed';
    default:
      return upstream === null
        ? `trigger rule ${rule} cannot be met`
        : `trigger rule ${rule}: upstream ${upstream.name} ${upstream.outcome}`;
  }
}
