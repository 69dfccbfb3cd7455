// Handler tasks (`handler: name` in a DAG) run a function registered in the node's own process
// instead of a shell command: no process to start, which is what makes them the benchmark's hot
// path. The built-ins, `noop` and `sleep`, exist for tests and benchmarks (docs/dag-file.md §8).
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Json } from '../scheduler/types.js';

export interface HandlerContext {
  /** The task's `args` from the DAG file. */
  readonly args: Json;
  /** Its upstream tasks' outputs by full task name, as $MESHRUN_INPUTS holds them (docs/task-environment.md §7). */
  readonly inputs: Readonly<Record<string, string>>;
  /** Aborted when the attempt times out or is stopped; whatever the handler does afterwards is ignored. */
  readonly signal: AbortSignal;
  /** The task's `env` plus the contract's MESHRUN_* variables (not the node's own environment). */
  readonly env: Readonly<Record<string, string>>;
  /** Appends a line to the attempt's log file and its stdout tail. */
  readonly log: (line: string) => void;
}

/**
 * Resolving with nothing means success, and resolving with a string is success with that output for
 * its dependents (at most 64 KiB, docs/task-environment.md §7); rejecting (or throwing) fails the
 * attempt with the error's message, and so does resolving with anything else (the executor checks:
 * `unknown` so that a handler typed `Promise<void>` or `Promise<string>` fits alike).
 */
export type Handler = (ctx: HandlerContext) => Promise<unknown>;

/** Names as they appear in DAG files and in gossip: short, and safe in a log line or a URL. */
const HANDLER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

export class HandlerRegistry {
  private readonly byName = new Map<string, Handler>();
  /** Cached: the executor hands it out with every heartbeat and gossip message. */
  private sortedNames: readonly string[] = [];

  register(name: string, handler: Handler): this {
    if (!HANDLER_NAME.test(name)) {
      throw new Error(`invalid handler name ${JSON.stringify(name)}: use a letter, then letters, digits, '_', '.' or '-' (64 at most)`);
    }
    if (this.byName.has(name)) throw new Error(`a handler named ${JSON.stringify(name)} is already registered`);
    this.byName.set(name, handler);
    this.sortedNames = [...this.byName.keys()].sort();
    return this;
  }

  get(name: string): Handler | undefined {
    return this.byName.get(name);
  }

  names(): readonly string[] {
    return this.sortedNames;
  }
}

const noop: Handler = () => Promise.resolve();

/** setTimeout's limit: a longer delay would fire at once. */
const MAX_SLEEP_MS = 2 ** 31 - 1;

const sleep: Handler = async ({ args, signal }) => {
  const ms = isRecord(args) ? args['ms'] : undefined;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_SLEEP_MS) {
    throw new Error(`sleep: args must be { ms: N } with N a number of milliseconds from 0 to ${MAX_SLEEP_MS}, got ${JSON.stringify(args)}`);
  }
  await sleepFor(ms, undefined, { signal });
};

function isRecord(value: Json): value is { readonly [k: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A fresh registry holding the built-ins; a node may register its own handlers next to them. */
export function builtinHandlers(): HandlerRegistry {
  return new HandlerRegistry().register('noop', noop).register('sleep', sleep);
}
