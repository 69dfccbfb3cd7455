// The scheduler's commands as bytes in the replicated log (inside the node envelope's `app`
// kind). The first byte names the command and its layout; these bytes live in the log forever,
// so a layout never changes: a new one gets a new kind byte.
//
// Claims and finishes are the hot path (thousands per second), so they carry job ids once in a
// small table and refer to it by index (no index at all when there is one job), and a finish
// result spends one head byte on its outcome and on which optional fields follow: a result of a
// handler with empty output is about a dozen bytes.
//
// decodeCommand never throws; it checks sizes, counts, enum values and indices, so what decodes
// is safe to hold. The graph and ranges of a submitted JobSpec are left to checkJobSpec, which
// the state machine runs on every submit.
import { errorMessage } from '../errors.js';
import { CodecError, Reader, Writer, type DecodeResult } from '../raft/codec.js';
import { DAG_LIMITS, fmt } from './dag-limits.js';
import { readJobSpec, text, unzigzag, writeJobSpec, zigzag } from './job-spec-codec.js';
import { TAIL_BYTES, type Command, type FinishItem, type FinishOutcome, type TaskRef } from './types.js';

const KIND = { submit: 1, claim: 2, heartbeat: 3, finish: 4, cancel: 5, tick: 6 } as const satisfies Record<Command['type'], number>;
/** A finish that also claims tasks: the finish layout, then the claims as a claim command lists them. */
const KIND_FINISH_CLAIM = 7;

/**
 * Largest encoded command: Raft's largest proposal (1 MiB) less room for the node envelope and
 * the entry around it.
 */
export const MAX_COMMAND_BYTES = (1 << 20) - 4096;
export const MAX_JOB_ID_BYTES = 128;
export const MAX_IDEMPOTENCY_KEY_BYTES = 256;
export const MAX_NODE_ID_BYTES = 256;
export const MAX_HANDLER_NAME_BYTES = DAG_LIMITS.maxHandlerNameLength;
/** Handler names one heartbeat may list. */
export const MAX_HANDLERS = 1024;
/** Distinct jobs in one claim or finish. */
export const MAX_JOBS_PER_BATCH = 4096;

/** An encoded command would not fit one Raft entry; the API answers 400 with the message. */
export class CommandTooLargeError extends CodecError {
  constructor(
    message: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(message);
  }
}

const OUTCOMES: readonly FinishOutcome[] = ['succeeded', 'failed', 'timeout'];
const OUTCOME_CODE: Readonly<Record<FinishOutcome, number>> = { succeeded: 0, failed: 1, timeout: 2 };
/** Finish result head byte: the outcome in the low 2 bits, then which optional fields follow. */
const HEAD_OUTCOME = 3;
const HEAD_EXIT = 4;
const HEAD_STDOUT = 8;
const HEAD_STDERR = 16;
const HEAD_KNOWN = HEAD_OUTCOME | HEAD_EXIT | HEAD_STDOUT | HEAD_STDERR;
/** Exit codes are 32-bit on every platform Node runs on (negative on Windows). */
const MIN_EXIT = -(2 ** 31);
const MAX_EXIT = 2 ** 32 - 1;

