// Placement and limits (docs/dag-file.md §14): node labels and a task's `on:` constraint, pool
// names and sizes, a job's `concurrency`. The rules every side shares: the CLI's `--label`, the DAG
// file reader, the command codec and the state machine's re-check of a submit. Pure functions of
// their arguments.
import { fmt } from './dag-limits.js';
import type { Labels } from './types.js';

/** A label key: a letter or digit, then letters, digits, `_`, `.`, `-`, `/`; 1 to 63 characters. */
export const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,62}$/;
/** A label value: 1 to 63 letters, digits, `_`, `.`, `-`. */
export const LABEL_VALUE = /^[A-Za-z0-9_.-]{1,63}$/;
/** A pool name: as a label key. */
export const POOL_NAME = LABEL_KEY;

export const PLACEMENT_LIMITS = {
  /** Labels of one node, and entries of one task's `on`. */
  maxLabels: 32,
  maxKeyLength: 63,
  maxValueLength: 63,
  maxPoolNameLength: 63,
  /** A pool's size: 0 pauses the pool's tasks. */
  maxPoolSize: 10_000,
  /** Pools in the cluster. */
  maxPools: 1024,
  /** A job's `concurrency`. */
  maxConcurrency: 1_000_000,
} as const;

export function labelKeyProblem(key: string): string | null {
  if (LABEL_KEY.test(key)) return null;
  return `label key '${clip(key)}' must be 1 to ${PLACEMENT_LIMITS.maxKeyLength} letters, digits, '_', '.', '/' or '-', starting with a letter or digit`;
}

export function labelValueProblem(key: string, value: string): string | null {
  if (LABEL_VALUE.test(value)) return null;
  return `label ${clip(key)}: value '${clip(value)}' must be 1 to ${PLACEMENT_LIMITS.maxValueLength} letters, digits, '_', '.' or '-'`;
}

export function poolNameProblem(name: string): string | null {
  if (POOL_NAME.test(name)) return null;
  return `pool name '${clip(name)}' must be 1 to ${PLACEMENT_LIMITS.maxPoolNameLength} letters, digits, '_', '.', '/' or '-', starting with a letter or digit`;
}

export function poolSizeProblem(size: unknown): string | null {
  if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 && size <= PLACEMENT_LIMITS.maxPoolSize) return null;
  return `pool size must be an integer from 0 to ${fmt(PLACEMENT_LIMITS.maxPoolSize)}, got ${typeof size === 'number' ? String(size) : JSON.stringify(size)}`;
}

/** Every problem of a label set (a node's labels, a task's `on`), in key order. */
export function labelsProblems(labels: Labels): string[] {
  const out: string[] = [];
  const keys = Object.keys(labels);
  if (keys.length > PLACEMENT_LIMITS.maxLabels) out.push(`${keys.length} labels (at most ${PLACEMENT_LIMITS.maxLabels})`);
  for (const key of keys) {
    const k = labelKeyProblem(key);
    if (k !== null) out.push(k);
    const value = labels[key];
    const v = typeof value === 'string' ? labelValueProblem(key, value) : `label ${clip(key)}: value must be a string`;
    if (v !== null) out.push(v);
  }
  return out;
}

/**
 * `KEY=VALUE` as given to `meshrun node --label`: the pair, or the problem. The same key twice is
 * the caller's to refuse (see parseLabels).
 */
export function parseLabel(text: string): { key: string; value: string } | string {
  const eq = text.indexOf('=');
  if (eq < 0) return `--label ${clip(text)}: expected KEY=VALUE, like gpu=a100`;
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  return labelKeyProblem(key) ?? labelValueProblem(key, value) ?? { key, value };
}

/** Every `--label KEY=VALUE`, as one label set with sorted keys; or every problem. */
export function parseLabels(texts: readonly string[]): { ok: true; labels: Labels } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const pairs = new Map<string, string>();
  for (const text of texts) {
    const p = parseLabel(text);
    if (typeof p === 'string') problems.push(p);
    else if (pairs.has(p.key)) problems.push(`--label ${p.key} is given twice`);
    else pairs.set(p.key, p.value);
  }
  if (pairs.size > PLACEMENT_LIMITS.maxLabels) problems.push(`${pairs.size} labels (at most ${PLACEMENT_LIMITS.maxLabels})`);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, labels: sortedLabels([...pairs]) };
}

/** A label set with its keys in code-unit order: the one form the log, snapshots and views use. */
export function sortedLabels(pairs: Iterable<readonly [string, string]>): Labels {
  const sorted = [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  // fromEntries defines own properties, so a key like `__proto__` stays an ordinary key.
  return Object.fromEntries(sorted);
}

/** Whether a node with `labels` has every label `on` asks for. */
export function hasLabels(labels: Labels, on: Labels): boolean {
  for (const key of Object.keys(on)) if (!Object.hasOwn(labels, key) || labels[key] !== on[key]) return false;
  return true;
}

/** `gpu=a100,zone=eu`: how messages name a label set. */
export function formatLabels(labels: Labels): string {
  return Object.keys(labels)
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');
}

function clip(s: string): string {
  return s.length > 70 ? `${s.slice(0, 70)}...` : s;
}
