// The scheduler's share of a Raft snapshot: the whole SchedulerState as bytes, and back. A replica
// restored from these bytes and fed the rest of the log must behave exactly like one that applied
// the whole log, so everything that can steer a future decision is here: the clock, the stats,
// the node table (with retired boots), every job with its spec and task columns, the ready ranges
// in queue order with their seqs, and the live timers with the seq that breaks deadline ties.
// Derived data (counts, dependency counters, what each node holds, idempotency keys) is rebuilt.
//
// The encoding is canonical (same state, same bytes), so hashBytes(encode) compares replicas.
// Task columns are compact: one head byte saying which fields differ from a never-claimed task,
// those fields, then how many following tasks are identical (a 1,000,000-shard spec that nobody
// has touched yet is a handful of bytes).
//
// Why this codec is hand-written (codec/binary.ts) while the log's and the wire's formats come from
// schemas (src/proto): it is the largest value meshrun writes, a column of run-length-coded task
// records that protobuf has no form for (a message per task would make an untouched
// 1,000,000-shard job megabytes instead of bytes), and it must be canonical, which protobuf does
// not promise. It changes with SchedulerState, in this one file, and FORMAT says which layout a
// snapshot has. Each job's spec inside it is the JobSpec message of the submit (job-spec-codec.ts).
import { at, known } from '../invariant.js';
import { Reader, Writer } from '../codec/binary.js';
import { Job, MAX_REASON, NONE, NO_EXIT, T } from './job.js';
import { readHistory, writeHistory } from './attempts.js';
import { decodeJobSpec, decodePartSpec, encodeJobSpec, encodePartSpec } from './job-spec-codec.js';
import { checkJobPart } from './dag-check.js';
import { StagedSubmit } from './staging.js';
import { STAGING_LIMITS } from './staging-limits.js';
import { readOutputs, writeOutputs } from './outputs.js';
import { decodeScheduleSpec, encodeScheduleSpec } from './schedule-codec.js';
import { MAX_RECENT_RUNS, MAX_SCHEDULES } from './schedule-types.js';
import { checkScheduleSpec, nextDue, type RunRec, type ScheduleRec } from './schedules.js';
import { LABEL_KEY, LABEL_VALUE, PLACEMENT_LIMITS, POOL_NAME, sortedLabels } from './placement.js';
import { MAX_RETIRED_BOOTS, STAT_FIELDS, SchedulerState, newNode, takePoolSlot, type NodeRec } from './state.js';
import { TimerKind, type Timer } from './timers.js';
import { BLOCK_SHIFT, TaskFreeze, liveCols, type TaskCols } from './task-freeze.js';
import type { JobState } from './types.js';
import { errorMessage } from '../errors.js';

/**
 * 2: job specs as their protobuf message (1 had a hand-written layout of its own). 3: each job says
 * whether its own timeout ended it, and ends with its tasks' attempt history (attempts.ts). 4: then
 * its tasks' committed outputs (outputs.ts). 5: as 4, then each job's origin (the schedule and tick
 * that started it) and, after the timers, the schedules (docs/schedules.md). Formats 2, 3 and 4 are
 * still read (as no history, no job timed out; as no outputs; as no schedules). The schedules
 * branch once wrote schedules under the number 3, but only the attempt-history layout was ever
 * released as 3 (and the outputs layout as 4), so 3 and 4 are read as those. 6: each node's
 * labels after its retired boots, and the pools (name and size, by name) after the schedules;
 * formats up to 5 are read as no labels and no pools. How many slots of each pool running tasks
 * hold is derived, rebuilt from the running tasks. 7: each node's `ahead` (the claims it may hold
 * beyond its slots) after its labels, and after the pools the big submits being staged
 * (staging.ts), each its id, key, parts expected and applied, the scheduler time of its latest part,
 * and its header and tasks so far as one part's JobSpec; formats up to 6 are read as no claims ahead
 * and none staged.
 */
const FORMAT = 7;
const READABLE_FORMATS: readonly number[] = [2, 3, 4, 5, 6, 7];
/** The first format with attempt history and job timeouts, with outputs, with schedules. */
const HISTORY_FORMAT = 3;
const OUTPUTS_FORMAT = 4;
const SCHEDULES_FORMAT = 5;
const PLACEMENT_FORMAT = 6;
/** The first format with claims ahead and staged submits (both came in the same release). */
const AHEAD_FORMAT = 7;
const STAGING_FORMAT = 7;
const MAX_TEXT = 16 << 20;
const JOB_STATES: readonly JobState[] = ['running', 'succeeded', 'failed', 'cancelled'];

