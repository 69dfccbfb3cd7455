// The shape of a DAG file (docs/dag-file.md §2 and §3) as zod schemas. Every field is read by a small
// checked transform so messages say what was wrong in the file's own terms ("5 has no unit",
// "must be an integer from 1 to 1,000,000") rather than in zod's. Objects are strict: an unknown
// field is an error, which is what catches `dep:` for `deps:`.
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { DAG_LIMITS as L, HANDLER_NAME, fmt, hasNul, utf8Length } from '../scheduler/dag-limits.js';
import { show } from '../scheduler/problems.js';
import { envProblem, isMapping, jsonProblem, type Report } from '../scheduler/spec-rules.js';
import { PLACEMENT_LIMITS, labelsProblems, poolNameProblem, sortedLabels } from '../scheduler/placement.js';
import { TRIGGER_RULES, isTriggerRule, type TriggerRule } from '../scheduler/trigger-rules.js';
import { didYouMean } from '../scheduler/suggest.js';
import type { Json, Labels } from '../scheduler/types.js';
import { DURATION_FORMS, formatDuration, parseDuration } from './duration.js';

type Bad = Report;
/** Reads a field's value, reporting every problem through `bad`; the value is meaningless after a report. */
type Check<T> = (v: unknown, bad: Bad) => T;

/** A field whose value `check` reads, reporting through `bad`; any report makes the field invalid. */
export function checked<T>(check: Check<T>) {
  return z.unknown().transform((v, ctx): T => {
    let failed = false;
    const out = check(v, (message, path = []) => {
      failed = true;
      ctx.issues.push({ code: 'custom', message, input: v, path: [...path] });
    });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the callback above
    return failed ? z.NEVER : out;
  });
}

function int(min: number, max: number): Check<number> {
  return (v, bad) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      bad(`must be an integer from ${fmt(min)} to ${fmt(max)}, got ${show(v)}`);
    }
    return v as number;
  };
}

export function duration(min: number, max: number, why = '') {
  return checked(durationCheck(min, max, why));
}

function durationCheck(min: number, max: number, why = ''): Check<number> {
  return (v, bad) => {
    if (typeof v === 'number') {
      bad(`${v} has no unit: write ${v}s, ${v}ms, ${v}m or ${v}h`);
      return 0;
    }
    if (typeof v !== 'string') {
      bad(`must be a duration like ${DURATION_FORMS}, got ${show(v)}`);
      return 0;
    }
    let ms: number;
    try {
      ms = parseDuration(v);
    } catch (err) {
      bad(errorMessage(err));
      return 0;
    }
    if (ms < min || ms > max) bad(`${v} is out of range: must be from ${formatDuration(min)} to ${formatDuration(max)}${why}`);
    return ms;
  };
}

function text(what: string, maxBytes: number): Check<string> {
  return (v, bad) => {
    if (typeof v !== 'string' || v === '') bad(`${what} must be a non-empty string, got ${show(v)}`);
    else if (utf8Length(v) > maxBytes) bad(`${what} is ${fmt(utf8Length(v))} bytes (at most ${fmt(maxBytes)})`);
    else if (hasNul(v)) bad(`${what} contains a NUL character`);
    return v as string;
  };
}

const handlerName: Check<string> = (v, bad) => {
  if (typeof v !== 'string' || !HANDLER_NAME.test(v)) {
    bad(`must be a handler name (1 to ${L.maxHandlerNameLength} letters, digits, '_', '.', ':' or '-'), like noop, got ${show(v)}`);
  }
  return v as string;
};

const deps: Check<string[]> = (v, bad) => {
  if (!Array.isArray(v)) {
    bad(`must be a list of task names, like [extract], got ${show(v)}`);
    return [];
  }
  if (v.length > L.maxDepsPerSpec) bad(`${fmt(v.length)} dependencies (at most ${fmt(L.maxDepsPerSpec)} per task)`);
  // YAML reads an unquoted `10` as a number, but as a mapping key (a task named 10) as the text
  // "10": a dep written the same way as the key must name that task.
  return v.map((d: unknown, i) => {
    if (typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) return String(d);
    if (typeof d !== 'string') bad(`must be a task name, got ${show(d)}`, [i]);
    return d as string;
  });
};

