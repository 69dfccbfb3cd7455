// The field rules of a job spec that both the DAG file front end (src/dag) and the state
// machine's re-check of a decoded submit (checkJobSpec, dag-check.ts) apply: task and environment
// variable names, JSON handler arguments, built-in handlers' arguments. Plain functions of the
// value, no zod: every replica runs them on apply.
import { DAG_LIMITS as L, ENV_KEY, RESERVED_ENV_PREFIX, TASK_NAME, fmt } from './dag-limits.js';
import { show, type PathKey } from './problems.js';
import type { Json } from './types.js';

/** Reports a problem with a value, at a path below it. */
export type Report = (message: string, path?: readonly PathKey[]) => void;

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function taskNameProblem(name: string): string | null {
  if (TASK_NAME.test(name)) return null;
  return `task name '${name}' must be 1 to ${L.maxTaskNameLength} letters, digits, '_', '.' or '-'`;
}

export function envProblem(key: string): string | null {
  // The codec refuses longer names, so a file that passed here would fail at submit.
  if (key.length > L.maxEnvKeyBytes)
    return `environment variable name '${key.slice(0, 40)}...' is ${fmt(key.length)} characters (at most ${fmt(L.maxEnvKeyBytes)})`;
  if (!ENV_KEY.test(key)) return `environment variable name '${key}' must be letters, digits and '_', not starting with a digit`;
  if (key.startsWith(RESERVED_ENV_PREFIX)) return `environment variable '${key}' is reserved: meshrun sets ${RESERVED_ENV_PREFIX}* itself`;
  return null;
}

/** Handler arguments: JSON values only (YAML's .nan and .inf are not), nested at most this deep. */
const MAX_ARGS_DEPTH = 64;

/** Reports each reason `v` is not a JSON value, at its path. */
export function jsonProblem(v: unknown, depth: number, path: PathKey[], bad: Report): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) bad(`${String(v)} is not a JSON number`, path);
    return;
  }
  if (depth >= MAX_ARGS_DEPTH) {
    bad(`nested more than ${MAX_ARGS_DEPTH} levels deep`, path);
    return;
  }
  if (Array.isArray(v)) v.forEach((x: unknown, i) => jsonProblem(x, depth + 1, [...path, i], bad));
  else if (isMapping(v)) for (const k of Object.keys(v)) jsonProblem(v[k], depth + 1, [...path, k], bad);
  else bad(`${show(v)} is not a JSON value`, path);
}

/** Built-in handlers whose arguments the file can be checked against (docs/dag-file.md §8). */
export function builtinArgsProblem(handler: string, value: Json): string | null {
  if (handler !== 'sleep') return null;
  const ms = isMapping(value) ? value['ms'] : undefined;
  if (typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= 0) return null;
  const got = JSON.stringify(value);
  return `handler 'sleep' takes { ms: N } with N a whole number of milliseconds >= 0, got ${got.length > 60 ? `${got.slice(0, 60)}...` : got}`;
}

/** The first reason `v` is not a JSON value (for checkJobSpec, which reads no file), or null. */
export function jsonValueProblem(v: unknown): string | null {
  let first: string | null = null;
  jsonProblem(v, 0, [], (m, path = []) => {
    first ??= path.length === 0 ? m : `at ${path.map((k) => `[${JSON.stringify(k)}]`).join('')}: ${m}`;
  });
  return first;
}