// Task record head: the state in the low 3 bits, then which optional groups follow.
const H_CLAIMED = 8; // attempt, failures, holder, fence, startedAt
const H_FINISHED = 16; // finishedAt
const H_RESULT = 32; // exitCode, durationMs
const H_REASON = 64; // reason code
const H_TAIL = 128; // stdout, stderr

class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

// --- numbers -----------------------------------------------------------------------------------------

/** Any float64: small non-negative integers as an even varint, everything else as 1 then the f64. */
function num(w: Writer, v: number): void {
  if (Number.isSafeInteger(v) && v >= 0 && v <= 2 ** 51) w.varint(v * 2, 'number');
  else {
    w.varint(1, 'number tag');
    w.f64(v);
  }
}

function readNum(r: Reader, field: string): number {
  const x = r.varint(field);
  if (x % 2 === 0) return x / 2;
  if (x !== 1) r.fail(`bad number tag ${x} in ${field}`);
  return r.f64(field);
}

/** A time at or after `base` (the job's submit time) as the distance from it when both are integers. */
function time(w: Writer, v: number, base: number): void {
  if (Number.isSafeInteger(v) && Number.isSafeInteger(base) && v >= base && v - base <= 2 ** 51) w.varint((v - base) * 2, 'time');
  else {
    w.varint(1, 'time tag');
    w.f64(v);
  }
}

function readTime(r: Reader, base: number, field: string): number {
  const x = r.varint(field);
  if (x % 2 === 0) return base + x / 2;
  if (x !== 1) r.fail(`bad time tag ${x} in ${field}`);
  return r.f64(field);
}

// --- encode ------------------------------------------------------------------------------------------

/** The whole state as bytes, in one go. */
export function encodeSnapshot(s: SchedulerState): Uint8Array {
  return known(new SnapshotEncoder(s, false).step(Infinity) ?? undefined, 'an unbounded step ends the encoding');
}

/**
 * Encodes the state in slices (docs/architecture.md §5, Compaction): everything but the task
 * columns is written when it starts; then each `step(budget)` writes about `budget` tasks, and the
 * last returns the bytes, the same as encodeSnapshot of the state as it was at the start. Between
 * steps the state may go on changing: with `freeze`, each job keeps its tasks as of the start
 * (task-freeze.ts) until the encoder is done with it or `abandon()` is called.
 */
export class SnapshotEncoder {
  private readonly w = new Writer(1024);
  private readonly jobs: FrozenJob[];
  private readonly suffix: Uint8Array;
  private jobIndex = 0;
  private task = 0;
  /** The next task to compare with the run that starts at `task` (its head is written once this is past it). */
  private scan = 0;
  private inJob = false;

  constructor(s: SchedulerState, freeze: boolean, blockShift = BLOCK_SHIFT) {
    writeHead(this.w, s);
    this.jobs = [...s.jobs.values()].map((job) => frozenJob(job, freeze, blockShift));
    const tail = new Writer(256);
    writeQueueAndRest(tail, s);
    this.suffix = tail.finish().slice();
  }

  /** Writes about `budget` more tasks; the snapshot's bytes once every task is written, else null. */
  step(budget: number): Uint8Array | null {
    let done = 0;
    for (;;) {
      const f = this.jobs[this.jobIndex];
      if (f === undefined) break;
      if (!this.inJob) {
        this.w.raw(f.head);
        this.inJob = true;
        this.task = 0;
        this.scan = 0;
      }
      const size = f.job.size;
      while (this.task < size && done < budget) {
        // A run of identical tasks: its head is written, then the run is scanned (a pause in the
        // middle of a long one resumes at `scan`), then its length.
        const t = this.task;
        const c = f.cols(t);
        if (this.scan <= t) {
          writeTask(this.w, c, t, f.job.submittedAt);
          this.scan = t + 1;
        }
        let same = this.scan;
        const stop = Math.min(size, same + budget - done);
        while (same < stop && sameTask(c, t, f.cols(same), same)) same++;
        done += same - this.scan + 1;
        this.scan = same;
        if (same === stop && same < size) continue; // the run may go on: scan on, in this step or the next
        this.w.varint(same - t - 1, 'repeat');
        this.task = same;
        f.freeze?.pass(same);
      }
      if (this.task < size) return null;
      this.w.raw(f.tail);
      this.release(f);
      this.jobIndex++;
      this.inJob = false;
      if (done >= budget) return null;
    }
    this.w.raw(this.suffix);
    return this.w.finish().slice();
  }