const env: Check<Record<string, string>> = (v, bad) => {
  if (!isMapping(v)) {
    bad(`must be a mapping of variable names to values, like { TARGET: prod }, got ${show(v)}`);
    return {};
  }
  const keys = Object.keys(v);
  if (keys.length > L.maxEnvVars) bad(`${fmt(keys.length)} variables (at most ${fmt(L.maxEnvVars)})`);
  let bytes = 0;
  const entries: [string, string][] = [];
  for (const key of keys) {
    const problem = envProblem(key);
    if (problem !== null) bad(problem, [key]);
    const raw = v[key];
    // YAML users write `PORT: 8080` and `DEBUG: true`; environment values are strings anyway.
    const value = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : typeof raw === 'boolean' ? String(raw) : raw;
    if (typeof value !== 'string') {
      bad(`must be a string, number or boolean, got ${show(raw)}`, [key]);
      continue;
    }
    if (hasNul(value)) bad('contains a NUL character', [key]);
    const size = utf8Length(value);
    if (size > L.maxEnvValueBytes) bad(`value is ${fmt(size)} bytes (at most ${fmt(L.maxEnvValueBytes)})`, [key]);
    bytes += size + utf8Length(key);
    entries.push([key, value]);
  }
  if (bytes > L.maxEnvBytes) bad(`variables take ${fmt(bytes)} bytes (at most ${fmt(L.maxEnvBytes)} per task)`);
  // fromEntries defines own properties, so even a key like `__proto__` stays an ordinary key.
  return Object.fromEntries(entries);
};

const args: Check<Json> = (v, bad) => {
  let failed = false;
  jsonProblem(v, 0, [], (m, p) => {
    failed = true;
    bad(m, p);
  });
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the callback above
  if (failed) return null;
  // A JSON round trip gives the canonical value the codec will carry (-0 becomes 0).
  const textForm = JSON.stringify(v);
  if (utf8Length(textForm) > L.maxArgsBytes) bad(`${fmt(utf8Length(textForm))} bytes as JSON (at most ${fmt(L.maxArgsBytes)})`);
  return JSON.parse(textForm) as Json;
};

const trigger: Check<TriggerRule> = (v, bad) => {
  if (isTriggerRule(v)) return v;
  bad(`must be a trigger rule (${TRIGGER_RULES.join(', ')}), got ${show(v)}${typeof v === 'string' ? didYouMean(v, TRIGGER_RULES) : ''}`);
  return 'all_success';
};

/** `on: { gpu: a100, zone: eu }`: the labels a node needs to run the task (docs/dag-file.md §14). */
const on: Check<Labels> = (v, bad) => {
  if (!isMapping(v) || Object.keys(v).length === 0) {
    bad(`must be a mapping of node labels, like { gpu: a100 }, got ${show(v)}`);
    return {};
  }
  // YAML reads `gpu: 100` or `ssd: true` as a number or a boolean; labels are text, as on the node's command line.
  const pairs = Object.entries(v).map(([k, x]): [string, unknown] => [k, typeof x === 'number' || typeof x === 'boolean' ? String(x) : x]);
  const labels = Object.fromEntries(pairs) as Labels;
  for (const p of labelsProblems(labels)) bad(p);
  return sortedLabels(Object.entries(labels));
};

const pool: Check<string> = (v, bad) => {
  const problem = typeof v === 'string' ? poolNameProblem(v) : `must be a pool name, like db, got ${show(v)}`;
  if (problem !== null) bad(problem);
  return v as string;
};

/** When neither the task nor `defaults` sets a field. */
export const TASK_DEFAULTS = {
  retries: 0,
  backoffMs: 1000,
  timeoutMs: 3_600_000,
  priority: 0,
  slots: 1,
} as const;

const retries = int(0, L.maxRetries);
const backoff = durationCheck(0, L.maxBackoffMs, ' (the wait doubles per retry up to that)');
const timeout = durationCheck(L.minTimeoutMs, L.maxTimeoutMs);
const priority = int(L.minPriority, L.maxPriority);
const slots = int(1, L.maxSlots);

export const defaultsSchema = z.strictObject({
  retries: checked(retries).optional(),
  backoff: checked(backoff).optional(),
  timeout: checked(timeout).optional(),
  priority: checked(priority).optional(),
  slots: checked(slots).optional(),
  trigger: checked(trigger).optional(),
  on: checked(on).optional(),
  pool: checked(pool).optional(),
});

