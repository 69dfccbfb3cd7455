// Full task names: a spec without shards is one task named like the spec; a spec with
// `shards: N` is N tasks `name[0]` .. `name[N-1]`. The worker puts this name in MESHRUN_TASK, the
// API keys job views by it, and `meshrun logs JOB TASK` takes it, so they all build it here.
import type { JobSpec } from './types.js';

export function taskName(specName: string, shard: number | null): string {
  return shard === null ? specName : `${specName}[${shard}]`;
}

const FULL_NAME = /^([A-Za-z0-9_.-]{1,128})(?:\[(0|[1-9]\d{0,15})\])?$/;

/** The inverse of taskName, or null when `full` is not a task name (shard numbers are canonical: no leading zeros). */
export function parseTaskName(full: string): { readonly spec: string; readonly shard: number | null } | null {
  const m = FULL_NAME.exec(full);
  if (!m) return null;
  const [, spec = '', shard] = m;
  if (shard === undefined) return { spec, shard: null };
  const n = Number(shard);
  return Number.isSafeInteger(n) ? { spec, shard: n } : null;
}

/** Tasks of a job once shards are expanded. */
export function taskCount(spec: JobSpec): number {
  let n = 0;
  for (const t of spec.tasks) n += t.shards ?? 1;
  return n;
}