  /** Stops keeping the jobs' tasks for this encoding (it will not be finished). */
  abandon(): void {
    for (const f of this.jobs.slice(this.jobIndex)) this.release(f);
    this.jobIndex = this.jobs.length;
  }

  private release(f: FrozenJob): void {
    if (f.freeze !== null && f.job.freeze === f.freeze) f.job.freeze = null;
  }
}

/** A job as the encoder writes it: its head and tail bytes as of the start, its tasks through `cols`. */
interface FrozenJob {
  readonly job: Job;
  readonly head: Uint8Array;
  readonly tail: Uint8Array;
  readonly freeze: TaskFreeze | null;
  readonly cols: (t: number) => TaskCols;
}

function frozenJob(job: Job, freeze: boolean, blockShift: number): FrozenJob {
  const head = new Writer(256);
  writeJobHead(head, job);
  const tail = new Writer(64);
  writeJobTail(tail, job);
  // A job of no tasks has nothing to keep; one already frozen by an encoding not abandoned cannot be (the compactor runs one at a time).
  const f = freeze && job.size > 0 ? new TaskFreeze(job, blockShift) : null;
  if (f !== null) job.freeze = f;
  const live = liveCols(job);
  return { job, head: head.finish().slice(), tail: tail.finish().slice(), freeze: f, cols: f === null ? () => live : (t) => f.cols(t) };
}

function writeHead(w: Writer, s: SchedulerState): void {
  w.u8(FORMAT);
  num(w, s.now);
  for (const f of STAT_FIELDS) w.varint(s.stats[f], f);
  w.varint(s.nextSerial, 'nextSerial');
  w.varint(s.timers.nextSeq, 'timer seq');
  w.varint(s.ready.nextSeq, 'ready seq');

  w.varint(s.nodes.size, 'nodes');
  for (const n of s.nodes.values()) {
    w.string(n.id);
    w.varint(n.boot, 'boot');
    w.varint(n.slots, 'slots');
    w.varint(n.handlers.length, 'handlers');
    for (const h of n.handlers) w.string(h);
    num(w, n.leaseMs);
    num(w, n.leaseUntil);
    w.varint(n.heartbeatSeq, 'heartbeatSeq');
    w.varint(n.retired.length, 'retired');
    for (const b of n.retired) w.varint(b, 'retired boot');
    const keys = Object.keys(n.labels).sort();
    w.varint(keys.length, 'labels');
    for (const k of keys) {
      w.string(k);
      w.string(n.labels[k] ?? '');
    }
    w.varint(n.ahead, 'ahead');
  }

  w.varint(s.jobs.size, 'jobs');
}

/** What follows the jobs: the ready ranges, the timers, the schedules, the pools. */
function writeQueueAndRest(w: Writer, s: SchedulerState): void {
  const ranges = s.ready.ranges();
  w.varint(ranges.length, 'ranges');
  for (const r of ranges) {
    w.varint(r.job.serial, 'range job');
    w.varint(r.spec, 'range spec');
    w.varint(r.start, 'range start');
    w.varint(r.end, 'range end');
    w.varint(r.seq, 'range seq');
    num(w, r.readyAt);
  }

  const timers = s.timers.sorted();
  w.varint(timers.length, 'timers');
  for (const t of timers) {
    w.u8(t.kind);
    if (t.kind === TimerKind.lease) w.string(t.owner as string);
    else w.varint(t.owner as number, 'timer owner');
    w.varint(t.task + 1, 'timer task');
    num(w, t.deadline);
    w.varint(t.seq, 'timer seq');
  }

  w.varint(s.schedules.size, 'schedules');
  for (const rec of s.schedules.values()) writeSchedule(w, rec);

  const pools = [...s.pools].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  w.varint(pools.length, 'pools');
  for (const [name, size] of pools) {
    w.string(name);
    w.varint(size, 'pool size');
  }

  w.varint(s.staged.size, 'staged submits');
  for (const st of s.staged.values()) writeStaged(w, st);
}

function writeStaged(w: Writer, st: StagedSubmit): void {
  w.string(st.id);
  w.bool(st.key !== null);
  if (st.key !== null) w.string(st.key);
  w.varint(st.parts, 'parts');
  w.varint(st.received, 'parts received');
  num(w, st.lastAt);
  w.bytes(encodePartSpec({ ...st.header, tasks: st.tasks }), 'staged spec');
}

