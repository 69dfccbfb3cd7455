// From a parsed DAG file (or the JSON body of POST /v1/jobs) to a JobSpec: the file's shape
// through zod, then the rules that span fields (run xor handler), then the graph. Every problem
// is collected with the place it was found, so one round of fixes can address them all.
import type { z } from 'zod';
import { checkGraph, sizeProblem } from '../scheduler/dag-graph.js';
import { DAG_LIMITS, fmt } from '../scheduler/dag-limits.js';
import { Problems, show, type PathKey } from '../scheduler/problems.js';
import { builtinArgsProblem, isMapping, taskNameProblem } from '../scheduler/spec-rules.js';
import { didYouMean } from '../scheduler/suggest.js';
import { DEFAULT_TRIGGER } from '../scheduler/trigger-rules.js';
import { DEFAULT_RETENTION_MS, type JobSpec, type TaskSpec } from '../scheduler/types.js';
import {
  DEFAULTS_FIELDS,
  FILE_FIELDS,
  TASK_DEFAULTS,
  TASK_FIELDS,
  depsSchema,
  fileSchema,
  readTaskFast,
  taskSchema,
  type ParsedDefaults,
  type ParsedTask,
} from './schema.js';

export interface ReadResult {
  readonly spec: JobSpec | null;
  readonly problems: Problems;
}

/** Tasks read between two pauses of readDagSteps: a few ms of work. */
export const TASKS_PER_STEP = 2_000;

/**
 * Reads a parsed DAG. `order` lists the task names in file order when the caller knows it: a
 * plain object lists integer-like keys ("1", "2") first whatever their place in the file.
 */
