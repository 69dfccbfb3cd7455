// The state machine's re-check of a JobSpec that arrived in a `submit` command: the same rules as
// the DAG file reader of src/dag (names, limits, ranges, known deps, no cycles), on the normalised
// shape.
// Every replica runs it on the same decoded value, so it must depend on nothing but that value:
// no clock, no locale-dependent or order-dependent behaviour beyond the value's own order.
import { checkGraph, sizeProblem } from './dag-graph.js';
import { DAG_LIMITS as L, HANDLER_NAME, fmt, hasNul, utf8Length } from './dag-limits.js';
import { PLACEMENT_LIMITS, labelsProblems, poolNameProblem, sortedLabels } from './placement.js';
import { Problems, show, type PathKey } from './problems.js';
import { builtinArgsProblem, envProblem, isMapping, jsonValueProblem, taskNameProblem } from './spec-rules.js';
import { DEFAULT_TRIGGER, TRIGGER_RULES, isTriggerRule, type TriggerRule } from './trigger-rules.js';
import type { Json, JobSpec, Labels, TaskExec, TaskSpec } from './types.js';

export type JobSpecCheck = { readonly ok: true; readonly spec: JobSpec } | { readonly ok: false; readonly error: string };

/** Validates an already-normalised JobSpec; on success `spec` is a clean copy holding only known fields. */
export function checkJobSpec(raw: unknown): JobSpecCheck {
  const problems = new Problems();
  const spec = readSpec(raw, problems);
  if (spec === null || problems.count > 0) return { ok: false, error: `invalid job spec: ${problems.render().join('; ')}` };
  return { ok: true, spec };
}

function readSpec(raw: unknown, problems: Problems): JobSpec | null {
  if (!isMapping(raw)) {
    problems.add([], `expected a job spec object, got ${show(raw)}`);
    return null;
  }
  const head = readHead(raw, problems);
  const tasksRaw = raw['tasks'];
  if (!Array.isArray(tasksRaw) || tasksRaw.length === 0) {
    problems.add(['tasks'], `must be a non-empty list of task specs, got ${show(tasksRaw)}`);
    return null;
  }
  const tooMany = sizeProblem(tasksRaw.length, 0);
  if (tooMany !== null) {
    problems.add(['tasks'], tooMany);
    return null;
  }
  const tasks = readTasks(tasksRaw, 0, problems);
  if (tasks === null) return null;
  let depCount = 0;
  let taskTotal = 0;
  for (const t of tasks) {
    depCount += t.deps.length;
    taskTotal += t.shards ?? 1;
  }
  const tooManyDeps = sizeProblem(0, depCount);
  if (tooManyDeps !== null) problems.add(['tasks'], tooManyDeps);
  else checkGraph(tasks, (p) => problems.add(['tasks', p.spec, ...(p.dep === null ? [] : ['deps', p.dep])], p.message));
  const totalProblem = taskTotalProblem(taskTotal);
  if (totalProblem !== null) problems.add(['tasks'], totalProblem);
  const tail = readLimits(raw, problems);
  if (problems.count > 0) return null;
  return { ...head, tasks, ...tail };
}

/** Why a job of `taskTotal` tasks once shards are expanded is too big, or null. */
export function taskTotalProblem(taskTotal: number): string | null {
  return taskTotal > L.maxTasks ? `${fmt(taskTotal)} tasks once shards are expanded (at most ${fmt(L.maxTasks)} per job)` : null;
}

export type JobHeader = Omit<JobSpec, 'tasks'>;

/** The fields of a job spec but its tasks (a big submit's parts each carry them: staging.ts). */
function readHeader(raw: Readonly<Record<string, unknown>>, problems: Problems): JobHeader {
  return { ...readHead(raw, problems), ...readLimits(raw, problems) };
}

function readHead(raw: Readonly<Record<string, unknown>>, problems: Problems): { name: string; retentionMs: number } {
  const name = raw['name'];
  if (typeof name !== 'string' || name.trim() === '' || utf8Length(name) > L.maxJobNameBytes || /\p{Cc}/u.test(name)) {
    problems.add(
      ['name'],
      `must be a non-empty string of at most ${L.maxJobNameBytes} bytes without control characters, got ${show(name)}`,
    );
  }
  const retentionMs = intField(raw, 'retentionMs', 0, L.maxRetentionMs, [], problems);
  return { name: name as string, retentionMs };
}

/** The job's own timeout and concurrency, each absent or checked. */
function readLimits(raw: Readonly<Record<string, unknown>>, problems: Problems): Pick<JobSpec, 'timeoutMs' | 'concurrency'> {
  const timeoutRaw = raw['timeoutMs'];
  const timeoutMs = timeoutRaw === undefined ? undefined : intField(raw, 'timeoutMs', 1, L.maxJobTimeoutMs, [], problems);
  const concurrency =
    raw['concurrency'] === undefined ? undefined : intField(raw, 'concurrency', 1, PLACEMENT_LIMITS.maxConcurrency, [], problems);
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
}