function readStaged(r: Reader, s: SchedulerState): void {
  const count = r.count('staged submits', 4);
  check(r, count <= STAGING_LIMITS.maxStaged, `${count} staged submits (at most ${STAGING_LIMITS.maxStaged})`);
  for (let k = 0; k < count; k++) {
    const id = r.string('staged job id', MAX_TEXT);
    const key = r.bool('staged key flag') ? r.string('staged key', MAX_TEXT) : null;
    const parts = r.varint('parts');
    const received = r.varint('parts received');
    const lastAt = readNum(r, 'staged lastAt');
    check(
      r,
      parts >= 2 && parts <= STAGING_LIMITS.maxParts && received >= 1 && received < parts,
      `staged submit ${id}: ${received} of ${parts} parts`,
    );
    check(r, !s.staged.has(id) && !s.jobs.has(id), `staged submit ${id} twice, or a job already`);
    const d = decodePartSpec(r.span('staged spec'));
    if (!d.ok) r.fail(d.error);
    const checked = checkJobPart(d.value, 0);
    if (!checked.ok) r.fail(`staged submit ${id}: ${checked.error}`);
    // Staging the tasks again rebuilds what add() derives (name index, dependency rows, settled specs).
    const st = new StagedSubmit(id, key, parts, checked.header, lastAt);
    const problem = st.add(checked.tasks);
    if (problem !== null) r.fail(`staged submit ${id}: ${problem}`);
    st.received = received;
    s.staged.set(id, st);
  }
}

function writeSchedule(w: Writer, rec: ScheduleRec): void {
  w.bytes(encodeScheduleSpec(rec.spec), 'schedule');
  num(w, rec.createdAt);
  num(w, rec.decidedUntil);
  w.varint(rec.runs.length, 'runs');
  for (const run of rec.runs) {
    num(w, run.tick);
    w.string(run.job);
    w.bool(run.triggered);
  }
  w.varint(rec.fired, 'fired');
  w.varint(rec.skipped, 'skipped');
  w.varint(rec.missed, 'missed');
}

function writeJobHead(w: Writer, job: Job): void {
  w.varint(job.serial, 'serial');
  w.string(job.id);
  w.bool(job.key !== null);
  if (job.key !== null) w.string(job.key);
  num(w, job.submittedAt);
  w.u8(JOB_STATES.indexOf(job.state));
  w.bool(job.finishedAt !== null);
  if (job.finishedAt !== null) num(w, job.finishedAt);
  w.bool(job.timedOut);
  w.bytes(encodeJobSpec(job.spec), 'job spec');
  w.varint(job.nodeNames.length, 'node names');
  for (const n of job.nodeNames) w.string(n);
  const upstream = [...job.skipCause].sort((a, b) => a[0] - b[0]);
  w.varint(upstream.length, 'upstream');
  for (const [spec, name] of upstream) {
    w.varint(spec, 'upstream spec');
    w.string(name);
  }
}

/** After the tasks: their attempt history, their outputs, the job's origin. */
function writeJobTail(w: Writer, job: Job): void {
  writeHistory(
    w,
    job.history,
    (v) => time(w, v, job.submittedAt),
    (v) => num(w, v),
  );
  writeOutputs(w, job.outputs);
  w.bool(job.origin !== null);
  if (job.origin !== null) {
    w.string(job.origin.schedule);
    num(w, job.origin.tick);
    w.bool(job.origin.triggered);
  }
}

/** Task t of a job submitted at `submittedAt`, read from `c` (whose element 0 is task c.base). */
function writeTask(w: Writer, c: TaskCols, t: number, submittedAt: number): void {
  const i = t - c.base;
  const state = at(c.tState, i, 'a task');
  const claimed = c.attempt[i] !== 0 || c.failures[i] !== 0 || c.holder[i] !== -1 || c.fence[i] !== NONE || c.startedAt[i] !== NONE;
  const finished = c.finishedAtCol[i] !== NONE;
  const result = c.exitCode[i] !== NO_EXIT || c.durationMs[i] !== NONE;
  const reason = c.reason[i] !== 0;
  const tail = c.tails.get(t);
  w.u8(
    state |
      (claimed ? H_CLAIMED : 0) |
      (finished ? H_FINISHED : 0) |
      (result ? H_RESULT : 0) |
      (reason ? H_REASON : 0) |
      (tail ? H_TAIL : 0),
  );
  if (claimed) {
    w.varint(at(c.attempt, i, 'a task'), 'attempt');
    w.varint(at(c.failures, i, 'a task'), 'failures');
    w.varint(at(c.holder, i, 'a task') + 1, 'holder');
    num(w, at(c.fence, i, 'a task'));
    time(w, at(c.startedAt, i, 'a task'), submittedAt);
  }
  if (finished) time(w, at(c.finishedAtCol, i, 'a task'), submittedAt);
  if (result) {
    num(w, at(c.exitCode, i, 'a task'));
    num(w, at(c.durationMs, i, 'a task'));
  }
  if (reason) w.u8(at(c.reason, i, 'a task'));
  if (tail) {
    w.string(tail.stdout);
    w.string(tail.stderr);
  }
  if (state === T.ready) w.varint(at(c.readySeq, i, 'a task'), 'readySeq');
}

