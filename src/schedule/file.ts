// Schedule files (docs/schedules.md §1) in, ScheduleSpecs out: `meshrun schedule add` reads a YAML
// or JSON file with parseScheduleText (resolving a `dag:` path relative to the file) and the API
// hands the JSON body of POST /v1/schedules to normalizeSchedule. Every problem is reported at
// once, each naming its field; the DAG goes through the DAG front end (src/dag). The state machine
// checks what the log holds again with its own checkScheduleSpec and never imports from here.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DagError, normalizeDag } from '../dag/parse.js';
import { checked, duration } from '../dag/schema.js';
import { errorMessage } from '../errors.js';
import { DAG_LIMITS as L, fmt, utf8Length } from '../scheduler/dag-limits.js';
import { show } from '../scheduler/problems.js';
import {
  CATCHUP_POLICIES,
  MAX_PARAMS,
  OVERLAP_POLICIES,
  SCHEDULE_NAME,
  type CatchupPolicy,
  type OverlapPolicy,
  type ScheduleSpec,
} from '../scheduler/schedule-types.js';
import { envProblem, isMapping } from '../scheduler/spec-rules.js';
import { didYouMean } from '../scheduler/suggest.js';
import type { JobSpec } from '../scheduler/types.js';
import { MAX_EVERY_MS, MIN_EVERY_MS, cronProblem, timezoneProblem, type Cadence } from './cadence.js';

/** What a schedule leaves out: UTC, overlapping runs allowed, the newest missed tick run. */
export const SCHEDULE_DEFAULTS = { timezone: 'UTC', overlap: 'allow', catchup: 'latest', paused: false } as const;

/** An invalid schedule: `problems` each name the field (`cron: ...`); the message joins them. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

function oneOf<T extends string>(what: string, values: readonly T[]) {
  return checked((v, bad) => {
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
      bad(`${what} must be one of ${values.join(', ')}, got ${show(v)}`);
    return v as T;
  });
}

const name = checked((v, bad) => {
  if (v === undefined) bad('missing: every schedule needs a name, like name: nightly-etl');
  else if (typeof v !== 'string' || !SCHEDULE_NAME.test(v)) bad(`must be 1 to 128 letters, digits, '_', '.' or '-', got ${show(v)}`);
  return v as string;
});

const text = checked((v, bad) => {
  if (typeof v !== 'string' || v.trim() === '') bad(`must be a non-empty string, got ${show(v)}`);
  return v as string;
});

const params = checked((v, bad) => {
  const out: Record<string, string> = {};
  if (!isMapping(v)) {
    bad(`must be a mapping of environment variable names to values, got ${show(v)}`);
    return out;
  }
  const keys = Object.keys(v);
  if (keys.length > MAX_PARAMS) bad(`${keys.length} params (at most ${MAX_PARAMS})`);
  for (const k of keys) {
    const p = envProblem(k);
    if (p !== null) bad(p, [k]);
    const value = v[k];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      const s = String(value);
      if (utf8Length(s) > L.maxEnvValueBytes) bad(`is ${fmt(utf8Length(s))} bytes (at most ${fmt(L.maxEnvValueBytes)})`, [k]);
      if (s.includes('\0')) bad('contains a NUL character', [k]);
      Object.defineProperty(out, k, { value: s, enumerable: true, writable: true, configurable: true });
    } else bad(`must be a string, number or boolean, got ${show(value)}`, [k]);
  }
  return out;
});

const fileSchema = z.strictObject({
  name,
  cron: text.optional(),
  every: duration(MIN_EVERY_MS, MAX_EVERY_MS).optional(),
  timezone: text.optional(),
  overlap: oneOf<OverlapPolicy>('overlap', OVERLAP_POLICIES).optional(),
  catchup: oneOf<CatchupPolicy>('catchup', CATCHUP_POLICIES).optional(),
  paused: checked((v, bad) => {
    if (typeof v !== 'boolean') bad(`must be true or false, got ${show(v)}`);
    return v as boolean;
  }).optional(),
  params: params.optional(),
  dag: z.unknown().optional(),
});
const FIELDS = Object.keys(fileSchema.shape);

/**
 * A parsed schedule (the JSON body of POST /v1/schedules, say) to a ScheduleSpec; throws
 * ScheduleError listing every problem. `dag` must be the DAG itself here: a path in it is
 * resolved by the CLI (parseScheduleText), which reads the caller's files.
 */