/** Tasks `raw`, the first of them at position `first` of the job; null when one is too broken to go on. */
function readTasks(raw: readonly unknown[], first: number, problems: Problems): TaskSpec[] | null {
  const tasks: TaskSpec[] = [];
  for (let i = 0; i < raw.length; i++) {
    const t = readTask(raw[i], ['tasks', first + i], problems);
    if (t === null) return null;
    tasks.push(t);
  }
  return tasks;
}

export type PartCheck =
  { readonly ok: true; readonly header: JobHeader; readonly tasks: TaskSpec[] } | { readonly ok: false; readonly error: string };

/**
 * The checks of checkJobSpec that one part of a big submit allows (staging.ts): its header and
 * each of its tasks (numbered from `first` in problems), but not the graph, which needs all parts.
 */
export function checkJobPart(raw: JobSpec, first: number): PartCheck {
  const problems = new Problems();
  const header = readHeader(raw as unknown as Readonly<Record<string, unknown>>, problems);
  const tasks = Array.isArray(raw.tasks) ? readTasks(raw.tasks, first, problems) : null;
  if (tasks === null) problems.add(['tasks'], `must be a list of task specs, got ${show(raw.tasks)}`);
  if (tasks === null || problems.count > 0) return { ok: false, error: `invalid job spec: ${problems.render().join('; ')}` };
  return { ok: true, header, tasks };
}

/** Every problem of the whole graph of `tasks` (names, deps, cycles), as checkJobSpec words them; null when none. */
export function graphError(tasks: readonly TaskSpec[]): string | null {
  const problems = new Problems();
  checkGraph(tasks, (p) => problems.add(['tasks', p.spec, ...(p.dep === null ? [] : ['deps', p.dep])], p.message));
  return problems.count > 0 ? `invalid job spec: ${problems.render().join('; ')}` : null;
}

/** One spec; null only when its shape is too broken to go on (its name or deps are unusable). */
function readTask(raw: unknown, at: PathKey[], problems: Problems): TaskSpec | null {
  if (!isMapping(raw)) {
    problems.add(at, `expected a task spec object, got ${show(raw)}`);
    return null;
  }
  const name = raw['name'];
  if (typeof name !== 'string') {
    problems.add([...at, 'name'], `must be a string, got ${show(name)}`);
    return null;
  }
  const nameProblem = taskNameProblem(name);
  if (nameProblem !== null) problems.add([...at, 'name'], nameProblem);
  const deps = raw['deps'];
  if (!Array.isArray(deps) || !deps.every((d) => typeof d === 'string')) {
    problems.add([...at, 'deps'], `must be a list of task names, got ${show(deps)}`);
    return null;
  }
  if (deps.length > L.maxDepsPerSpec)
    problems.add([...at, 'deps'], `${fmt(deps.length)} dependencies (at most ${fmt(L.maxDepsPerSpec)} per task)`);
  const shardsRaw = raw['shards'];
  const cwdRaw = raw['cwd'];
  // Field paths are built only for a problem (and no closure per field either): a 50,000-task
  // submit is checked on every replica (issue 16).
  const trigger = readTrigger(raw['trigger'], [...at, 'trigger'], problems);
  const on = readOn(raw['on'], [...at, 'on'], problems);
  const pool = readPool(raw['pool'], [...at, 'pool'], problems);
  return {
    name,
    exec: readExec(raw['exec'], [...at, 'exec'], problems),
    deps: [...deps],
    retries: intField(raw, 'retries', 0, L.maxRetries, at, problems),
    backoffMs: intField(raw, 'backoffMs', 0, L.maxBackoffMs, at, problems),
    timeoutMs: intField(raw, 'timeoutMs', L.minTimeoutMs, L.maxTimeoutMs, at, problems),
    priority: intField(raw, 'priority', L.minPriority, L.maxPriority, at, problems),
    slots: intField(raw, 'slots', 1, L.maxSlots, at, problems),
    env: readEnv(raw['env'], [...at, 'env'], problems),
    cwd: cwdRaw === null ? null : textIn(cwdRaw, L.maxCwdBytes, [...at, 'cwd'], problems),
    shards: shardsRaw === null ? null : intField(raw, 'shards', 1, L.maxShards, at, problems),
    ...(trigger === undefined ? {} : { trigger }),
    ...(on === undefined ? {} : { on }),
    ...(pool === undefined ? {} : { pool }),
  };
}