function sameTask(ca: TaskCols, a: number, cb: TaskCols, b: number): boolean {
  const i = a - ca.base;
  const j = b - cb.base;
  return (
    ca.tState[i] === cb.tState[j] &&
    ca.attempt[i] === cb.attempt[j] &&
    ca.failures[i] === cb.failures[j] &&
    ca.holder[i] === cb.holder[j] &&
    ca.fence[i] === cb.fence[j] &&
    ca.startedAt[i] === cb.startedAt[j] &&
    ca.finishedAtCol[i] === cb.finishedAtCol[j] &&
    ca.exitCode[i] === cb.exitCode[j] &&
    ca.durationMs[i] === cb.durationMs[j] &&
    ca.reason[i] === cb.reason[j] &&
    (ca.tState[i] !== T.ready || ca.readySeq[i] === cb.readySeq[j]) &&
    !ca.tails.has(a) &&
    !cb.tails.has(b)
  );
}

// --- decode ------------------------------------------------------------------------------------------

/** Throws a SnapshotError naming the problem when `bytes` are not a snapshot encodeSnapshot wrote. */
export function decodeSnapshot(bytes: Uint8Array): SchedulerState {
  const r = new Reader(bytes, 'scheduler snapshot');
  try {
    const s = readState(r);
    r.end();
    return s;
  } catch (err) {
    throw new SnapshotError(errorMessage(err));
  }
}

function check(r: Reader, ok: boolean, problem: string): void {
  if (!ok) r.fail(problem);
}

