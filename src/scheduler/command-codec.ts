// The scheduler's commands as bytes in the replicated log (inside the node envelope's `app`
// kind), to and from their schema (Command in src/proto/scheduler.proto). These bytes live in
// the log forever, so a field's meaning never changes: a new command or layout is a new field,
// which older binaries refuse (the same way on every replica).
//
// Claims and finishes are the hot path (thousands per second), so they carry job ids once in a
// small table and refer to it by position (the position column left out when there is one job),
// and a finish result leaves out what is empty: a result of a handler with empty output is about
// ten bytes.
//
// decodeCommand never throws; it checks sizes, counts, enum values and table positions, so what
// decodes is safe to hold. The graph and ranges of a submitted JobSpec are left to checkJobSpec,
// which the state machine runs on every submit.
import { at, known } from '../invariant.js';
import { CodecError, type DecodeResult } from '../codec/binary.js';
import {
  decodeFail as fail,
  decodeProto,
  encodeProto,
  readInt,
  readNonEmpty,
  readText,
  writeInt,
  writeNonEmpty,
  writeText,
} from '../codec/proto.js';
import * as pb from '../proto/scheduler.js';
import { DAG_LIMITS, fmt } from './dag-limits.js';
import { JOB_SPEC_LIMITS, jobSpecIn, jobSpecOut, partSpecIn, partSpecOut } from './job-spec-codec.js';
import { STAGING_LIMITS } from './staging-limits.js';
import { labelsIn, labelsOut } from './placement-codec.js';
import { PLACEMENT_LIMITS, poolNameProblem, poolSizeProblem } from './placement.js';
import { SCHEDULE_LIMITS, scheduleCommandIn, scheduleCommandOut } from './schedule-codec.js';
import { OUTPUT_BYTES, TAIL_BYTES, type Command, type FinishItem, type FinishOutcome, type RerunCommand, type TaskRef } from './types.js';

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
/** Task names one re-run may list: plenty for a person, small enough to check name by name. */
export const MAX_RERUN_NAMES = 1024;
/** A full task name: the spec's name and `[shard]` (task-names.ts). */
const MAX_TASK_NAME_BYTES = DAG_LIMITS.maxTaskNameLength + 18;

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

const MAX = Number.MAX_SAFE_INTEGER;
const OUTCOME_OUT: Readonly<Record<FinishOutcome, pb.Outcome>> = {
  succeeded: pb.Outcome.SUCCEEDED,
  failed: pb.Outcome.FAILED,
  timeout: pb.Outcome.TIMEOUT,
  abandoned: pb.Outcome.ABANDONED,
};
const OUTCOME_IN: Readonly<Record<pb.Outcome, FinishOutcome>> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMEOUT: 'timeout',
  ABANDONED: 'abandoned',
};
/** Exit codes are 32-bit on every platform Node runs on (negative on Windows). */
const MIN_EXIT = -(2 ** 31);
const MAX_EXIT = 2 ** 32 - 1;

