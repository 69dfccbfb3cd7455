// The JobSpec a `submit` carries, to and from its schema (JobSpec in src/proto/scheduler.proto):
// handler names once in a table, deps as the signed distance to the spec they name, handler
// arguments as JSON text, and a task's numbers only where they differ from the job's most common
// ones. A 10,000-task DAG must fit one Raft entry with room to spare.
//
// Decoding checks sizes, counts and table positions (so nothing oversized is built) but not the
// graph or ranges: the state machine runs checkJobSpec on every decoded submit.
import { at, known } from '../invariant.js';
import type { DecodeResult } from '../codec/binary.js';
import { CodecError } from '../codec/binary.js';
import { decodeFail as fail, decodeProto, encodeProto, readInt, readText, writeInt, writeText } from '../codec/proto.js';
import * as pb from '../proto/scheduler.js';
import { DAG_LIMITS as L } from './dag-limits.js';
import { labelsIn, labelsOut } from './placement-codec.js';
import { PLACEMENT_LIMITS } from './placement.js';
import type { TriggerRule } from './trigger-rules.js';
import type { Json, JobSpec, TaskExec, TaskSpec } from './types.js';
import { errorMessage } from '../errors.js';

const MAX = Number.MAX_SAFE_INTEGER;

/** Bounds on the lists of a JobSpec, for protons' decoder (it stops at the first element past one). */
export const JOB_SPEC_LIMITS = {
  handlers: L.maxSpecs,
  tasks: L.maxSpecs,
  tasks$: { deps: L.maxDepsPerSpec, depNames: L.maxDepsPerSpec, env: L.maxEnvVars, on: PLACEMENT_LIMITS.maxLabels },
} as const;

const TRIGGER_OUT: Readonly<Record<TriggerRule, pb.TriggerRule>> = {
  all_success: pb.TriggerRule.ALL_SUCCESS,
  all_done: pb.TriggerRule.ALL_DONE,
  all_failed: pb.TriggerRule.ALL_FAILED,
  one_success: pb.TriggerRule.ONE_SUCCESS,
  one_failed: pb.TriggerRule.ONE_FAILED,
  none_failed: pb.TriggerRule.NONE_FAILED,
};
const TRIGGER_IN: Readonly<Record<pb.TriggerRule, TriggerRule>> = {
  ALL_SUCCESS: 'all_success',
  ALL_DONE: 'all_done',
  ALL_FAILED: 'all_failed',
  ONE_SUCCESS: 'one_success',
  ONE_FAILED: 'one_failed',
  NONE_FAILED: 'none_failed',
};

/**
 * `spec` as its schema's message; throws a CodecError on what the decoder would refuse. A part's
 * tasks (`part`) may repeat a name: the state machine refuses that DAG at its last part, with the
 * words of checkJobSpec (staging.ts).
 */
export function jobSpecOut(spec: JobSpec, part = false): pb.JobSpec {
  const index = new Map<string, number>();
  const handlers = new Map<string, number>();
  spec.tasks.forEach((t, i) => {
    if (index.has(t.name) && !part) throw new CodecError(`task name '${t.name}' is used twice`);
    index.set(t.name, i);
    if (t.exec.kind === 'handler' && !handlers.has(t.exec.name)) handlers.set(t.exec.name, handlers.size);
  });
  for (const h of handlers.keys()) writeText(h, 'handler name', L.maxHandlerNameLength);
  for (const t of spec.tasks) {
    writeInt(t.retries, 'retries', MAX);
    writeInt(t.backoffMs, 'backoffMs', MAX);
    writeInt(t.timeoutMs, 'timeoutMs', MAX);
    priorityOut(t);
    writeInt(t.slots, 'slots', MAX);
  }
  const defaults: pb.TaskDefaults = {
    retries: mostCommon(spec.tasks, (t) => t.retries),
    backoffMs: mostCommon(spec.tasks, (t) => t.backoffMs),
    timeoutMs: mostCommon(spec.tasks, (t) => t.timeoutMs),
    priority: mostCommon(spec.tasks, (t) => t.priority),
    slots: mostCommon(spec.tasks, (t) => t.slots),
  };
  const out: pb.JobSpec = {
    name: writeText(spec.name, 'job name', L.maxJobNameBytes),
    retentionMs: writeInt(spec.retentionMs, 'retentionMs', MAX),
    handlers: [...handlers.keys()],
    tasks: spec.tasks.map((t, i) => taskOut(t, i, index, handlers, defaults)),
  };
  if (spec.tasks.length > 0) out.defaults = defaults;
  if (spec.timeoutMs !== undefined) out.timeoutMs = writeInt(spec.timeoutMs, 'timeoutMs', MAX);
  if (spec.concurrency !== undefined) out.concurrency = writeInt(spec.concurrency, 'concurrency', PLACEMENT_LIMITS.maxConcurrency);
  return out;
}