function readState(r: Reader): SchedulerState {
  const format = r.u8('format');
  check(r, READABLE_FORMATS.includes(format), `unknown format ${format} (this meshrun reads formats ${READABLE_FORMATS.join(', ')})`);
  const s = new SchedulerState();
  s.now = readNum(r, 'now');
  for (const f of STAT_FIELDS) s.stats[f] = r.varint(f);
  s.nextSerial = r.varint('nextSerial');
  const timerSeq = r.varint('timer seq');
  const readySeq = r.varint('ready seq');

  const nodeCount = r.count('nodes', 8);
  for (let i = 0; i < nodeCount; i++) {
    const id = r.string('node id', MAX_TEXT);
    const n = newNode(id, r.varint('boot'));
    n.slots = r.varint('slots');
    const hc = r.count('handlers', 1);
    const handlers: string[] = [];
    for (let k = 0; k < hc; k++) handlers.push(r.string('handler', MAX_TEXT));
    n.handlers = handlers;
    n.handlerSet = new Set(handlers);
    n.leaseMs = readNum(r, 'leaseMs');
    n.leaseUntil = readNum(r, 'leaseUntil');
    n.heartbeatSeq = r.varint('heartbeatSeq');
    const rc = r.count('retired', 1);
    check(r, rc <= MAX_RETIRED_BOOTS, `${rc} retired boots`);
    for (let k = 0; k < rc; k++) n.retired.push(r.varint('retired boot'));
    if (format >= PLACEMENT_FORMAT) readLabels(r, n);
    if (format >= AHEAD_FORMAT) {
      n.ahead = r.varint('ahead');
      check(r, n.ahead <= n.slots, `node ${id}: ahead ${n.ahead} above its ${n.slots} slots`);
    }
    check(r, !s.nodes.has(id), `node ${id} twice`);
    s.nodes.set(id, n);
  }

  const jobCount = r.count('jobs', 8);
  for (let i = 0; i < jobCount; i++) {
    const job = readJob(r, s, format);
    check(
      r,
      !s.jobs.has(job.id) && !s.bySerial.has(job.serial) && job.serial < s.nextSerial,
      `job ${job.id} (serial ${job.serial}) is a duplicate`,
    );
    s.jobs.set(job.id, job);
    s.bySerial.set(job.serial, job);
    if (job.key !== null) {
      check(r, !s.keys.has(job.key), `idempotency key of job ${job.id} is used twice`);
      s.keys.set(job.key, job.id);
    }
  }

  const rangeCount = r.count('ranges', 6);
  for (let i = 0; i < rangeCount; i++) {
    const job = s.bySerial.get(r.varint('range job'));
    const spec = r.varint('range spec');
    const start = r.varint('range start');
    const end = r.varint('range end');
    const seq = r.varint('range seq');
    const readyAt = readNum(r, 'readyAt');
    check(r, job !== undefined && spec < job.spec.tasks.length, `ready range ${i} names no job or spec`);
    const j = job as Job;
    check(
      r,
      start < end &&
        start >= at(j.specStart, spec, 'a spec (specStart)') &&
        end <= at(j.specStart, spec + 1, 'a spec (specStart)') &&
        seq < readySeq,
      `ready range ${i} is out of bounds`,
    );
    check(r, s.ready.range(seq) === undefined, `ready range seq ${seq} twice`);
    check(r, s.ready.push(j, spec, start, end, readyAt, seq) > 0, `ready range ${i} holds no ready task`);
  }
  let readyTasks = 0;
  for (const job of s.jobs.values()) readyTasks += at(job.counts, T.ready, 'a state code');
  check(r, readyTasks === s.ready.count, `${readyTasks} ready tasks but ${s.ready.count} in ready ranges`);
  s.ready.nextSeq = readySeq;

  const timerCount = r.count('timers', 5);
  for (let i = 0; i < timerCount; i++) readTimer(r, s, timerSeq);
  s.timers.nextSeq = timerSeq;
  for (const n of s.nodes.values())
    check(r, n.running > 0 === (n.leaseTimer !== null), `node ${n.id}'s lease timer does not match its tasks`);
  if (format >= SCHEDULES_FORMAT) {
    const scheduleCount = r.count('schedules', 8);
    check(r, scheduleCount <= MAX_SCHEDULES, `${scheduleCount} schedules (at most ${MAX_SCHEDULES})`);
    for (let i = 0; i < scheduleCount; i++) readSchedule(r, s);
  }
  if (format >= PLACEMENT_FORMAT) readPools(r, s);
  if (format >= STAGING_FORMAT) readStaged(r, s);
  // Derived: the jobs each schedule name started, in start order (Schedules.active prunes ended ones).
  for (const job of s.jobs.values()) {
    if (job.origin === null || job.state !== 'running') continue;
    const list = s.runningBySchedule.get(job.origin.schedule);
    if (list === undefined) s.runningBySchedule.set(job.origin.schedule, [job]);
    else list.push(job);
  }
  for (const job of s.jobs.values()) {
    // Derived: the specs whose re-run tasks wait for their rule (needs the retry timers read above).
    if (job.state === 'running') job.findRedo();
    check(r, (job.state !== 'running') === (job.removalTimer !== null), `job ${job.id}'s removal timer does not match its state`);
    check(
      r,
      (job.state === 'running' && job.spec.timeoutMs !== undefined) === (job.timeoutTimer !== null),
      `job ${job.id}'s timeout timer does not match its state`,
    );
    for (let t = 0; t < job.size; t++) {
      const st = job.tState[t];
      check(
        r,
        (st === T.running) === (job.timers.get(t)?.kind === TimerKind.timeout),
        `job ${job.id} task ${t}: timeout timer does not match its state`,
      );
    }
  }
  return s;
}

