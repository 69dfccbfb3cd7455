// When a schedule's ticks fall (docs/schedules.md §2): a cron expression in an IANA time zone, or a
// fixed period. Pure and deterministic: every answer is a function of the cadence and the instant
// it is asked about, never of the clock, so the replicated state machine computes the same next
// tick on every replica from the cluster time of the entry it applies (docs/architecture.md §6).
//
// Cron and time zones come from croner (maintained, no dependencies, handles DST). Two of its
// features read the clock and are refused here: `?` in a field (croner puts the current time in
// it) and nothing-given "now" instants (every call passes one). A tick in a DST gap (02:30 on the
// night clocks jump from 02:00 to 03:00) fires once, an hour later by the wall clock; a tick in a
// repeated hour fires once, at its second occurrence (croner's resolution of the ambiguous time).
import { Cron } from 'croner';
import type { Ms } from '../scheduler/types.js';

export type Cadence =
  /** 5 fields (minute first) or 6 (second first), read in the schedule's time zone. */
  | { readonly kind: 'cron'; readonly expr: string }
  /** Every `everyMs`, at the multiples of it since the Unix epoch (UTC): `every: 15m` fires at :00, :15, :30, :45. */
  | { readonly kind: 'every'; readonly everyMs: Ms };

/** The shortest period: a faster schedule would be a busy loop of log entries. */
export const MIN_EVERY_MS: Ms = 1000;
/** The longest period (a year): longer waits are what cron expressions are for. */
export const MAX_EVERY_MS: Ms = 366 * 86_400_000;
export const MAX_CRON_BYTES = 256;
export const MAX_TIMEZONE_BYTES = 64;
/** croner looks at most up to the year 3000; a tick past it is "never". */
const CRON_FIELDS = /^\S+(\s+\S+){4,5}$/;

/** Compiled expressions, by timezone and text: computing a tick must not re-parse each time. Bounded. */
const compiled = new Map<string, Cron>();
const MAX_COMPILED = 10_000;

function cronOf(expr: string, timezone: string): Cron {
  const key = `${timezone}\u0000${expr}`;
  let c = compiled.get(key);
  if (c === undefined) {
    // legacyMode (croner's default): day-of-month and day-of-week match either, as Vixie cron does.
    c = new Cron(expr, { timezone, paused: true, legacyMode: true });
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, c);
  }
  return c;
}

/** Why `timezone` is not an IANA time zone name this runtime knows, or null. */
export function timezoneProblem(timezone: string): string | null {
  if (timezone.length === 0 || timezone.length > MAX_TIMEZONE_BYTES) return `time zone must be 1 to ${MAX_TIMEZONE_BYTES} characters`;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return null;
  } catch {
    return `unknown time zone '${timezone}': use an IANA name like UTC, Europe/Berlin or America/New_York`;
  }
}

/** Why `expr` is not a cron expression this module takes, or null. */
export function cronProblem(expr: string, timezone: string): string | null {
  if (expr.length > MAX_CRON_BYTES) return `cron expression is longer than ${MAX_CRON_BYTES} characters`;
  const text = expr.trim();
  if (!CRON_FIELDS.test(text) && !text.startsWith('@'))
    return `cron expression '${expr}' must have 5 fields (minute hour day month weekday) or 6 (second first)`;
  if (text.includes('?'))
    return `cron expression '${expr}': '?' is not supported (it would mean the moment the schedule is read); write the value`;
  const tz = timezoneProblem(timezone);
  if (tz !== null) return tz;
  try {
    cronOf(text, timezone);
    return null;
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err);
    return `cron expression '${expr}': ${why}`;
  }
}

/** Why the cadence cannot be used in `timezone`, or null. */
export function cadenceProblem(c: Cadence, timezone: string): string | null {
  if (c.kind === 'every') {
    if (!Number.isSafeInteger(c.everyMs) || c.everyMs < MIN_EVERY_MS || c.everyMs > MAX_EVERY_MS) {
      return `every must be a whole number of milliseconds from ${MIN_EVERY_MS} (1s) to ${MAX_EVERY_MS} (366d)`;
    }
    return timezoneProblem(timezone);
  }
  return cronProblem(c.expr, timezone);
}

/**
 * The first tick strictly after `after` (ms since the epoch), or null when there is none (a cron
 * expression that never matches again). The cadence must have passed cadenceProblem.
 */
export function nextTick(c: Cadence, timezone: string, after: Ms): Ms | null {
  if (c.kind === 'every') return (Math.floor(after / c.everyMs) + 1) * c.everyMs;
  // croner counts in whole seconds and starts from the second after the one it is given.
  const next = cronOf(c.expr.trim(), timezone).nextRun(new Date(after));
  return next === null ? null : next.getTime();
}