export function encodeCommand(cmd: Command): Uint8Array {
  let w: Writer;
  switch (cmd.type) {
    case 'submit':
      w = encodeSubmit(cmd);
      break;
    case 'claim':
      w = new Writer(24 + cmd.node.length + cmd.tasks.length * 4);
      w.u8(KIND.claim);
      nodeAndBoot(w, cmd.node, cmd.boot);
      refs(w, cmd.tasks, () => undefined);
      break;
    case 'heartbeat':
      w = new Writer(40 + cmd.node.length + cmd.handlers.reduce((n, h) => n + h.length + 2, 0));
      w.u8(KIND.heartbeat);
      nodeAndBoot(w, cmd.node, cmd.boot);
      w.varint(cmd.slots, 'slots');
      w.varint(cmd.handlers.length, 'handler count');
      if (cmd.handlers.length > MAX_HANDLERS) throw new CodecError(`${cmd.handlers.length} handlers (at most ${MAX_HANDLERS})`);
      for (const h of cmd.handlers) nonEmpty(w, h, MAX_HANDLER_NAME_BYTES, 'handler name');
      w.varint(cmd.leaseMs, 'leaseMs');
      w.varint(cmd.seq, 'seq');
      break;
    case 'finish': {
      const claims = cmd.claims ?? [];
      w = new Writer(32 + cmd.node.length + cmd.results.reduce((n, f) => n + 12 + f.stdout.length + f.stderr.length, 0) + claims.length * 4);
      w.u8(claims.length > 0 ? KIND_FINISH_CLAIM : KIND.finish);
      nodeAndBoot(w, cmd.node, cmd.boot);
      w.bool(cmd.claimNext);
      refs(w, cmd.results, (f) => writeResult(w, f));
      if (claims.length > 0) refs(w, claims, () => undefined);
      break;
    }
    case 'cancel':
      w = new Writer(8 + cmd.job.length * 3);
      w.u8(KIND.cancel);
      nonEmpty(w, cmd.job, MAX_JOB_ID_BYTES, 'job id');
      break;
    case 'tick':
      w = new Writer(1);
      w.u8(KIND.tick);
      break;
    default:
      throw new CodecError(`unknown command type ${String((cmd as { type: unknown }).type)}`);
  }
  if (w.length > MAX_COMMAND_BYTES) {
    throw new CommandTooLargeError(`${cmd.type} command is ${fmt(w.length)} bytes (at most ${fmt(MAX_COMMAND_BYTES)})`, w.length, MAX_COMMAND_BYTES);
  }
  // A copy of exactly the bytes: the writer's buffer has slack the caller should not keep alive.
  return w.finish().slice();
}

function encodeSubmit(cmd: Extract<Command, { type: 'submit' }>): Writer {
  const w = new Writer(64 + cmd.spec.tasks.length * 24);
  w.u8(KIND.submit);
  nonEmpty(w, cmd.id, MAX_JOB_ID_BYTES, 'job id');
  w.bool(cmd.key !== null);
  if (cmd.key !== null) text(w, cmd.key, MAX_IDEMPOTENCY_KEY_BYTES, 'idempotency key');
  const total = cmd.spec.tasks.length;
  writeJobSpec(w, cmd.spec, (done) => {
    if (w.length <= MAX_COMMAND_BYTES) return;
    throw new CommandTooLargeError(
      `job '${cmd.spec.name}' is too large to submit: its first ${fmt(done)} of ${fmt(total)} tasks already take ${fmt(w.length)} bytes ` +
        `and one Raft entry holds at most ${fmt(MAX_COMMAND_BYTES)}; use shards for many similar tasks, or split the job`,
      w.length,
      MAX_COMMAND_BYTES,
    );
  });
  return w;
}

function nodeAndBoot(w: Writer, node: string, boot: number): void {
  nonEmpty(w, node, MAX_NODE_ID_BYTES, 'node id');
  w.varint(boot, 'boot');
}

function nonEmpty(w: Writer, s: string, maxBytes: number, what: string): void {
  if (s === '') throw new CodecError(`${what} is empty`);
  text(w, s, maxBytes, what);
}