function readJob(r: Reader, s: SchedulerState, format: number): Job {
  const serial = r.varint('serial');
  const id = r.string('job id', MAX_TEXT);
  const key = r.bool('key flag') ? r.string('key', MAX_TEXT) : null;
  const submittedAt = readNum(r, 'submittedAt');
  const stateCode = r.u8('job state');
  const state = JOB_STATES[stateCode];
  check(r, state !== undefined, `bad job state ${stateCode}`);
  const finishedAt = r.bool('finishedAt flag') ? readNum(r, 'finishedAt') : null;
  const timedOut = format >= HISTORY_FORMAT && r.bool('timedOut');
  const d = decodeJobSpec(r.span('job spec'));
  if (!d.ok) r.fail(d.error);
  const spec = d.value;
  check(r, spec.tasks.length > 0, `job ${id} has no tasks`);
  const job = new Job(serial, id, key, spec, submittedAt);
  job.state = state as JobState;
  job.finishedAt = finishedAt;
  job.timedOut = timedOut;
  const names = r.count('node names', 2);
  for (let k = 0; k < names; k++) job.nodeSlot(r.string('node name', MAX_TEXT));
  const upstream = r.count('upstream', 2);
  for (let k = 0; k < upstream; k++) {
    const sp = r.varint('upstream spec');
    check(r, sp < spec.tasks.length, `upstream spec ${sp} out of range`);
    job.skipCause.set(sp, r.string('upstream name', MAX_TEXT));
  }
  for (let t = 0; t < job.size;) {
    const head = r.u8('task head');
    const state = head & 7;
    check(r, state <= T.skipped, `bad task state ${state}`);
    job.tState[t] = state;
    if (head & H_CLAIMED) {
      job.attempt[t] = r.varint('attempt');
      job.failures[t] = r.varint('failures');
      const h = r.varint('holder') - 1;
      check(r, h < job.nodeNames.length, `holder ${h} out of range`);
      job.holder[t] = h;
      job.fence[t] = readNum(r, 'fence');
      job.startedAt[t] = readTime(r, submittedAt, 'startedAt');
    }
    if (head & H_FINISHED) job.finishedAtCol[t] = readTime(r, submittedAt, 'finishedAt');
    if (head & H_RESULT) {
      job.exitCode[t] = readNum(r, 'exitCode');
      job.durationMs[t] = readNum(r, 'durationMs');
    }
    if (head & H_REASON) {
      const code = r.u8('reason');
      check(r, code <= MAX_REASON, `bad reason ${code}`);
      job.reason[t] = code;
    }
    if (head & H_TAIL) job.tails.set(t, { stdout: r.string('stdout', MAX_TEXT), stderr: r.string('stderr', MAX_TEXT) });
    if (state === T.ready) job.readySeq[t] = r.varint('readySeq');
    if (state === T.running) {
      const holder = job.holderName(t);
      const node = holder === null ? undefined : s.nodes.get(holder);
      check(r, node !== undefined, `running task ${t} of job ${id} has no known holder`);
      hold(s, node as NodeRec, job, t);
    }
    const repeat = r.varint('repeat');
    check(r, repeat < job.size - t, `repeat ${repeat} runs past the job's ${job.size} tasks`);
    check(r, repeat === 0 || (head & H_TAIL) === 0, 'a repeated task with output');
    const end = t + 1 + repeat;
    for (let u = t + 1; u < end; u++) copyTask(job, t, u, s);
    t = end;
  }
  if (format >= HISTORY_FORMAT) {
    const history = readHistory(
      r,
      job.size,
      job.nodeNames.length,
      (f) => readTime(r, submittedAt, f),
      (f) => readNum(r, f),
      (p) => r.fail(p),
    );
    for (const [task, list] of history) job.history.set(task, list);
  }
  if (format >= OUTPUTS_FORMAT) for (const [task, text] of readOutputs(r, job.size, (p) => r.fail(p))) job.outputs.set(task, text);
  job.recount();
  if (format >= SCHEDULES_FORMAT && r.bool('origin flag')) {
    job.origin = {
      schedule: r.string('origin schedule', MAX_TEXT),
      tick: readNum(r, 'origin tick'),
      triggered: r.bool('origin triggered'),
    };
  }
  return job;
}

function readLabels(r: Reader, n: NodeRec): void {
  const count = r.count('labels', 2);
  check(r, count <= PLACEMENT_LIMITS.maxLabels, `node ${n.id} has ${count} labels (at most ${PLACEMENT_LIMITS.maxLabels})`);
  const pairs: [string, string][] = [];
  for (let k = 0; k < count; k++) {
    const key = r.string('label key', PLACEMENT_LIMITS.maxKeyLength);
    const value = r.string('label value', PLACEMENT_LIMITS.maxValueLength);
    check(r, LABEL_KEY.test(key) && LABEL_VALUE.test(value), `node ${n.id}: bad label ${key}=${value}`);
    check(r, k === 0 || key > (pairs[k - 1] as [string, string])[0], `node ${n.id}: labels out of order at ${key}`);
    pairs.push([key, value]);
  }
  if (count > 0) n.labels = sortedLabels(pairs);
}

function readPools(r: Reader, s: SchedulerState): void {
  const count = r.count('pools', 2);
  check(r, count <= PLACEMENT_LIMITS.maxPools, `${count} pools (at most ${PLACEMENT_LIMITS.maxPools})`);
  let previous = '';
  for (let k = 0; k < count; k++) {
    const name = r.string('pool name', PLACEMENT_LIMITS.maxPoolNameLength);
    const size = r.varint('pool size');
    check(r, POOL_NAME.test(name) && size <= PLACEMENT_LIMITS.maxPoolSize, `bad pool ${name} of size ${size}`);
    check(r, k === 0 || name > previous, `pools out of order at ${name}`);
    previous = name;
    s.pools.set(name, size);
  }
}