/** The value of `field` most tasks have (the first to get there on a tie); 0 with no tasks. */
function mostCommon(tasks: readonly TaskSpec[], field: (t: TaskSpec) => number): number {
  const counts = new Map<number, number>();
  let best = 0;
  let bestCount = 0;
  for (const t of tasks) {
    const v = field(t);
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

function taskOut(
  t: TaskSpec,
  i: number,
  index: Map<string, number>,
  handlers: Map<string, number>,
  defaults: pb.TaskDefaults,
): pb.TaskSpec {
  const out: pb.TaskSpec = {
    name: writeText(t.name, 'task name', L.maxTaskNameLength),
    depNames: [],
    deps: t.deps.map((d) => {
      const j = index.get(d);
      if (j === undefined || j === i) throw new CodecError(`task '${t.name}' depends on ${j === i ? 'itself' : `unknown task '${d}'`}`);
      return i - j;
    }),
    env: Object.entries(t.env).map(([name, value]) => ({
      name: writeText(name, 'env name', L.maxEnvKeyBytes),
      value: writeText(value, `env ${name}`, L.maxEnvValueBytes),
    })),
    on: t.on === undefined ? [] : labelsOut(t.on, `on of task '${t.name}'`),
  };
  if (t.pool !== undefined) out.pool = writeText(t.pool, `pool of task '${t.name}'`, PLACEMENT_LIMITS.maxPoolNameLength);
  if (t.exec.kind === 'run') out.run = writeText(t.exec.command, `command of task '${t.name}'`, L.maxRunBytes);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a spec built in JavaScript may carry another kind
  else if (t.exec.kind === 'handler') {
    out.handler = known(handlers.get(t.exec.name), 'the handler table lists every handler of the spec');
    if (t.exec.args !== null) out.args = writeText(argsJson(t.exec.args, t.name), `args of task '${t.name}'`, L.maxArgsBytes);
  } else throw new CodecError(`task '${t.name}' has an unknown exec kind ${String((t.exec as { kind: unknown }).kind)}`);
  if (t.retries !== defaults.retries) out.retries = t.retries;
  if (t.backoffMs !== defaults.backoffMs) out.backoffMs = t.backoffMs;
  if (t.timeoutMs !== defaults.timeoutMs) out.timeoutMs = t.timeoutMs;
  if (t.priority !== defaults.priority) out.priority = t.priority;
  if (t.slots !== defaults.slots) out.slots = t.slots;
  if (t.cwd !== null) out.cwd = writeText(t.cwd, 'cwd', L.maxCwdBytes);
  if (t.shards !== null) out.shards = writeInt(t.shards, 'shards', MAX);
  if (t.trigger !== undefined && t.trigger !== 'all_success') {
    const rule = TRIGGER_OUT[t.trigger];
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a spec given to the encoder unchecked may name any rule
    if (rule === undefined) throw new CodecError(`task '${t.name}' has an unknown trigger rule ${JSON.stringify(t.trigger)}`);
    out.trigger = rule;
  }
  return out;
}

/** Priorities up to 2^52 in magnitude: their zigzag form (twice that) is still a safe integer. */
function priorityOut(t: TaskSpec): number {
  const p = t.priority;
  if (!Number.isSafeInteger(p) || Math.abs(p) > MAX / 2)
    throw new CodecError(`priority ${String(p)} of task '${t.name}' is not an integer in range`);
  return p;
}

function argsJson(args: Json, task: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(args);
  } catch (err) {
    throw new CodecError(`args of task '${task}' are not JSON: ${errorMessage(err)}`);
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify returns undefined for a function, whatever its type says
  if (s === undefined) throw new CodecError(`args of task '${task}' are not JSON`);
  return s;
}

/** The decoded message as a JobSpec; throws (codec/proto's `fail`) naming the problem. */
export function jobSpecIn(p: pb.JobSpec): JobSpec {
  const name = readText(p.name, 'job name', L.maxJobNameBytes);
  const retentionMs = readInt(p.retentionMs, 'retentionMs', MAX);
  for (const h of p.handlers) readText(h, 'handler name', L.maxHandlerNameLength);
  const n = p.tasks.length;
  // Deps may name later specs, so they are resolved to names once all names are known.
  const names = p.tasks.map((t) => readText(t.name, 'task name', L.maxTaskNameLength));
  const d = p.defaults ?? { retries: 0, backoffMs: 0, timeoutMs: 0, priority: 0, slots: 0 };
  const defaults: pb.TaskDefaults = {
    retries: readInt(d.retries, 'default retries', MAX),
    backoffMs: readInt(d.backoffMs, 'default backoffMs', MAX),
    timeoutMs: readInt(d.timeoutMs, 'default timeoutMs', MAX),
    priority: readInt(d.priority, 'default priority', MAX, -MAX),
    slots: readInt(d.slots, 'default slots', MAX),
  };
  const tasks = p.tasks.map((t, i) => {
    if (t.depNames.length > 0) fail(`task ${i} names its deps (only a part of a big submit does)`);
    return taskIn(t, i, n, p.handlers, names, defaults);
  });
  return {
    name,
    retentionMs,
    tasks,
    ...(p.timeoutMs === undefined ? {} : { timeoutMs: readInt(p.timeoutMs, 'job timeoutMs', MAX) }),
    ...(p.concurrency === undefined ? {} : { concurrency: readInt(p.concurrency, 'concurrency', PLACEMENT_LIMITS.maxConcurrency) }),
  };
}

function taskIn(
  t: pb.TaskSpec,
  i: number,
  n: number,
  handlers: readonly string[],
  names: readonly string[],
  defaults: pb.TaskDefaults,
): TaskSpec {
  let exec: TaskExec;
  if (t.handler !== undefined) {
    if (t.run !== undefined) fail(`task ${i} has both a command and a handler`);
    const handler = handlers[t.handler];
    if (handler === undefined) fail(`handler index ${t.handler} of task ${i} is not in the table of ${handlers.length}`);
    let args: Json = null;
    if (t.args !== undefined) {
      try {
        args = JSON.parse(readText(t.args, 'args', L.maxArgsBytes)) as Json;
      } catch (err) {
        if (err instanceof SyntaxError) fail(`args of task ${i} are not valid JSON`);
        throw err;
      }
      // null args are left out; one form per value keeps encodings comparable.
      if (args === null) fail(`args of task ${i} are null but present`);
    }
    exec = { kind: 'handler', name: handler, args };
  } else {
    if (t.run === undefined) fail(`task ${i} has neither a command nor a handler`);
    if (t.args !== undefined) fail(`task ${i} has args but runs a command`);
    exec = { kind: 'run', command: readText(t.run, 'command', L.maxRunBytes) };
  }
  const deps = t.deps.map((d) => {
    const j = i - d;
    if (j < 0 || j >= n || j === i) fail(`a dep of task ${i} points to spec ${j} (the job has ${n})`);
    return at(names, j, 'checked just above');
  });
  const seen = new Set<string>();
  const env: [string, string][] = [];
  for (const v of t.env) {
    readText(v.name, 'env name', L.maxEnvKeyBytes);
    if (seen.has(v.name)) fail(`env name ${JSON.stringify(v.name)} of task ${i} appears twice`);
    seen.add(v.name);
    env.push([v.name, readText(v.value, 'env value', L.maxEnvValueBytes)]);
  }
  if (t.trigger === pb.TriggerRule.ALL_SUCCESS) fail(`task ${i} spells out the default trigger rule all_success`);
  const trigger = t.trigger === undefined ? undefined : TRIGGER_IN[t.trigger];
  return {
    name: at(names, i, 'one name per task'),
    exec,
    deps,
    retries: t.retries === undefined ? defaults.retries : readInt(t.retries, 'retries', MAX),
    backoffMs: t.backoffMs === undefined ? defaults.backoffMs : readInt(t.backoffMs, 'backoffMs', MAX),
    timeoutMs: t.timeoutMs === undefined ? defaults.timeoutMs : readInt(t.timeoutMs, 'timeoutMs', MAX),
    priority: t.priority === undefined ? defaults.priority : readInt(t.priority, 'priority', MAX, -MAX),
    slots: t.slots === undefined ? defaults.slots : readInt(t.slots, 'slots', MAX),
    // fromEntries defines own properties: a key like `__proto__` stays an ordinary key.
    env: Object.fromEntries(env),
    cwd: t.cwd === undefined ? null : readText(t.cwd, 'cwd', L.maxCwdBytes),
    shards: t.shards === undefined ? null : readInt(t.shards, 'shards', MAX),
    ...(trigger === undefined ? {} : { trigger }),
    ...(t.on.length === 0 ? {} : { on: labelsIn(t.on, `on of task ${i}`) }),
    ...(t.pool === undefined ? {} : { pool: readText(t.pool, 'pool', PLACEMENT_LIMITS.maxPoolNameLength) }),
  };
}

/**
 * A slice of a big DAG's tasks under the job's header (a SubmitPart's spec, and the staged tasks
 * of a snapshot): each task's deps by name (`dep_names`), for they may be in another slice.
 */
export function partSpecOut(spec: JobSpec): pb.JobSpec {
  const out = jobSpecOut({ ...spec, tasks: spec.tasks.map((t) => (t.deps.length === 0 ? t : { ...t, deps: [] })) }, true);
  spec.tasks.forEach((t, i) => {
    if (t.deps.length === 0) return;
    for (const d of t.deps) writeText(d, `dep of task '${t.name}'`, L.maxTaskNameLength);
    at(out.tasks, i, 'one message per task').depNames = [...t.deps];
  });
  return out;
}

/** partSpecOut's message as a JobSpec whose deps are names, maybe of tasks it does not hold. */
export function partSpecIn(p: pb.JobSpec): JobSpec {
  const depNames = p.tasks.map((t, i) => {
    if (t.deps.length > 0) fail(`task ${i} of a part has deps by distance (a part names them)`);
    return t.depNames.map((d) => readText(d, 'dep name', L.maxTaskNameLength));
  });
  const spec = jobSpecIn({ ...p, tasks: p.tasks.map((t) => (t.depNames.length === 0 ? t : { ...t, depNames: [] })) });
  return { ...spec, tasks: spec.tasks.map((t, i) => ({ ...t, deps: at(depNames, i, 'one list per task') })) };
}

export function encodePartSpec(spec: JobSpec): Uint8Array {
  return encodeProto(pb.JobSpec.codec(), partSpecOut(spec), 64 + spec.tasks.length * 48);
}

export function decodePartSpec(bytes: Uint8Array): DecodeResult<JobSpec> {
  return decodeProto(pb.JobSpec.codec(), bytes, 'staged job spec', partSpecIn, { limits: JOB_SPEC_LIMITS });
}

/** A JobSpec on its own (the scheduler's snapshot keeps each job's spec this way). */
export function encodeJobSpec(spec: JobSpec): Uint8Array {
  return encodeProto(pb.JobSpec.codec(), jobSpecOut(spec), 64 + spec.tasks.length * 32);
}

export function decodeJobSpec(bytes: Uint8Array): DecodeResult<JobSpec> {
  return decodeProto(pb.JobSpec.codec(), bytes, 'job spec', jobSpecIn, { limits: JOB_SPEC_LIMITS });
}
