// The binary form of a JobSpec inside a `submit` command. A 10,000-task DAG must fit one Raft
// entry with room to spare, so the layout is compact: handler names once in a table, deps as
// the signed distance to the spec they name (a chain's dep is one byte), numbers as varints,
// optional fields behind a flags byte, handler arguments as JSON text.
//
//   name, retentionMs, handler table (count, names), spec count, then per spec:
//   name, flags, exec (command | handler index [args JSON]), dep count, dep distances,
//   retries, backoffMs, timeoutMs, priority (zigzag), slots, [env count, key, value...], [cwd], [shards]
//
// Decoding checks sizes and indices (so nothing oversized is built) but not the graph or ranges:
// the state machine runs checkJobSpec on every decoded submit.
import { errorMessage } from '../errors.js';
import { CodecError, type Reader, type Writer } from '../raft/codec.js';
import { DAG_LIMITS as L } from './dag-limits.js';
import type { Json, JobSpec, TaskExec, TaskSpec } from './types.js';

const FLAG_HANDLER = 1;
const FLAG_ARGS = 2;
const FLAG_ENV = 4;
const FLAG_CWD = 8;
const FLAG_SHARDS = 16;
const KNOWN_FLAGS = FLAG_HANDLER | FLAG_ARGS | FLAG_ENV | FLAG_CWD | FLAG_SHARDS;

/** Fewest bytes a spec can take (name, flags, exec, dep count, five numbers): bounds the spec count. */
const MIN_SPEC_BYTES = 2 + 1 + 1 + 1 + 5;

/** Signed integers as unsigned varints: 0, -1, 1, -2 ... become 0, 1, 2, 3 ... */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Writes `spec`; `checkSize` is called after each task so an oversized job stops early. */
export function writeJobSpec(w: Writer, spec: JobSpec, checkSize: (done: number) => void): void {
  text(w, spec.name, L.maxJobNameBytes, 'job name');
  w.varint(spec.retentionMs, 'retentionMs');
  const index = new Map<string, number>();
  const handlers = new Map<string, number>();
  spec.tasks.forEach((t, i) => {
    if (index.has(t.name)) throw new CodecError(`task name '${t.name}' is used twice`);
    index.set(t.name, i);
    if (t.exec.kind === 'handler' && !handlers.has(t.exec.name)) handlers.set(t.exec.name, handlers.size);
  });
  w.varint(handlers.size, 'handler count');
  for (const h of handlers.keys()) text(w, h, L.maxHandlerNameLength, 'handler name');
  w.varint(spec.tasks.length, 'task count');
  spec.tasks.forEach((t, i) => {
    writeTask(w, t, i, index, handlers);
    checkSize(i + 1);
  });
}

function writeTask(w: Writer, t: TaskSpec, i: number, index: Map<string, number>, handlers: Map<string, number>): void {
  text(w, t.name, L.maxTaskNameLength, 'task name');
  const envKeys = Object.keys(t.env);
  let flags = 0;
  if (t.exec.kind === 'handler') flags |= FLAG_HANDLER | (t.exec.args === null ? 0 : FLAG_ARGS);
  else if (t.exec.kind !== 'run') throw new CodecError(`task '${t.name}' has an unknown exec kind ${String((t.exec as { kind: unknown }).kind)}`);
  if (envKeys.length > 0) flags |= FLAG_ENV;
  if (t.cwd !== null) flags |= FLAG_CWD;
  if (t.shards !== null) flags |= FLAG_SHARDS;
  w.u8(flags);
  if (t.exec.kind === 'run') text(w, t.exec.command, L.maxRunBytes, `command of task '${t.name}'`);
  else {
    w.varint(handlers.get(t.exec.name) as number, 'handler index');
    if (t.exec.args !== null) text(w, argsJson(t.exec.args, t.name), L.maxArgsBytes, `args of task '${t.name}'`);
  }
  w.varint(t.deps.length, 'dep count');
  for (const d of t.deps) {
    const j = index.get(d);
    if (j === undefined || j === i) throw new CodecError(`task '${t.name}' depends on ${j === i ? 'itself' : `unknown task '${d}'`}`);
    w.varint(zigzag(i - j), 'dep distance');
  }
  w.varint(t.retries, 'retries');
  w.varint(t.backoffMs, 'backoffMs');
  w.varint(t.timeoutMs, 'timeoutMs');
  if (!Number.isSafeInteger(t.priority) || Math.abs(t.priority) > Number.MAX_SAFE_INTEGER / 2) {
    throw new CodecError(`priority ${String(t.priority)} of task '${t.name}' is not an integer in range`);
  }
  w.varint(zigzag(t.priority), 'priority');
  w.varint(t.slots, 'slots');
  if (flags & FLAG_ENV) {
    w.varint(envKeys.length, 'env count');
    for (const k of envKeys) {
      text(w, k, L.maxEnvKeyBytes, 'env name');
      text(w, t.env[k] as string, L.maxEnvValueBytes, `env ${k}`);
    }
  }
  if (t.cwd !== null) text(w, t.cwd, L.maxCwdBytes, 'cwd');
  if (t.shards !== null) w.varint(t.shards, 'shards');
}

function argsJson(args: Json, task: string): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(args);
  } catch (err) {
    throw new CodecError(`args of task '${task}' are not JSON: ${errorMessage(err)}`);
  }
  if (s === undefined) throw new CodecError(`args of task '${task}' are not JSON`);
  return s;
}