/** Job table, then each item's job index (omitted with one job), task number and `rest`. */
function refs<T extends TaskRef>(w: Writer, items: readonly T[], rest: (item: T) => void): void {
  const jobs = new Map<string, number>();
  for (const it of items) if (!jobs.has(it.job)) jobs.set(it.job, jobs.size);
  if (jobs.size > MAX_JOBS_PER_BATCH) throw new CodecError(`${jobs.size} jobs in one batch (at most ${MAX_JOBS_PER_BATCH})`);
  w.varint(jobs.size, 'job count');
  for (const j of jobs.keys()) nonEmpty(w, j, MAX_JOB_ID_BYTES, 'job id');
  w.varint(items.length, 'item count');
  const indexed = jobs.size > 1;
  for (const it of items) {
    if (indexed) w.varint(jobs.get(it.job) as number, 'job index');
    if (!(it.task < DAG_LIMITS.maxTasks)) throw new CodecError(`task ${String(it.task)} is not a task number below ${DAG_LIMITS.maxTasks}`);
    w.varint(it.task, 'task');
    rest(it);
  }
}

function writeResult(w: Writer, f: FinishItem): void {
  w.varint(f.attempt, 'attempt');
  const outcome = OUTCOME_CODE[f.outcome];
  if (outcome === undefined) throw new CodecError(`unknown finish outcome ${String(f.outcome)}`);
  const exit = f.exitCode;
  if (exit !== null && !(Number.isInteger(exit) && exit >= MIN_EXIT && exit <= MAX_EXIT)) {
    throw new CodecError(`exit code ${String(exit)} is not a 32-bit integer`);
  }
  w.u8(outcome | (exit !== null ? HEAD_EXIT : 0) | (f.stdout !== '' ? HEAD_STDOUT : 0) | (f.stderr !== '' ? HEAD_STDERR : 0));
  if (exit !== null) w.varint(zigzag(exit), 'exit code');
  w.varint(f.durationMs, 'durationMs');
  if (f.stdout !== '') text(w, f.stdout, TAIL_BYTES, 'stdout tail');
  if (f.stderr !== '') text(w, f.stderr, TAIL_BYTES, 'stderr tail');
}

export function decodeCommand(bytes: Uint8Array): DecodeResult<Command> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: 'command: input is not a Uint8Array' };
  // encodeCommand never writes more, so more is not a command (and is not worth reading).
  if (bytes.length > MAX_COMMAND_BYTES) return { ok: false, error: `command: ${fmt(bytes.length)} bytes (at most ${fmt(MAX_COMMAND_BYTES)})` };
  const r = new Reader(bytes, 'command');
  try {
    const value = readCommand(r);
    r.end();
    return { ok: true, value };
  } catch (err) {
    // Reader failures carry the field and byte; anything else would be a bug here, still not thrown.
    return { ok: false, error: errorMessage(err) };
  }
}

function readCommand(r: Reader): Command {
  const kind = r.u8('kind');
  switch (kind) {
    case KIND.submit: {
      const id = nonEmptyString(r, 'job id', MAX_JOB_ID_BYTES);
      const key = r.bool('key flag') ? r.string('idempotency key', MAX_IDEMPOTENCY_KEY_BYTES) : null;
      return { type: 'submit', id, key, spec: readJobSpec(r) };
    }
    case KIND.claim: {
      const node = r.id('node id');
      const boot = r.varint('boot');
      const tasks = readRefs(r, 1, (job, task) => ({ job, task }));
      return { type: 'claim', node, boot, tasks };
    }
    case KIND.heartbeat: {
      const node = r.id('node id');
      const boot = r.varint('boot');
      const slots = r.varint('slots');
      const at = r.pos;
      const n = r.count('handler count', 2);
      if (n > MAX_HANDLERS) r.fail(`handler count ${n} at byte ${at} is over the limit of ${MAX_HANDLERS}`);
      const handlers = new Array<string>(n);
      for (let k = 0; k < n; k++) handlers[k] = nonEmptyString(r, 'handler name', MAX_HANDLER_NAME_BYTES);
      const leaseMs = r.varint('leaseMs');
      const seq = r.varint('seq');
      return { type: 'heartbeat', node, boot, slots, handlers, leaseMs, seq };
    }
    case KIND.finish: {
      const node = r.id('node id');
      const boot = r.varint('boot');
      const claimNext = r.bool('claimNext');
      const results = readRefs(r, 4, (job, task) => readResult(r, job, task));
      return { type: 'finish', node, boot, results, claimNext };
    }
    case KIND_FINISH_CLAIM: {
      const node = r.id('node id');
      const boot = r.varint('boot');
      const claimNext = r.bool('claimNext');
      const results = readRefs(r, 4, (job, task) => readResult(r, job, task));
      const claims = readRefs(r, 1, (job, task) => ({ job, task }));
      if (claims.length === 0) r.fail('a finish-and-claim command with no claims');
      return { type: 'finish', node, boot, results, claimNext, claims };
    }
    case KIND.cancel:
      return { type: 'cancel', job: nonEmptyString(r, 'job id', MAX_JOB_ID_BYTES) };
    case KIND.tick:
      return { type: 'tick' };
    default:
      return r.fail(`unknown command kind 0x${kind.toString(16).padStart(2, '0')} at byte 0`);
  }
}