/** Bounds on the lists of a command, for protons' decoder (it stops at the first element past one). */
const LIMITS = {
  submit: { spec: JOB_SPEC_LIMITS },
  submitPart: { spec: JOB_SPEC_LIMITS },
  claim: { tasks: { jobs: MAX_JOBS_PER_BATCH } },
  heartbeat: { handlers: MAX_HANDLERS, labels: PLACEMENT_LIMITS.maxLabels },
  finish: { jobs: MAX_JOBS_PER_BATCH, claims: { jobs: MAX_JOBS_PER_BATCH } },
  rerun: { tasks: MAX_RERUN_NAMES },
  ...SCHEDULE_LIMITS,
} as const;

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeCommand(cmd: Command): Uint8Array {
  const out: pb.Command = {};
  let size = 32;
  switch (cmd.type) {
    case 'submit': {
      const submit: pb.Submit = { id: writeNonEmpty(cmd.id, 'job id', MAX_JOB_ID_BYTES), spec: jobSpecOut(cmd.spec) };
      if (cmd.key !== null) submit.key = writeText(cmd.key, 'idempotency key', MAX_IDEMPOTENCY_KEY_BYTES);
      out.submit = submit;
      size += 64 + cmd.spec.tasks.length * 32;
      break;
    }
    case 'submit-part': {
      partNumbersOut(cmd.part, cmd.parts);
      const part: pb.SubmitPart = {
        id: writeNonEmpty(cmd.id, 'job id', MAX_JOB_ID_BYTES),
        part: cmd.part,
        parts: cmd.parts,
        spec: partSpecOut(cmd.spec),
      };
      if (cmd.key !== null) part.key = writeText(cmd.key, 'idempotency key', MAX_IDEMPOTENCY_KEY_BYTES);
      out.submitPart = part;
      size += 64 + cmd.spec.tasks.length * 48;
      break;
    }
    case 'claim': {
      const claim: pb.Claim = { node: writeNonEmpty(cmd.node, 'node id', MAX_NODE_ID_BYTES), boot: writeInt(cmd.boot, 'boot', MAX) };
      if (cmd.tasks.length > 0) claim.tasks = refsOut(cmd.tasks);
      out.claim = claim;
      size += cmd.tasks.length * 4;
      break;
    }
    case 'heartbeat':
      if (cmd.handlers.length > MAX_HANDLERS) throw new CodecError(`${cmd.handlers.length} handlers (at most ${MAX_HANDLERS})`);
      out.heartbeat = {
        node: writeNonEmpty(cmd.node, 'node id', MAX_NODE_ID_BYTES),
        boot: writeInt(cmd.boot, 'boot', MAX),
        slots: writeInt(cmd.slots, 'slots', MAX),
        handlers: cmd.handlers.map((h) => writeNonEmpty(h, 'handler name', MAX_HANDLER_NAME_BYTES)),
        leaseMs: writeInt(cmd.leaseMs, 'leaseMs', MAX),
        seq: writeInt(cmd.seq, 'seq', MAX),
        labels: cmd.labels === undefined ? [] : labelsOut(cmd.labels, 'node labels'),
        ahead: writeInt(cmd.ahead ?? 0, 'ahead', cmd.slots),
      };
      break;
    case 'pool-set': {
      const problem = poolNameProblem(cmd.name) ?? poolSizeProblem(cmd.size);
      if (problem !== null) throw new CodecError(problem);
      out.poolSet = { name: cmd.name, size: cmd.size };
      break;
    }
    case 'finish': {
      const jobs = jobTable(cmd.results);
      const finish: pb.Finish = {
        node: writeNonEmpty(cmd.node, 'node id', MAX_NODE_ID_BYTES),
        boot: writeInt(cmd.boot, 'boot', MAX),
        claimNext: cmd.claimNext,
        jobs: [...jobs.keys()],
        results: cmd.results.map((f) => resultOut(f, jobs)),
      };
      const claims = cmd.claims ?? [];
      if (claims.length > 0) finish.claims = refsOut(claims);
      out.finish = finish;
      for (const f of cmd.results) size += 24 + f.stdout.length * 3 + f.stderr.length * 3 + (f.output?.length ?? 0) * 3;
      size += claims.length * 4;
      break;
    }
    case 'cancel':
      out.cancel = { job: writeNonEmpty(cmd.job, 'job id', MAX_JOB_ID_BYTES) };
      break;
    case 'rerun':
      out.rerun = rerunOut(cmd);
      size += cmd.tasks.length * (MAX_TASK_NAME_BYTES + 2);
      break;
    case 'tick':
      out.tick = {};
      break;
    case 'schedule-put':
    case 'schedule-delete':
    case 'schedule-pause':
    case 'schedule-trigger':
    case 'fire':
      size += scheduleCommandOut(cmd, out);
      break;
    default:
      throw new CodecError(`unknown command type ${String((cmd as { type: unknown }).type)}`);
  }
  const bytes = encodeProto(pb.Command.codec(), out, size);
  if (bytes.length > MAX_COMMAND_BYTES) {
    if (out.submit && cmd.type === 'submit') throw submitTooLarge(cmd.spec.name, out.submit);
    throw new CommandTooLargeError(
      `${cmd.type} command is ${fmt(bytes.length)} bytes (at most ${fmt(MAX_COMMAND_BYTES)})`,
      bytes.length,
      MAX_COMMAND_BYTES,
    );
  }
  return bytes;
}