/** A string the decoder will accept: at most `maxBytes` of UTF-8. */
export function text(w: Writer, s: string, maxBytes: number, what: string): void {
  if (typeof s !== 'string') throw new CodecError(`${what} must be a string`);
  const n = w.string(s);
  if (n > maxBytes) throw new CodecError(`${what} is ${n} bytes (at most ${maxBytes})`);
}

export function readJobSpec(r: Reader): JobSpec {
  const name = r.string('job name', L.maxJobNameBytes);
  const retentionMs = r.varint('retentionMs');
  const handlerCount = r.count('handler count', 2);
  if (handlerCount > L.maxSpecs) r.fail(`${handlerCount} handler names (at most ${L.maxSpecs})`);
  const handlers = new Array<string>(handlerCount);
  for (let h = 0; h < handlerCount; h++) handlers[h] = r.string('handler name', L.maxHandlerNameLength);
  const at = r.pos;
  const n = r.count('task count', MIN_SPEC_BYTES);
  if (n > L.maxSpecs) r.fail(`task count ${n} at byte ${at} is over the limit of ${L.maxSpecs}`);
  // Deps may name later specs, so they are resolved to names once all names are known.
  const names = new Array<string>(n);
  const depIndexes = new Array<number[]>(n);
  const partial = new Array<Omit<TaskSpec, 'deps'>>(n);
  for (let i = 0; i < n; i++) {
    const deps: number[] = [];
    partial[i] = readTask(r, i, n, handlers, deps);
    names[i] = partial[i].name;
    depIndexes[i] = deps;
  }
  const tasks = partial.map((t, i): TaskSpec => ({ ...t, deps: (depIndexes[i] as number[]).map((j) => names[j] as string) }));
  return { name, retentionMs, tasks };
}

function readTask(r: Reader, i: number, n: number, handlers: readonly string[], deps: number[]): Omit<TaskSpec, 'deps'> {
  const name = r.string('task name', L.maxTaskNameLength);
  const flagsAt = r.pos;
  const flags = r.u8('task flags');
  if ((flags & ~KNOWN_FLAGS) !== 0) r.fail(`unknown task flags 0x${flags.toString(16)} at byte ${flagsAt}`);
  let exec: TaskExec;
  if (flags & FLAG_HANDLER) {
    const hAt = r.pos;
    const h = r.varint('handler index');
    const handler = handlers[h];
    if (handler === undefined) r.fail(`handler index ${h} at byte ${hAt} is not in the table of ${handlers.length}`);
    let args: Json = null;
    if (flags & FLAG_ARGS) {
      const argsAt = r.pos;
      const json = r.string('args', L.maxArgsBytes);
      try {
        args = JSON.parse(json) as Json;
      } catch {
        r.fail(`args of task ${i} at byte ${argsAt} are not valid JSON`);
      }
      // null args are written as a cleared flag; one form per value keeps encodings comparable.
      if (args === null) r.fail(`args of task ${i} at byte ${argsAt} are null but flagged as present`);
    }
    exec = { kind: 'handler', name: handler, args };
  } else {
    if (flags & FLAG_ARGS) r.fail(`task ${i} has args but runs a command (flags at byte ${flagsAt})`);
    exec = { kind: 'run', command: r.string('command', L.maxRunBytes) };
  }
  const depCountAt = r.pos;
  const depCount = r.count('dep count', 1);
  if (depCount > L.maxDepsPerSpec) r.fail(`dep count ${depCount} at byte ${depCountAt} is over the limit of ${L.maxDepsPerSpec}`);
  for (let k = 0; k < depCount; k++) {
    const dAt = r.pos;
    const j = i - unzigzag(r.varint('dep distance'));
    if (j < 0 || j >= n || j === i) r.fail(`dep at byte ${dAt} of task ${i} points to spec ${j} (the job has ${n})`);
    deps.push(j);
  }
  const retries = r.varint('retries');
  const backoffMs = r.varint('backoffMs');
  const timeoutMs = r.varint('timeoutMs');
  const priority = unzigzag(r.varint('priority'));
  const slots = r.varint('slots');
  const env = flags & FLAG_ENV ? readEnv(r) : {};
  const cwd = flags & FLAG_CWD ? r.string('cwd', L.maxCwdBytes) : null;
  const shards = flags & FLAG_SHARDS ? r.varint('shards') : null;
  return { name, exec, retries, backoffMs, timeoutMs, priority, slots, env, cwd, shards };
}

function readEnv(r: Reader): Record<string, string> {
  const at = r.pos;
  const count = r.count('env count', 2);
  if (count === 0) r.fail(`env at byte ${at} is flagged as present but empty`);
  if (count > L.maxEnvVars) r.fail(`env count ${count} at byte ${at} is over the limit of ${L.maxEnvVars}`);
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  for (let k = 0; k < count; k++) {
    const keyAt = r.pos;
    const key = r.string('env name', L.maxEnvKeyBytes);
    if (seen.has(key)) r.fail(`env name ${JSON.stringify(key)} at byte ${keyAt} appears twice`);
    seen.add(key);
    entries.push([key, r.string('env value', L.maxEnvValueBytes)]);
  }
  // fromEntries defines own properties: a key like `__proto__` stays an ordinary key.
  return Object.fromEntries(entries);
}