/** Absent, or a non-empty label set (the normalised form leaves an empty one out), keys in order. */
function readOn(v: unknown, at: PathKey[], problems: Problems): Labels | undefined {
  if (v === undefined) return undefined;
  if (!isMapping(v) || Object.keys(v).length === 0) {
    problems.add(at, `must be absent or a non-empty mapping of label keys to values, got ${show(v)}`);
    return undefined;
  }
  const found = labelsProblems(v as Labels);
  for (const p of found) problems.add(at, p);
  return found.length > 0 ? undefined : sortedLabels(Object.entries(v as Labels));
}

function readPool(v: unknown, at: PathKey[], problems: Problems): string | undefined {
  if (v === undefined) return undefined;
  const problem = typeof v === 'string' ? poolNameProblem(v) : `must be a pool name, got ${show(v)}`;
  if (problem !== null) problems.add(at, problem);
  return problem === null ? (v as string) : undefined;
}

/** Absent or a rule other than the default (the normalised form never spells out all_success). */
function readTrigger(v: unknown, at: PathKey[], problems: Problems): TriggerRule | undefined {
  if (v === undefined) return undefined;
  if (!isTriggerRule(v) || v === DEFAULT_TRIGGER) {
    problems.add(at, `must be absent or one of ${TRIGGER_RULES.filter((r) => r !== DEFAULT_TRIGGER).join(', ')}, got ${show(v)}`);
    return undefined;
  }
  return v;
}

function readExec(raw: unknown, at: PathKey[], problems: Problems): TaskExec {
  if (isMapping(raw) && raw['kind'] === 'run')
    return { kind: 'run', command: textIn(raw['command'], L.maxRunBytes, [...at, 'command'], problems) };
  if (isMapping(raw) && raw['kind'] === 'handler') {
    const name = raw['name'];
    if (typeof name !== 'string' || !HANDLER_NAME.test(name)) problems.add([...at, 'name'], `must be a handler name, got ${show(name)}`);
    const args = raw['args'];
    const argsProblem = jsonValueProblem(args);
    if (argsProblem !== null) problems.add([...at, 'args'], argsProblem);
    else if (utf8Length(JSON.stringify(args)) > L.maxArgsBytes)
      problems.add([...at, 'args'], `larger than ${fmt(L.maxArgsBytes)} bytes as JSON`);
    else if (typeof name === 'string') {
      // The file reader checks built-in handlers' arguments; a submit must not get round it.
      const builtinProblem = builtinArgsProblem(name, args as Json);
      if (builtinProblem !== null) problems.add([...at, 'args'], builtinProblem);
    }
    return { kind: 'handler', name: name as string, args: args as Json };
  }
  problems.add(at, `must be { kind: 'run', command } or { kind: 'handler', name, args }, got ${show(raw)}`);
  return { kind: 'run', command: '' };
}

function readEnv(raw: unknown, at: PathKey[], problems: Problems): Record<string, string> {
  if (!isMapping(raw)) {
    problems.add(at, `must be an object of strings, got ${show(raw)}`);
    return {};
  }
  const keys = Object.keys(raw);
  if (keys.length > L.maxEnvVars) problems.add(at, `${fmt(keys.length)} variables (at most ${fmt(L.maxEnvVars)})`);
  let bytes = 0;
  const entries: [string, string][] = [];
  for (const key of keys) {
    const keyProblem = envProblem(key);
    if (keyProblem !== null) problems.add([...at, key], keyProblem);
    const value = textIn(raw[key], L.maxEnvValueBytes, [...at, key], problems, true);
    bytes += utf8Length(key) + utf8Length(value);
    entries.push([key, value]);
  }
  if (bytes > L.maxEnvBytes) problems.add(at, `variables take ${fmt(bytes)} bytes (at most ${fmt(L.maxEnvBytes)} per task)`);
  return Object.fromEntries(entries);
}

/** `obj[key]`, an integer from `min` to `max`; a problem is reported at `at` + `key`. */
function intField(
  obj: Readonly<Record<string, unknown>>,
  key: string,
  min: number,
  max: number,
  at: readonly PathKey[],
  problems: Problems,
): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    problems.add([...at, key], `must be an integer from ${fmt(min)} to ${fmt(max)}, got ${show(v)}`);
    return min;
  }
  return v;
}

function textIn(v: unknown, maxBytes: number, at: PathKey[], problems: Problems, emptyOk = false): string {
  if (typeof v !== 'string' || (v === '' && !emptyOk)) problems.add(at, `must be a ${emptyOk ? '' : 'non-empty '}string, got ${show(v)}`);
  else if (utf8Length(v) > maxBytes) problems.add(at, `is ${fmt(utf8Length(v))} bytes (at most ${fmt(maxBytes)})`);
  else if (hasNul(v)) problems.add(at, 'contains a NUL character');
  else return v;
  return '';
}