export function readDag(raw: unknown, order: readonly string[] | null): ReadResult {
  const steps = readDagSteps(raw, order);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/**
 * readDag as steps: it pauses (yields) after every TASKS_PER_STEP tasks, so that the API can let
 * its node's event loop run between them (a 50,000-task DAG is read in slices of a few ms, not
 * in one stall; issue 16). The result is readDag's, however the steps are spaced.
 */
export function* readDagSteps(raw: unknown, order: readonly string[] | null): Generator<void, ReadResult> {
  const problems = new Problems();
  const fail = (): ReadResult => ({ spec: null, problems });
  if (raw === null || raw === undefined) {
    problems.add([], 'the DAG is empty: expected a mapping with name and tasks');
    return fail();
  }
  if (!isMapping(raw)) {
    problems.add([], `the DAG must be a mapping with name and tasks, got ${show(raw)}`);
    return fail();
  }
  const top = fileSchema.safeParse(raw, { reportInput: true });
  if (!top.success) addIssues(problems, [], top.error.issues, (p) => (p[0] === 'defaults' ? DEFAULTS_FIELDS : FILE_FIELDS));

  const tasksRaw = raw['tasks'];
  if (tasksRaw === undefined) {
    problems.add(['tasks'], 'missing: a job needs at least one task, like tasks: { hello: { run: echo hi } }');
    return fail();
  }
  if (!isMapping(tasksRaw)) {
    problems.add(['tasks'], `must be a mapping of task names to tasks, got ${show(tasksRaw)}`);
    return fail();
  }
  const names = orderedKeys(tasksRaw, order);
  if (names.length === 0) problems.add(['tasks'], 'a job needs at least one task');
  const tooMany = sizeProblem(names.length, 0);
  if (tooMany !== null) {
    problems.add(['tasks'], tooMany);
    return fail();
  }

  const parsed: ParsedEntry[] = [];
  for (const name of names) {
    parsed.push(readTask(name, tasksRaw[name], problems));
    if (parsed.length % TASKS_PER_STEP === 0) yield;
  }
  let depCount = 0;
  let taskTotal = 0;
  for (const p of parsed) {
    depCount += p.deps.length;
    taskTotal += p.data?.shards ?? 1;
  }
  const tooManyDeps = sizeProblem(0, depCount);
  if (tooManyDeps !== null) problems.add(['tasks'], tooManyDeps);
  else {
    checkGraph(
      names.map((name, i) => ({ name, deps: (parsed[i] as ParsedEntry).deps })),
      (p) => problems.add(['tasks', names[p.spec] as string, ...(p.dep === null ? [] : ['deps', p.dep])], p.message),
    );
  }
  if (taskTotal > DAG_LIMITS.maxTasks) {
    problems.add(['tasks'], `${fmt(taskTotal)} tasks once shards are expanded (at most ${fmt(DAG_LIMITS.maxTasks)} per job)`);
  }
  if (problems.count > 0 || !top.success) return fail();

  yield;
  const defaults = top.data.defaults ?? {};
  const tasks = parsed.map((p, i) => buildTask(names[i] as string, p.data as ParsedTask, defaults));
  const timeout = top.data.timeout;
  const concurrency = top.data.concurrency;
  const spec: JobSpec = {
    name: top.data.name,
    retentionMs: top.data.retention ?? DEFAULT_RETENTION_MS,
    tasks,
    ...(timeout === undefined ? {} : { timeoutMs: timeout }),
    ...(concurrency === undefined ? {} : { concurrency }),
  };
  return { spec, problems };
}

interface ParsedEntry {
  readonly deps: readonly string[];
  /** null when the task had problems. */
  readonly data: ParsedTask | null;
}

function readTask(name: string, raw: unknown, problems: Problems): ParsedEntry {
  const at: PathKey[] = ['tasks', name];
  const nameProblem = taskNameProblem(name);
  if (nameProblem !== null) problems.add(at, nameProblem);
  if (!isMapping(raw)) {
    problems.add(at, `a task must be a mapping like { run: ./build.sh } or { handler: noop }, got ${show(raw)}`);
    return { deps: [], data: null };
  }
  // The hand-checked reader first; zod for a task it cannot take, to name every problem.
  const fast = readTaskFast(raw);
  const r = fast !== null ? ({ success: true, data: fast } as const) : taskSchema.safeParse(raw, { reportInput: true });
  if (!r.success) addIssues(problems, at, r.error.issues, () => TASK_FIELDS);
  let ok = r.success && nameProblem === null;

  const hasRun = raw['run'] !== undefined;
  const hasHandler = raw['handler'] !== undefined;
  if (hasRun && hasHandler) {
    problems.add(at, `task '${name}' has both run and handler: it runs either a shell command (run) or a registered handler (handler)`);
    ok = false;
  } else if (!hasRun && !hasHandler) {
    problems.add(at, `task '${name}' needs run (a shell command) or handler (a function registered in the node, like noop)`);
    ok = false;
  } else if (hasRun && raw['args'] !== undefined) {
    problems.add([...at, 'args'], `task '${name}': args are only for handler tasks (a run task gets its input through env)`);
    ok = false;
  }
  if (r.success && r.data.handler !== undefined) {
    const argsProblem = builtinArgsProblem(r.data.handler, r.data.args ?? null);
    if (argsProblem !== null) {
      problems.add([...at, 'args'], argsProblem);
      ok = false;
    }
  }
  const deps = r.success ? (r.data.deps ?? []) : (depsSchema.safeParse(raw['deps'] ?? []).data ?? []);
  return { deps, data: ok && r.success ? r.data : null };
}

function buildTask(name: string, t: ParsedTask, d: ParsedDefaults): TaskSpec {
  const trigger = t.trigger ?? d.trigger ?? DEFAULT_TRIGGER;
  // A task's `on` replaces the defaults' (it does not add to it), as every other field does.
  const on = t.on ?? d.on;
  const pool = t.pool ?? d.pool;
  return {
    name,
    exec: t.run !== undefined ? { kind: 'run', command: t.run } : { kind: 'handler', name: t.handler as string, args: t.args ?? null },
    deps: t.deps ?? [],
    retries: t.retries ?? d.retries ?? TASK_DEFAULTS.retries,
    backoffMs: t.backoff ?? d.backoff ?? TASK_DEFAULTS.backoffMs,
    timeoutMs: t.timeout ?? d.timeout ?? TASK_DEFAULTS.timeoutMs,
    priority: t.priority ?? d.priority ?? TASK_DEFAULTS.priority,
    slots: t.slots ?? d.slots ?? TASK_DEFAULTS.slots,
    env: t.env ?? {},
    cwd: t.cwd ?? null,
    shards: t.shards ?? null,
    // The default is left out, so a DAG that names it and one that does not are the same job.
    ...(trigger === DEFAULT_TRIGGER ? {} : { trigger }),
    ...(on === undefined ? {} : { on }),
    ...(pool === undefined ? {} : { pool }),
  };
}

function orderedKeys(obj: Record<string, unknown>, order: readonly string[] | null): string[] {
  const keys = Object.keys(obj);
  if (order === null) return keys;
  const present = new Set(keys);
  const out: string[] = [];
  const taken = new Set<string>();
  for (const k of [...order, ...keys]) {
    if (present.has(k) && !taken.has(k)) {
      taken.add(k);
      out.push(k);
    }
  }
  return out;
}

/** zod's issues in the file's terms; `fieldsAt` names the fields an object at a path may have. */
function addIssues(
  problems: Problems,
  prefix: readonly PathKey[],
  issues: readonly z.core.$ZodIssue[],
  fieldsAt: (path: readonly PathKey[]) => readonly string[],
): void {
  for (const issue of issues) {
    const path = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
    if (issue.code === 'unrecognized_keys') {
      const fields = fieldsAt(path);
      for (const key of issue.keys) {
        problems.add([...prefix, ...path, key], `unknown field '${key}'${didYouMean(key, fields)}; expected one of: ${fields.join(', ')}`);
      }
    } else if (issue.code === 'invalid_type') {
      problems.add([...prefix, ...path], `must be ${issue.expected === 'object' ? 'a mapping' : issue.expected}, got ${show(issue.input)}`);
    } else {
      problems.add([...prefix, ...path], issue.message);
    }
  }
}
