// The checkers' own statement of the trigger rules (docs/dag-file.md §12), written from the page
// rather than from src/scheduler/trigger-rules.ts, so that a mistake in the machine's version is
// not repeated here: given the committed outcomes of a task's upstream tasks, may it run, and if
// it may not, does it count as failed for its own dependents?
import type { TriggerRule } from '../src/scheduler/trigger-rules.js';

/** An upstream task as the checker's model sees it: its state, or how it counts once final. */
export type Seen = 'open' | 'succeeded' | 'failed' | 'skipped';

/** A skipped task counts as failed for the rules when it was skipped because of a failure upstream. */
export function seenOf(state: string, reason: string | null): Seen {
  if (state === 'succeeded') return 'succeeded';
  if (state === 'failed') return 'failed';
  if (state === 'skipped') return reason?.startsWith('upstream failed') === true ? 'failed' : 'skipped';
  return 'open';
}

/** Whether the rule holds on these upstream outcomes (a task without upstream tasks may always run). */
export function ruleHolds(rule: TriggerRule, up: readonly Seen[]): boolean {
  if (up.length === 0) return true;
  const every = (f: (s: Seen) => boolean): boolean => up.every(f);
  const some = (s: Seen): boolean => up.includes(s);
  switch (rule) {
    case 'all_success':
      return every((s) => s === 'succeeded');
    case 'all_done':
      return every((s) => s !== 'open');
    case 'all_failed':
      return every((s) => s === 'failed');
    case 'one_success':
      return some('succeeded');
    case 'one_failed':
      return some('failed');
    case 'none_failed':
      return every((s) => s === 'succeeded' || s === 'skipped');
  }
}

/**
 * When the rule can no longer hold: whether the task may be skipped "because of a failure"
 * (Airflow's upstream_failed, which its dependents then count as failed) rather than by its rule.
 */
export function skippedForFailure(rule: TriggerRule, up: readonly Seen[]): boolean {
  const failed = up.includes('failed');
  switch (rule) {
    case 'all_success':
    case 'none_failed':
      return failed;
    case 'one_success':
      return failed && !up.includes('succeeded');
    default:
      return false;
  }
}