/**
 * How each task field is read: the zod schema below wraps these, and readTaskFast calls them
 * directly, so both apply the very same rules.
 */
const TASK_CHECKS = {
  run: text('the command', L.maxRunBytes),
  handler: handlerName,
  args,
  deps,
  shards: int(1, L.maxShards),
  priority,
  retries,
  backoff,
  timeout,
  slots,
  env,
  cwd: text('cwd', L.maxCwdBytes),
  trigger,
  on,
  pool,
} as const;

type TaskChecks = typeof TASK_CHECKS;
type TaskField = keyof TaskChecks;

export const taskSchema = z.strictObject({
  run: checked(TASK_CHECKS.run).optional(),
  handler: checked(TASK_CHECKS.handler).optional(),
  args: checked(TASK_CHECKS.args).optional(),
  deps: checked(TASK_CHECKS.deps).optional(),
  shards: checked(TASK_CHECKS.shards).optional(),
  priority: checked(TASK_CHECKS.priority).optional(),
  retries: checked(TASK_CHECKS.retries).optional(),
  backoff: checked(TASK_CHECKS.backoff).optional(),
  timeout: checked(TASK_CHECKS.timeout).optional(),
  slots: checked(TASK_CHECKS.slots).optional(),
  env: checked(TASK_CHECKS.env).optional(),
  cwd: checked(TASK_CHECKS.cwd).optional(),
  trigger: checked(TASK_CHECKS.trigger).optional(),
  on: checked(TASK_CHECKS.on).optional(),
  pool: checked(TASK_CHECKS.pool).optional(),
});

/**
 * The task as taskSchema would read it when every field is valid, field by field without zod
 * (zod's object parse costs ~10 us a task: half a second of a 50,000-task submit, issue 16); null
 * at the first field it cannot take (unknown, or reported bad), for the caller to ask zod, whose
 * issues name every problem.
 */
export function readTaskFast(raw: Readonly<Record<string, unknown>>): ParsedTask | null {
  fastRead.failed = false;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(TASK_CHECKS, key)) return null;
    const value = raw[key];
    if (value === undefined) continue;
    out[key] = TASK_CHECKS[key as TaskField](value, noteBad);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by noteBad, through the check
    if (fastRead.failed) return null;
  }
  // The same fields and values taskSchema's output would have: the checks are the ones it wraps.
  return out;
}

/**
 * readTaskFast's report, one for the module rather than a closure per task (tsx names every
 * closure it makes, which costs more than the checks); the checks never call readTaskFast.
 */
const fastRead = { failed: false };
const noteBad: Bad = () => {
  fastRead.failed = true;
};

export const depsSchema = checked(deps);

const jobName = checked((v, bad) => {
  if (v === undefined) bad('missing: every job needs a name, like name: nightly-etl');
  else if (typeof v !== 'string' || v.trim() === '') bad(`must be a non-empty string, got ${show(v)}`);
  else if (utf8Length(v) > L.maxJobNameBytes) bad(`is ${fmt(utf8Length(v))} bytes (at most ${fmt(L.maxJobNameBytes)})`);
  else if (/\p{Cc}/u.test(v)) bad('contains control characters');
  return v as string;
});

/** The top level; `tasks` is read entry by entry by the caller, to keep file order and name places. */
export const fileSchema = z.strictObject({
  name: jobName,
  defaults: defaultsSchema.optional(),
  retention: duration(0, L.maxRetentionMs).optional(),
  timeout: duration(1, L.maxJobTimeoutMs).optional(),
  concurrency: checked(int(1, PLACEMENT_LIMITS.maxConcurrency)).optional(),
  // Optional here: readDag reports a missing `tasks` itself (zod would add "must be nonoptional").
  tasks: z.unknown().optional(),
});

export type ParsedTask = z.output<typeof taskSchema>;
export type ParsedDefaults = z.output<typeof defaultsSchema>;

export const FILE_FIELDS = Object.keys(fileSchema.shape);
export const DEFAULTS_FIELDS = Object.keys(defaultsSchema.shape);
export const TASK_FIELDS = Object.keys(taskSchema.shape);