function readSchedule(r: Reader, s: SchedulerState): void {
  const d = decodeScheduleSpec(r.span('schedule'));
  if (!d.ok) r.fail(d.error);
  const spec = d.value;
  const checked = checkScheduleSpec(spec);
  if (!checked.ok) r.fail(`schedule ${spec.name}: ${checked.error}`);
  check(r, !s.schedules.has(spec.name), `schedule ${spec.name} twice`);
  const createdAt = readNum(r, 'createdAt');
  const decidedUntil = readNum(r, 'decidedUntil');
  const runCount = r.count('runs', 3);
  check(r, runCount <= MAX_RECENT_RUNS, `${runCount} recent runs of schedule ${spec.name}`);
  const runs: RunRec[] = [];
  for (let k = 0; k < runCount; k++)
    runs.push({ tick: readNum(r, 'run tick'), job: r.string('run job', MAX_TEXT), triggered: r.bool('run triggered') });
  const rec: ScheduleRec = {
    spec,
    runSpec: checked.runSpec,
    createdAt,
    decidedUntil,
    nextAt: null,
    runs,
    fired: r.varint('fired'),
    skipped: r.varint('skipped'),
    missed: r.varint('missed'),
  };
  rec.nextAt = nextDue(rec);
  s.schedules.set(spec.name, rec);
}

function copyTask(job: Job, from: number, to: number, s: SchedulerState): void {
  job.tState[to] = at(job.tState, from, 'a task');
  job.attempt[to] = at(job.attempt, from, 'a task');
  job.failures[to] = at(job.failures, from, 'a task');
  job.holder[to] = at(job.holder, from, 'a task');
  job.fence[to] = at(job.fence, from, 'a task');
  job.startedAt[to] = at(job.startedAt, from, 'a task');
  job.finishedAtCol[to] = at(job.finishedAtCol, from, 'a task');
  job.exitCode[to] = at(job.exitCode, from, 'a task');
  job.durationMs[to] = at(job.durationMs, from, 'a task');
  job.reason[to] = at(job.reason, from, 'a task');
  job.readySeq[to] = at(job.readySeq, from, 'a task');
  if (job.tState[to] === T.running) hold(s, s.nodes.get(job.holderName(to) as string) as NodeRec, job, to);
}

function hold(s: SchedulerState, node: NodeRec, job: Job, task: number): void {
  let held = node.held.get(job);
  if (held === undefined) node.held.set(job, (held = new Set()));
  held.add(task);
  const ts = job.taskSpec(task);
  node.used += ts.slots;
  node.running++;
  if (ts.pool !== undefined) takePoolSlot(s, ts.pool, 1);
}

function readTimer(r: Reader, s: SchedulerState, nextSeq: number): void {
  const kind = r.u8('timer kind');
  check(r, kind <= TimerKind.jobTimeout, `bad timer kind ${kind}`);
  const owner = kind === TimerKind.lease ? r.string('timer node', MAX_TEXT) : r.varint('timer job');
  const task = r.varint('timer task') - 1;
  const deadline = readNum(r, 'deadline');
  const seq = r.varint('timer seq');
  check(r, seq < nextSeq, `timer seq ${seq} is not below ${nextSeq}`);
  const restore = (): Timer => s.timers.restore(kind as TimerKind, owner, task, deadline, seq);
  if (kind === TimerKind.lease) {
    const node = s.nodes.get(owner as string);
    check(r, node !== undefined && node.leaseTimer === null && task === -1, `lease timer of ${String(owner)} is not valid`);
    (node as NodeRec).leaseTimer = restore();
    return;
  }
  const job = s.bySerial.get(owner as number);
  check(r, job !== undefined, `timer of unknown job serial ${String(owner)}`);
  const j = job as Job;
  if (kind === TimerKind.removal) {
    check(r, j.removalTimer === null && task === -1, `removal timer of job ${j.id} is not valid`);
    j.removalTimer = restore();
    return;
  }
  if (kind === TimerKind.jobTimeout) {
    check(
      r,
      j.timeoutTimer === null && task === -1 && j.state === 'running' && j.spec.timeoutMs !== undefined,
      `timeout timer of job ${j.id} is not valid`,
    );
    j.timeoutTimer = restore();
    return;
  }
  const want = kind === TimerKind.retry ? T.waiting : T.running;
  check(r, task >= 0 && task < j.size && j.tState[task] === want && !j.timers.has(task), `timer of job ${j.id} task ${task} is not valid`);
  j.timers.set(task, restore());
}

// --- hash --------------------------------------------------------------------------------------------

/** Two 32-bit FNV-1a lanes (different offsets) over `bytes`, as 16 hex digits: pure and fast enough. */
export function hashBytes(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  for (const [i, c] of bytes.entries()) {
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c ^ (i & 0xff), 0x01000193);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