/**
 * The error for a submit over MAX_COMMAND_BYTES, saying how many of its tasks already take more:
 * the fewest that do, found by encoding ever longer prefixes of the task list (only on this
 * refusal, so the hot path pays nothing for it).
 */
function submitTooLarge(name: string, submit: pb.Submit): CommandTooLargeError {
  const tasks = submit.spec?.tasks ?? [];
  const sizeWith = (k: number) =>
    encodeProto(
      pb.Command.codec(),
      { submit: { ...submit, spec: { ...(submit.spec as pb.JobSpec), tasks: tasks.slice(0, k) } } },
      MAX_COMMAND_BYTES * 2,
    ).length;
  let lo = 0;
  let hi = tasks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sizeWith(mid) > MAX_COMMAND_BYTES) hi = mid;
    else lo = mid + 1;
  }
  const bytes = sizeWith(lo);
  return new CommandTooLargeError(
    `job '${name}' is too large to submit: its first ${fmt(lo)} of ${fmt(tasks.length)} tasks already take ${fmt(bytes)} bytes ` +
      `and one Raft entry holds at most ${fmt(MAX_COMMAND_BYTES)}; use shards for many similar tasks, or split the job`,
    bytes,
    MAX_COMMAND_BYTES,
  );
}

function partNumbersOut(part: number, parts: number): void {
  const problem = partNumbersProblem(part, parts);
  if (problem !== null) throw new CodecError(problem);
}

/** Why `part` of `parts` is no part of a big submit, or null. */
function partNumbersProblem(part: number, parts: number): string | null {
  const max = STAGING_LIMITS.maxParts;
  if (!Number.isSafeInteger(parts) || parts < 2 || parts > max) return `a submit in ${String(parts)} parts (from 2 to ${max})`;
  if (!Number.isSafeInteger(part) || part < 0 || part >= parts) return `part ${String(part)} of ${parts} (numbered from 0)`;
  return null;
}

/** Each distinct job of `items` and its position, in order of first appearance. */
function jobTable(items: readonly TaskRef[]): Map<string, number> {
  const jobs = new Map<string, number>();
  for (const it of items) if (!jobs.has(it.job)) jobs.set(it.job, jobs.size);
  if (jobs.size > MAX_JOBS_PER_BATCH) throw new CodecError(`${jobs.size} jobs in one batch (at most ${MAX_JOBS_PER_BATCH})`);
  for (const j of jobs.keys()) writeNonEmpty(j, 'job id', MAX_JOB_ID_BYTES);
  return jobs;
}

function taskOut(task: number): number {
  if (!(Number.isSafeInteger(task) && task >= 0 && task < DAG_LIMITS.maxTasks)) {
    throw new CodecError(`task ${String(task)} is not a task number below ${DAG_LIMITS.maxTasks}`);
  }
  return task;
}

function refsOut(items: readonly TaskRef[]): pb.TaskRefs {
  const jobs = jobTable(items);
  return {
    jobs: [...jobs.keys()],
    job: jobs.size > 1 ? items.map((it) => known(jobs.get(it.job), 'jobTable lists every job of the items')) : [],
    task: items.map((it) => taskOut(it.task)),
  };
}