export function normalizeSchedule(raw: unknown): ScheduleSpec {
  const problems: string[] = [];
  if (!isMapping(raw)) throw new ScheduleError([`a schedule must be a mapping with name, cron or every, and dag, got ${show(raw)}`]);
  const r = fileSchema.safeParse(raw, { reportInput: true });
  if (!r.success) {
    for (const issue of r.error.issues) {
      const path = issue.path.map((k) => String(k)).join('.');
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys)
          problems.push(`${key}: unknown field${didYouMean(key, FIELDS)}; expected one of: ${FIELDS.join(', ')}`);
      } else problems.push(path === '' ? issue.message : `${path}: ${issue.message}`);
    }
  }
  const timezone = typeof raw['timezone'] === 'string' ? raw['timezone'] : SCHEDULE_DEFAULTS.timezone;
  const tz = raw['timezone'] === undefined ? null : timezoneProblem(timezone);
  if (tz !== null) problems.push(`timezone: ${tz}`);
  const cadence = readCadence(raw, r.success ? r.data.every : undefined, tz === null ? timezone : SCHEDULE_DEFAULTS.timezone, problems);
  const dag = readDagField(raw['dag'], problems);
  if (!r.success || problems.length > 0 || cadence === null || dag === null) throw new ScheduleError(problems);
  const d = r.data;
  return {
    name: d.name,
    cadence,
    timezone,
    overlap: d.overlap ?? SCHEDULE_DEFAULTS.overlap,
    catchup: d.catchup ?? SCHEDULE_DEFAULTS.catchup,
    paused: d.paused ?? SCHEDULE_DEFAULTS.paused,
    params: d.params ?? {},
    dag,
  };
}

function readCadence(raw: Record<string, unknown>, everyMs: number | undefined, timezone: string, problems: string[]): Cadence | null {
  const cron = raw['cron'];
  const every = raw['every'];
  if (cron !== undefined && every !== undefined) {
    problems.push('cron, every: give one of them, not both (cron: "30 2 * * *" or every: 15m)');
    return null;
  }
  if (cron === undefined && every === undefined) {
    problems.push('cron: missing: a schedule needs cron (5 fields, or 6 with seconds first) or every (a duration like 15m)');
    return null;
  }
  if (typeof cron === 'string') {
    const p = cronProblem(cron, timezone);
    if (p !== null) problems.push(`cron: ${p}`);
    return p === null ? { kind: 'cron', expr: cron.trim() } : null;
  }
  return everyMs === undefined ? null : { kind: 'every', everyMs };
}

function readDagField(dag: unknown, problems: string[]): JobSpec | null {
  if (dag === undefined) {
    problems.push('dag: missing: a schedule needs the DAG each run submits (a file path, or the DAG itself)');
    return null;
  }
  if (typeof dag === 'string') {
    problems.push(`dag: '${dag}' is a path: the CLI reads it (meshrun schedule add); the API takes the DAG itself`);
    return null;
  }
  try {
    return normalizeDag(dag);
  } catch (err) {
    if (err instanceof DagError) problems.push(...err.problems.map((p) => `dag.${p}`));
    else problems.push(`dag: ${errorMessage(err)}`);
    return null;
  }
}

/** The raw schedule (what the API takes): the file's mapping with `dag` read from its file when it is a path. */
export interface ScheduleFileResult {
  readonly raw: Record<string, unknown>;
  readonly spec: ScheduleSpec;
}

/**
 * A schedule file's text (YAML, or JSON) to the body the API takes and its ScheduleSpec; a `dag:`
 * path is read with `readDag` (relative to the schedule file: the caller resolves it). Throws
 * ScheduleError, with problems prefixed by `source`.
 */
export function parseScheduleText(
  text: string,
  source: string,
  readDag: (path: string) => { raw: unknown; spec: JobSpec },
): ScheduleFileResult {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ScheduleError([`${source}: ${errorMessage(err).split('\n')[0] ?? 'not YAML or JSON'}`]);
  }
  if (!isMapping(raw))
    throw new ScheduleError([`${source}: a schedule must be a mapping with name, cron or every, and dag, got ${show(raw)}`]);
  const body: Record<string, unknown> = { ...raw };
  let dagProblems: readonly string[] = [];
  if (typeof raw['dag'] === 'string') {
    try {
      body['dag'] = readDag(raw['dag']).raw;
    } catch (err) {
      dagProblems = (err instanceof DagError ? err.problems : [errorMessage(err)]).map((l) => `dag: ${l}`);
    }
  }
  let spec: ScheduleSpec | null = null;
  let problems: readonly string[] = [];
  try {
    spec = normalizeSchedule(body);
  } catch (err) {
    if (!(err instanceof ScheduleError)) throw err;
    problems = err.problems;
  }
  // A DAG file that could not be read: its problems stand for the field, with every other field's.
  if (dagProblems.length > 0) problems = [...problems.filter((p) => !p.startsWith('dag')), ...dagProblems];
  if (spec === null || problems.length > 0) throw new ScheduleError(problems.map((p) => `${source}: ${p}`));
  return { raw: body, spec };
}
