// The events a scenario run reports, in simulated time: what the text timeline prints, what
// --json emits and what the HTML report draws.
import type { Fault } from './scenario-file.js';

/** What a fault event is (a scenario's fault kinds; a heal ends faults rather than being one). */
export type FaultType = Exclude<Fault['kind'], 'heal'>;

export type TimelineEvent = { readonly t: number } & (
  | { readonly kind: 'leader'; readonly node: string; readonly term: number }
  /** `term`: the term it led. */
  | { readonly kind: 'stepdown'; readonly node: string; readonly term: number; readonly role: string }
  /**
   * A fault begins; `id` pairs it with its fault-end. `nodes`: the nodes it acts on (shaded in the
   * report); `groups`: a partition's sides (empty for other faults).
   */
  | {
      readonly kind: 'fault';
      readonly id: number;
      readonly type: FaultType;
      readonly what: string;
      readonly nodes: readonly string[];
      readonly groups: readonly (readonly string[])[];
    }
  | { readonly kind: 'fault-end'; readonly id: number; readonly what: string }
  | { readonly kind: 'submit'; readonly job: string; readonly via: string; readonly id: string }
  | {
      readonly kind: 'claim';
      readonly job: string;
      readonly task: string;
      readonly node: string;
      readonly attempt: number;
      readonly fence: number;
    }
  | {
      readonly kind: 'start';
      readonly job: string;
      readonly task: string;
      readonly node: string;
      readonly attempt: number;
      readonly fence: number;
    }
  /** An execution ended on its node: how, and the outcome it reported (a crashed one reports nothing). */
  | {
      readonly kind: 'end';
      readonly job: string;
      readonly task: string;
      readonly node: string;
      readonly attempt: number;
      readonly fence: number;
      readonly how: 'completed' | 'timeout' | 'stopped' | 'crashed';
      readonly outcome: string;
      readonly startedAt: number;
    }
  /** A committed change of a task that is not a claim: a result, a retry, a lease expiry, a skip. */
  | {
      readonly kind: 'task';
      readonly job: string;
      readonly task: string;
      readonly from: string;
      readonly to: string;
      readonly node: string | null;
      readonly attempt: number;
      readonly reason: string | null;
    }
  /** A finish the scheduler refused (fencing): a stale attempt, a holder that lost the task, an old incarnation. */
  | {
      readonly kind: 'refused';
      readonly job: string;
      readonly task: string;
      readonly node: string;
      readonly attempt: number;
      readonly why: string;
    }
  | { readonly kind: 'job'; readonly job: string; readonly state: string }
  | { readonly kind: 'note'; readonly text: string }
);

/** Seconds with milliseconds, right-aligned: `   12.345s`. */
export function formatTime(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`.padStart(9);
}

/** One line of the text timeline. */
export function describeEvent(e: TimelineEvent): string {
  switch (e.kind) {
    case 'leader':
      return `${e.node} is leader (term ${e.term})`;
    case 'stepdown':
      return `${e.node} steps down (it led term ${e.term}; now ${e.role})`;
    case 'fault':
      return `FAULT ${e.what}`;
    case 'fault-end':
      return `END ${e.what}`;
    case 'submit':
      return `${e.job} submitted via ${e.via}: job ${e.id}`;
    case 'claim':
      return `${e.job}/${e.task} claimed by ${e.node} (attempt ${e.attempt}, fence ${e.fence})`;
    case 'start':
      return `${e.node} starts ${e.job}/${e.task} attempt ${e.attempt}`;
    case 'end': {
      const what = `${e.job}/${e.task} attempt ${e.attempt}`;
      const took = formatTime(e.t - e.startedAt).trim();
      if (e.how === 'completed') return `${e.node} finishes ${what}: ${e.outcome} (${took})`;
      if (e.how === 'timeout') return `${e.node} times out ${what} (${took})`;
      if (e.how === 'stopped') return `${e.node} stops ${what} (${took}): its lease ran out or it was told to`;
      return `${e.node} loses ${what} (${took}): it died with its node`;
    }
    case 'task':
      return describeTaskChange(e);
    case 'refused':
      return `${e.job}/${e.task} attempt ${e.attempt}: the result from ${e.node} is refused (${e.why})`;
    case 'job':
      return `job ${e.job} ${e.state}`;
    default:
      return e.text;
  }
}

function describeTaskChange(e: Extract<TimelineEvent, { kind: 'task' }>): string {
  const name = `${e.job}/${e.task}`;
  const by = e.node ? ` (${e.node}, attempt ${e.attempt})` : '';
  if (e.reason === 'lease expired') return `${name} lease expired${by}: ready again`;
  if (e.from === 'running' && (e.to === 'ready' || e.to === 'waiting')) {
    const why = e.reason && e.reason !== 'attempt failed' ? ` (${e.reason})` : '';
    return `${name} attempt ${e.attempt} failed${why}${e.node ? ` on ${e.node}` : ''}: retry after backoff`;
  }
  if (e.to === 'skipped') return `${name} skipped${e.reason ? ` (${e.reason})` : ''}`;
  if (e.to === 'succeeded') return `${name} succeeded (committed: ${e.node}, attempt ${e.attempt})`;
  if (e.to === 'failed') return `${name} failed for good${e.reason && e.reason !== 'attempt failed' ? ` (${e.reason})` : ''}${by}`;
  return `${name} ${e.from} -> ${e.to}${e.reason ? ` (${e.reason})` : ''}${by}`;
}

/** An event as its source reports it: the collector adds the time. */
export type Untimed<E> = E extends unknown ? Omit<E, 't'> : never;
