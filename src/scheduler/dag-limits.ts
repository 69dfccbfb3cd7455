// The bounds a job must stay within, shared by the DAG file reader (normalizeDag), the state
// machine's re-check of a decoded submit (checkJobSpec) and the command codec. They keep one
// submit from bloating every replica's memory and snapshot, and keep names usable in paths,
// environment variables and log files.
import { MAX_BACKOFF_MS, type Ms } from './types.js';

const DAY: Ms = 24 * 3_600_000;

export const DAG_LIMITS = {
  /** UTF-8 bytes of a DAG file (the API's body limit is the same 8 MiB). */
  maxFileBytes: 8 << 20,
  /** Entries of `tasks` in one job. */
  maxSpecs: 50_000,
  /** Tasks in one job once shards are expanded (docs/dag-file.md §10: the scale target is a 1,000,000-task DAG). */
  maxTasks: 1_000_000,
  maxShards: 1_000_000,
  /** `deps` entries of one spec, and of the whole job. */
  maxDepsPerSpec: 10_000,
  maxDeps: 1_000_000,
  /** Characters of a task name (ASCII only, see TASK_NAME). */
  maxTaskNameLength: 128,
  /** UTF-8 bytes of the job's name, a `run` command, handler arguments as JSON, `cwd`. */
  maxJobNameBytes: 256,
  maxRunBytes: 65_536,
  maxArgsBytes: 65_536,
  maxCwdBytes: 4096,
  /** Characters of a handler name (ASCII only, see HANDLER_NAME). */
  maxHandlerNameLength: 128,
  maxEnvVars: 256,
  maxEnvKeyBytes: 256,
  maxEnvValueBytes: 32_768,
  /** All keys and values of one spec's `env` together. */
  maxEnvBytes: 65_536,
  minPriority: -1_000_000,
  maxPriority: 1_000_000,
  maxSlots: 1024,
  maxRetries: 100,
  /** A timeout of 0 would kill every attempt at once, so the smallest is 1 ms. */
  minTimeoutMs: 1,
  maxTimeoutMs: 30 * DAY,
  /** Backoff doubles per retry up to MAX_BACKOFF_MS, so a larger start would be silently cut. */
  maxBackoffMs: MAX_BACKOFF_MS,
  maxRetentionMs: 365 * DAY,
  /** A job's own timeout: from 1 ms to 365 days. */
  maxJobTimeoutMs: 365 * DAY,
} as const;

/** No brackets: shard `i` of spec `name` is called `name[i]`. */
export const TASK_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
export const HANDLER_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;
export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The scheduler sets these itself (docs/task-environment.md §2). */
export const RESERVED_ENV_PREFIX = 'MESHRUN_';

/** At most this many problems are listed in one error; the rest are counted. */
export const MAX_REPORTED_PROBLEMS = 50;

/** UTF-8 length of a string, counting a lone surrogate as the 3 bytes of U+FFFD it is encoded as. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** True when the string holds a NUL, which no command line, path or environment value can carry. */
export function hasNul(s: string): boolean {
  return s.includes('\0');
}

/** `1,000,000`: limits in messages are easier to read with separators. */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