function resultOut(f: FinishItem, jobs: Map<string, number>): pb.FinishResult {
  if (!Object.hasOwn(OUTCOME_OUT, f.outcome)) throw new CodecError(`unknown finish outcome ${f.outcome}`);
  const outcome = OUTCOME_OUT[f.outcome];
  const out: pb.FinishResult = {
    job: known(jobs.get(f.job), 'the job table lists every job of the results'),
    task: taskOut(f.task),
    attempt: writeInt(f.attempt, 'attempt', MAX),
    outcome,
    durationMs: writeInt(f.durationMs, 'durationMs', MAX),
    stdout: writeText(f.stdout, 'stdout tail', TAIL_BYTES),
    stderr: writeText(f.stderr, 'stderr tail', TAIL_BYTES),
  };
  if (f.output !== undefined) {
    if (f.outcome !== 'succeeded') throw new CodecError(`a ${f.outcome} attempt has no output (only a successful one hands one on)`);
    out.output = writeText(f.output, 'task output', OUTPUT_BYTES);
  }
  const exit = f.exitCode;
  if (exit !== null) {
    if (!(Number.isInteger(exit) && exit >= MIN_EXIT && exit <= MAX_EXIT))
      throw new CodecError(`exit code ${String(exit)} is not a 32-bit integer`);
    out.exitCode = exit;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

export function decodeCommand(bytes: Uint8Array): DecodeResult<Command> {
  // encodeCommand never writes more, so more is not a command (and is not worth reading).
  if (bytes instanceof Uint8Array && bytes.length > MAX_COMMAND_BYTES) {
    return { ok: false, error: `command: ${fmt(bytes.length)} bytes (at most ${fmt(MAX_COMMAND_BYTES)})` };
  }
  return decodeProto(pb.Command.codec(), bytes, 'command', commandIn, { limits: LIMITS });
}

function commandIn(c: pb.Command): Command {
  const kinds =
    (c.submit === undefined ? 0 : 1) +
    (c.claim === undefined ? 0 : 1) +
    (c.heartbeat === undefined ? 0 : 1) +
    (c.finish === undefined ? 0 : 1) +
    (c.cancel === undefined ? 0 : 1) +
    (c.tick === undefined ? 0 : 1) +
    (c.schedulePut === undefined ? 0 : 1) +
    (c.scheduleChange === undefined ? 0 : 1) +
    (c.fire === undefined ? 0 : 1) +
    (c.rerun === undefined ? 0 : 1) +
    (c.poolSet === undefined ? 0 : 1) +
    (c.submitPart === undefined ? 0 : 1);
  if (kinds !== 1) fail(kinds === 0 ? 'no command (or one this version does not know)' : `${kinds} commands in one (exactly one expected)`);
  if (c.claim) {
    const cl = c.claim;
    return { type: 'claim', node: nodeIn(cl.node), boot: readInt(cl.boot, 'boot', MAX), tasks: refsIn(cl.tasks, 'claim') };
  }
  if (c.finish) {
    const f = c.finish;
    const node = nodeIn(f.node);
    const boot = readInt(f.boot, 'boot', MAX);
    const jobs = jobsIn(f.jobs, f.results.length, 'results');
    const results = f.results.map((r) => resultIn(r, jobs));
    if (f.claims === undefined) return { type: 'finish', node, boot, results, claimNext: f.claimNext };
    const claims = refsIn(f.claims, 'claims');
    if (claims.length === 0) fail('a finish with an empty claim list (leave it out)');
    return { type: 'finish', node, boot, results, claimNext: f.claimNext, claims };
  }
  if (c.heartbeat) {
    const h = c.heartbeat;
    return {
      type: 'heartbeat',
      node: nodeIn(h.node),
      boot: readInt(h.boot, 'boot', MAX),
      slots: readInt(h.slots, 'slots', MAX),
      handlers: h.handlers.map((name) => readNonEmpty(name, 'handler name', MAX_HANDLER_NAME_BYTES)),
      leaseMs: readInt(h.leaseMs, 'leaseMs', MAX),
      seq: readInt(h.seq, 'seq', MAX),
      ...(h.labels.length === 0 ? {} : { labels: labelsIn(h.labels, 'node labels') }),
      ...(h.ahead === 0 ? {} : { ahead: readInt(h.ahead, 'ahead', h.slots) }),
    };
  }
  if (c.poolSet) {
    const { name, size } = c.poolSet;
    const problem = poolNameProblem(name) ?? poolSizeProblem(size);
    if (problem !== null) fail(problem);
    return { type: 'pool-set', name, size };
  }
  if (c.submit) {
    const s = c.submit;
    if (s.spec === undefined) fail('a submit without a job spec');
    return {
      type: 'submit',
      id: readNonEmpty(s.id, 'job id', MAX_JOB_ID_BYTES),
      key: s.key === undefined ? null : readText(s.key, 'idempotency key', MAX_IDEMPOTENCY_KEY_BYTES),
      spec: jobSpecIn(s.spec),
    };
  }
  if (c.submitPart) {
    const s = c.submitPart;
    if (s.spec === undefined) fail('a submit part without a job spec');
    const problem = partNumbersProblem(s.part, s.parts);
    if (problem !== null) fail(problem);
    return {
      type: 'submit-part',
      id: readNonEmpty(s.id, 'job id', MAX_JOB_ID_BYTES),
      key: s.key === undefined ? null : readText(s.key, 'idempotency key', MAX_IDEMPOTENCY_KEY_BYTES),
      part: s.part,
      parts: s.parts,
      spec: partSpecIn(s.spec),
    };
  }
  if (c.cancel) return { type: 'cancel', job: readNonEmpty(c.cancel.job, 'job id', MAX_JOB_ID_BYTES) };
  if (c.rerun) return rerunIn(c.rerun);
  return scheduleCommandIn(c) ?? { type: 'tick' };
}

function nodeIn(node: string): string {
  return readNonEmpty(node, 'node id', MAX_NODE_ID_BYTES);
}

function jobsIn(jobs: readonly string[], items: number, what: string): readonly string[] {
  for (const j of jobs) readNonEmpty(j, 'job id', MAX_JOB_ID_BYTES);
  if (items > 0 !== jobs.length > 0) fail(`${items} ${what} with ${jobs.length} job ids`);
  return jobs;
}

function taskIn(task: number): number {
  if (task >= DAG_LIMITS.maxTasks) fail(`task ${task} is not below ${DAG_LIMITS.maxTasks}`);
  return task;
}

function refsIn(refs: pb.TaskRefs | undefined, what: string): TaskRef[] {
  if (refs === undefined) return [];
  const jobs = jobsIn(refs.jobs, refs.task.length, what);
  const n = refs.task.length;
  if (jobs.length > 1 ? refs.job.length !== n : refs.job.length !== 0) {
    fail(`${refs.job.length} job positions for ${n} ${what} and ${jobs.length} job ids`);
  }
  const out = new Array<TaskRef>(n);
  for (let k = 0; k < n; k++)
    out[k] = { job: jobAt(jobs, refs.job[k] ?? 0), task: taskIn(at(refs.task, k, 'n is the number of task refs')) };
  return out;
}

function jobAt(jobs: readonly string[], j: number): string {
  const job = jobs[j];
  if (job === undefined) fail(`job position ${j} is not in the table of ${jobs.length}`);
  return job;
}

function resultIn(r: pb.FinishResult, jobs: readonly string[]): FinishItem {
  let exitCode: number | null = null;
  if (r.exitCode !== undefined) {
    exitCode = r.exitCode;
    if (exitCode < MIN_EXIT || exitCode > MAX_EXIT) fail(`exit code ${exitCode} is not a 32-bit integer`);
  }
  const item: FinishItem = {
    job: jobAt(jobs, r.job),
    task: taskIn(r.task),
    attempt: readInt(r.attempt, 'attempt', MAX),
    outcome: OUTCOME_IN[r.outcome],
    exitCode,
    durationMs: readInt(r.durationMs, 'durationMs', MAX),
    stdout: readText(r.stdout, 'stdout tail', TAIL_BYTES),
    stderr: readText(r.stderr, 'stderr tail', TAIL_BYTES),
  };
  if (r.output === undefined) return item;
  if (item.outcome !== 'succeeded') fail(`a ${item.outcome} attempt carries an output (only a successful one hands one on)`);
  return { ...item, output: readText(r.output, 'task output', OUTPUT_BYTES) };
}

function rerunOut(cmd: RerunCommand): pb.Rerun {
  if (cmd.tasks.length > MAX_RERUN_NAMES) throw new CodecError(`${cmd.tasks.length} task names to re-run (at most ${MAX_RERUN_NAMES})`);
  return {
    job: writeNonEmpty(cmd.job, 'job id', MAX_JOB_ID_BYTES),
    failed: cmd.failed,
    tasks: cmd.tasks.map((t) => writeNonEmpty(t, 'task name', MAX_TASK_NAME_BYTES)),
    downstream: cmd.downstream,
  };
}

function rerunIn(r: pb.Rerun): RerunCommand {
  return {
    type: 'rerun',
    job: readNonEmpty(r.job, 'job id', MAX_JOB_ID_BYTES),
    failed: r.failed,
    tasks: r.tasks.map((t) => readNonEmpty(t, 'task name', MAX_TASK_NAME_BYTES)),
    downstream: r.downstream,
  };
}