function nonEmptyString(r: Reader, field: string, maxBytes: number): string {
  const at = r.pos;
  const s = r.string(field, maxBytes);
  if (s === '') r.fail(`${field} at byte ${at} is empty`);
  return s;
}

/** `minItemBytes`: the fewest bytes one item takes after its task number, to refuse impossible counts. */
function readRefs<T>(r: Reader, minItemBytes: number, item: (job: string, task: number) => T): T[] {
  const jobsAt = r.pos;
  const jobCount = r.count('job count', 2);
  if (jobCount > MAX_JOBS_PER_BATCH) r.fail(`job count ${jobCount} at byte ${jobsAt} is over the limit of ${MAX_JOBS_PER_BATCH}`);
  const jobs = new Array<string>(jobCount);
  for (let j = 0; j < jobCount; j++) jobs[j] = nonEmptyString(r, 'job id', MAX_JOB_ID_BYTES);
  const indexed = jobCount > 1;
  const n = r.count('item count', (indexed ? 2 : 1) + minItemBytes - 1);
  if ((n > 0) !== (jobCount > 0)) r.fail(`${n} items with ${jobCount} job ids (at byte ${jobsAt})`);
  const out = new Array<T>(n);
  for (let k = 0; k < n; k++) {
    const at = r.pos;
    const j = indexed ? r.varint('job index') : 0;
    const job = jobs[j];
    if (job === undefined) r.fail(`job index ${j} at byte ${at} is not in the table of ${jobCount}`);
    const taskAt = r.pos;
    const task = r.varint('task');
    if (task >= DAG_LIMITS.maxTasks) r.fail(`task ${task} at byte ${taskAt} is not below ${DAG_LIMITS.maxTasks}`);
    out[k] = item(job, task);
  }
  return out;
}

function readResult(r: Reader, job: string, task: number): FinishItem {
  const attempt = r.varint('attempt');
  const headAt = r.pos;
  const head = r.u8('result head');
  const outcome = OUTCOMES[head & HEAD_OUTCOME];
  if ((head & ~HEAD_KNOWN) !== 0 || outcome === undefined) r.fail(`bad result head 0x${head.toString(16)} at byte ${headAt}`);
  let exitCode: number | null = null;
  if (head & HEAD_EXIT) {
    const at = r.pos;
    exitCode = unzigzag(r.varint('exit code'));
    if (exitCode < MIN_EXIT || exitCode > MAX_EXIT) r.fail(`exit code ${exitCode} at byte ${at} is not a 32-bit integer`);
  }
  const durationMs = r.varint('durationMs');
  const stdout = head & HEAD_STDOUT ? nonEmptyString(r, 'stdout tail', TAIL_BYTES) : '';
  const stderr = head & HEAD_STDERR ? nonEmptyString(r, 'stderr tail', TAIL_BYTES) : '';
  return { job, task, attempt, outcome, exitCode, durationMs, stdout, stderr };
}
