// Jobs as the API sees them on this node: a submit or cancel is proposed to the log and answered
// with what the scheduler decided when this replica applied it (RaftDriver.propose,
// docs/architecture.md §15), so the caller can read its own write here at once.
//
// An idempotency key names one job (docs/http-api.md §4): a submit whose key is held by a job with
// another DAG is a conflict naming the key and that job, not the old job passed off as this one.
// The state machine answers a known key with its job whatever the spec (that rule is replicated
// and stays); this check is the API's, on this replica's view: before proposing when the key is
// known here, and again when the machine answers `existing`.
import { randomUUID } from 'node:crypto';
import type { CancelOutcome, FailureReason, RerunOutcome, RerunRequest, SubmitOutcome } from '../api/outcomes.js';
import { errorMessage } from '../errors.js';
import { at } from '../invariant.js';
import { MAX_COMMAND_BYTES, encodeCommand } from '../scheduler/command-codec.js';
import { STAGING_LIMITS } from '../scheduler/staging-limits.js';
import type { Command, Effect, JobId, JobSpec, RerunRefusal, SchedulerView, TaskSpec } from '../scheduler/types.js';
import type { ProposeOptions } from './driver.js';
import { envelope } from './entry-envelope.js';
import type { NodeDriver } from './node-driver.js';
import { ProposalError, type Reply } from './proposal.js';

export interface JobServiceDeps {
  readonly view: SchedulerView;
  /**
   * Proposes already-encoded command bytes (the node adds the entry envelope); answers `reply` with
   * the scheduler's effects of that command once this replica applied it, or rejects it with a
   * ProposalError (RaftDriver.requestPropose). A callback, not a promise: the simulator runs this
   * service unchanged, and runs no promise continuations (docs/architecture.md §2).
   */
  readonly propose: (command: Uint8Array, opts: ProposeOptions, reply: Reply<readonly Effect[]>) => void;
  /** How long to wait for this replica to apply a proposal before answering `unavailable`. */
  readonly timeoutMs?: number;
  /** Draws a new job's id (default newJobId, random; the simulator draws from its seed). */
  readonly newJobId?: () => JobId;
  /**
   * A DAG of more specs than this is submitted in parts of at most this many (default
   * SUBMIT_SLICE_SPECS; the simulator lowers it so that its DAGs cross it).
   */
  readonly sliceSpecs?: number;
  /**
   * Runs `fn` soon, outside the apply that answered the previous part (default setImmediate: the
   * event loop turns between parts; the simulator passes its own scheduler).
   */
  readonly defer?: (fn: () => void) => void;
}

/**
 * Specs per part of a big submit (docs/architecture.md §3): no replica decodes, checks or stages
 * more in one step, and each part is a Raft entry of well under the 1 MiB limit.
 */
export const SUBMIT_SLICE_SPECS = 2000;
/** A part's estimated bytes stay below this, whatever its specs (a part must fit one Raft entry). */
const PART_BUDGET_BYTES = MAX_COMMAND_BYTES / 2;

const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * More time to wait per 1,000 specs of a submit: a big one takes every replica longer to persist,
 * decode, check and apply, and a wait that ends first answers 503 to a submit that is about to
 * commit (the client's time-out grows with the body too: src/cli/client.ts).
 */
const TIMEOUT_MS_PER_1000_SPECS = 500;

/** How long to wait for a submit of `specs` specs to be applied here. */
export function submitTimeoutMs(baseMs: number, specs: number): number {
  return baseMs + Math.floor(specs / 1000) * TIMEOUT_MS_PER_1000_SPECS;
}

/**
 * The API's command proposals as a node makes them: the `app` envelope around the command's bytes,
 * through the driver's one entry (RaftDriver.requestPropose), answered with the scheduler's effects
 * of that command once this replica applied it (docs/architecture.md §15). The node and the
 * simulator both build JobService's and ScheduleService's `propose` with it.
 */
export function commandProposer(requestPropose: NodeDriver['requestPropose']): JobServiceDeps['propose'] {
  return (data, opts, reply) =>
    requestPropose(envelope({ kind: 'app', data }), opts, {
      resolve: ({ result }) => reply.resolve(result.kind === 'app' ? result.answer : []),
      reject: (err) => reply.reject(err),
    });
}

export class JobService {
  private readonly timeoutMs: number;
  private readonly newJobId: () => JobId;
  private readonly sliceSpecs: number;
  private readonly defer: (fn: () => void) => void;

  constructor(private readonly deps: JobServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.newJobId = deps.newJobId ?? newJobId;
    this.sliceSpecs = deps.sliceSpecs ?? SUBMIT_SLICE_SPECS;
    this.defer = deps.defer ?? ((fn) => setImmediate(fn));
  }

  submit(spec: JobSpec, key: string | null): Promise<SubmitOutcome> {
    return new Promise((resolve, reject) => this.requestSubmit(spec, key, { resolve, reject }));
  }

  /**
   * submit() answering through `reply` (how the simulator's clients submit): always with an
   * outcome; rejected only by an error that is a bug (not a ProposalError).
   */
  requestSubmit(spec: JobSpec, key: string | null, reply: Reply<SubmitOutcome>): void {
    if (key !== null) {
      const held = this.deps.view.jobWithKey(key);
      if (held !== undefined) {
        // The key's job is committed and applied here: a retry is answered with it at once, rather
        // than proposing the whole DAG again for every replica to decode and refuse.
        const conflict = this.keyConflict(key, held, spec);
        if (conflict !== null) return reply.resolve(conflict);
        if (this.deps.view.jobSpec(held) !== undefined) return reply.resolve({ ok: true, id: held, existing: true });
      }
    }
    const id = this.newJobId();
    if (spec.tasks.length > this.sliceSpecs) return this.submitInParts(id, key, spec, reply);
    let data: Uint8Array;
    try {
      data = encodeCommand({ type: 'submit', id, key, spec });
    } catch (err) {
      return reply.resolve({ ok: false, reason: 'invalid', error: errorMessage(err) });
    }
    const timeoutMs = submitTimeoutMs(this.timeoutMs, spec.tasks.length);
    this.deps.propose(
      data,
      { timeoutMs },
      {
        resolve: (effects) => reply.resolve(this.submitAnswered(id, key, spec, effects)),
        reject: (err) => (err instanceof ProposalError ? reply.resolve(this.submitUnanswered(id, err, timeoutMs)) : reply.reject(err)),
      },
    );
  }

  /**
   * A big DAG as `submit-part` entries (staging.ts), one at a time: each part is encoded and
   * proposed once the one before applied here, so no step on any node handles more than a part,
   * and the last part's answer is the submit's.
   */
  private submitInParts(id: JobId, key: string | null, spec: JobSpec, reply: Reply<SubmitOutcome>): void {
    const bounds = partBounds(spec.tasks, this.sliceSpecs);
    const parts = bounds.length - 1;
    if (parts > STAGING_LIMITS.maxParts) {
      const error = `job '${spec.name}' would take ${parts} parts of at most ${this.sliceSpecs} tasks (at most ${STAGING_LIMITS.maxParts}): its tasks are too large; split the job`;
      return reply.resolve({ ok: false, reason: 'invalid', error });
    }
    const { tasks, ...header } = spec;
    const propose = (part: number): void => {
      const slice = tasks.slice(at(bounds, part, 'a part'), at(bounds, part + 1, 'a part'));
      let data: Uint8Array;
      try {
        data = encodeCommand({ type: 'submit-part', id, key, part, parts, spec: { ...header, tasks: slice } });
      } catch (err) {
        return reply.resolve({ ok: false, reason: 'invalid', error: `part ${part + 1} of ${parts}: ${errorMessage(err)}` });
      }
      const timeoutMs = submitTimeoutMs(this.timeoutMs, slice.length);
      this.deps.propose(
        data,
        { timeoutMs },
        {
          resolve: (effects) => {
            const staged = effects.some((e) => e.type === 'submit-staged' && e.requested === id && e.part === part);
            if (staged) this.defer(() => propose(part + 1));
            else reply.resolve(this.submitAnswered(id, key, spec, effects));
          },
          reject: (err) => (err instanceof ProposalError ? reply.resolve(this.submitUnanswered(id, err, timeoutMs)) : reply.reject(err)),
        },
      );
    };
    propose(0);
  }

  /** What the scheduler said of the submit of job `id`, applied here. */
  private submitAnswered(id: JobId, key: string | null, spec: JobSpec, effects: readonly Effect[]): SubmitOutcome {
    for (const e of effects) {
      if (e.type === 'submit-rejected' && e.requested === id)
        return { ok: false, reason: e.retry === true ? 'unavailable' : 'invalid', error: e.error };
      if (e.type !== 'submitted' || e.requested !== id) continue;
      const r = { ok: true, id: e.job, existing: e.existing } as const;
      return r.existing && key !== null ? (this.keyConflict(key, r.id, spec) ?? r) : r;
    }
    // Every submit the machine applies is answered; nothing else can come back for this entry.
    return { ok: false, reason: 'unavailable', error: `the scheduler applied the submit of job ${id} without answering it` };
  }

  /** A submit whose entry was not seen applied: say why, and that the same key makes it safe to retry. */
  private submitUnanswered(id: JobId, err: ProposalError, timeoutMs: number): SubmitOutcome {
    // A snapshot swallowed the entry: whether it was applied is in the state.
    if (err.reason === 'unknown' && this.deps.view.jobSummary(id) !== undefined) return { ok: true, id, existing: false };
    if (err.reason === 'timeout') {
      return {
        ok: false,
        reason: 'unavailable',
        error: `the job was not committed within ${timeoutMs} ms (leader change or lost quorum?); submit again with the same Idempotency-Key to be safe`,
      };
    }
    return {
      ok: false,
      reason: 'unavailable',
      error: `the job was not accepted: ${why(err)}; submit again with the same Idempotency-Key to be safe`,
    };
  }

  /** A conflict when the job holding `key` has another DAG than `spec`; null when it is the same DAG (or gone). */
  private keyConflict(key: string, job: JobId, spec: JobSpec): SubmitOutcome | null {
    const held = this.deps.view.jobSpec(job);
    if (held === undefined || sameJobSpec(held, spec)) return null;
    return {
      ok: false,
      reason: 'conflict',
      error: `the Idempotency-Key ${JSON.stringify(key)} is already used by job ${job} (${JSON.stringify(held.name)}) with a different DAG: use another key, or send the same DAG to get that job back`,
      details: { key, job },
    };
  }

  rerun(id: JobId, req: RerunRequest): Promise<RerunOutcome> {
    return new Promise((resolve, reject) => this.requestRerun(id, req, { resolve, reject }));
  }

  /**
   * Re-runs part of a finished job (docs/dag-file.md §13), answering through `reply` with the
   * machine's decision as this replica applied it. No check before proposing but the job's
   * existence: the machine decides on the state the entry meets, which may differ from this view.
   */
  requestRerun(id: JobId, req: RerunRequest, reply: Reply<RerunOutcome>): void {
    if (this.deps.view.jobSummary(id) === undefined) return reply.resolve({ ok: false, reason: 'not-found', error: `no job ${id}` });
    let data: Uint8Array;
    try {
      data = encodeCommand({ type: 'rerun', job: id, failed: req.failed, tasks: req.tasks, downstream: req.downstream });
    } catch (err) {
      return reply.resolve({ ok: false, reason: 'invalid', error: errorMessage(err) });
    }
    this.deps.propose(
      data,
      { timeoutMs: this.timeoutMs },
      {
        resolve: (effects) => reply.resolve(this.rerunAnswered(id, effects)),
        reject: (err) => (err instanceof ProposalError ? reply.resolve(this.rerunUnanswered(id, err)) : reply.reject(err)),
      },
    );
  }

  private rerunAnswered(id: JobId, effects: readonly Effect[]): RerunOutcome {
    for (const e of effects) {
      if (e.type === 'rerun' && e.job === id)
        return { ok: true, id, state: this.deps.view.jobSummary(id)?.state ?? 'running', tasks: e.tasks };
      if (e.type === 'rerun-rejected' && e.job === id) return { ok: false, reason: RERUN_REFUSAL[e.why], error: e.error };
    }
    return { ok: false, reason: 'unavailable', error: `the scheduler applied the re-run of job ${id} without answering it` };
  }

  private rerunUnanswered(id: JobId, err: ProposalError): RerunOutcome {
    // Unlike a cancel, whether this re-run was applied cannot be told from the state: say so.
    const error =
      err.reason === 'timeout'
        ? `the re-run was not committed within ${this.timeoutMs} ms; see 'meshrun status ${id}' before trying again`
        : `the re-run was not accepted: ${why(err)}; see 'meshrun status ${id}' before trying again`;
    return { ok: false, reason: 'unavailable', error };
  }

  cancel(id: JobId): Promise<CancelOutcome> {
    return new Promise((resolve, reject) => this.requestCancel(id, { resolve, reject }));
  }

  /** cancel() answering through `reply`. */
  requestCancel(id: JobId, reply: Reply<CancelOutcome>): void {
    const job = this.deps.view.jobSummary(id);
    if (!job) return reply.resolve({ ok: false, reason: 'not-found', error: `no job ${id}` });
    if (job.state !== 'running')
      return reply.resolve({ ok: false, reason: 'conflict', error: `job ${id} has already ended: ${job.state}` });
    this.deps.propose(
      encodeCommand({ type: 'cancel', job: id } satisfies Command),
      { timeoutMs: this.timeoutMs },
      {
        resolve: (effects) => reply.resolve(this.cancelAnswered(id, effects)),
        reject: (err) => (err instanceof ProposalError ? reply.resolve(this.cancelUnanswered(id, err)) : reply.reject(err)),
      },
    );
  }

  private cancelAnswered(id: JobId, effects: readonly Effect[]): CancelOutcome {
    for (const e of effects) if (e.type === 'job' && e.job === id && e.state !== 'running') return { ok: true, id, state: e.state };
    // The machine ignored the cancel: the job ended, or was removed, between the check above and the entry.
    const now = this.deps.view.jobSummary(id);
    if (!now) return { ok: false, reason: 'not-found', error: `no job ${id}` };
    return now.state === 'running'
      ? { ok: false, reason: 'unavailable', error: `the scheduler applied the cancel of job ${id} and left it running` }
      : { ok: true, id, state: now.state };
  }

  private cancelUnanswered(id: JobId, err: ProposalError): CancelOutcome {
    // It may have ended on its own meanwhile (or the cancel may be inside a snapshot): the state says.
    const now = this.deps.view.jobSummary(id);
    if (now && now.state !== 'running') return { ok: true, id, state: now.state };
    const error =
      err.reason === 'timeout'
        ? `the cancel was not committed within ${this.timeoutMs} ms; try again`
        : `the cancel was not accepted: ${why(err)}; try again`;
    return { ok: false, reason: 'unavailable', error };
  }
}

/** How the API answers each refusal of a re-run by the state machine (docs/http-api.md §16). */
const RERUN_REFUSAL: Readonly<Record<RerunRefusal, Exclude<FailureReason, 'unavailable'>>> = {
  'unknown-job': 'not-found',
  'not-finished': 'conflict',
  'unknown-task': 'invalid',
  nothing: 'conflict',
};

/** Why a proposal was not seen applied, in the user's words (the schedule service shares it). */
export function why(err: ProposalError): string {
  switch (err.reason) {
    case 'no-leader':
      return 'no leader is known right now (election in progress or quorum lost)';
    case 'too-large':
      return 'the command is larger than a Raft entry may be';
    case 'overloaded':
      return 'the leader has too much uncommitted data; try again shortly';
    default:
      return err.message;
  }
}

/**
 * Whether two normalised DAGs are the same job: the same fields and values, whatever the order of
 * object keys, of the tasks (a mapping in the file) and of each task's deps (a set). Compared in
 * place, task by task through a map of names: a retried 50,000-task submit must not stall the
 * node building and sorting canonical texts of both (issue 16).
 */
export function sameJobSpec(a: JobSpec, b: JobSpec): boolean {
  const { tasks: tasksA, ...restA } = a;
  const { tasks: tasksB, ...restB } = b;
  if (tasksA.length !== tasksB.length || !sameJson(restA, restB)) return false;
  const byName = new Map<string, TaskSpec>();
  for (const t of tasksB) byName.set(t.name, t);
  // Names are unique in a valid spec; a repeated one must not stand in for a missing one (each matches once).
  if (byName.size !== tasksB.length) return false;
  for (const t of tasksA) {
    const u = byName.get(t.name);
    if (u === undefined || !sameTask(t, u)) return false;
    byName.delete(t.name);
  }
  return true;
}

function sameTask(a: TaskSpec, b: TaskSpec): boolean {
  const { deps: depsA, ...restA } = a;
  const { deps: depsB, ...restB } = b;
  return sameDeps(depsA, depsB) && sameJson(restA, restB);
}

/** The same names as a sorted list (repeats count), without sorting when they already agree in order. */
function sameDeps(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  if (a.every((d, i) => d === b[i])) return true;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((d, i) => d === sb[i]);
}

/** Equal as JSON values: arrays in order, objects whatever the order of their keys, a key set to undefined as absent. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameJson(x, b[i]));
  }
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const keysA = Object.keys(oa).filter((k) => oa[k] !== undefined);
  const keysB = Object.keys(ob).filter((k) => ob[k] !== undefined);
  return keysA.length === keysB.length && keysA.every((k) => Object.hasOwn(ob, k) && sameJson(oa[k], ob[k]));
}

/**
 * Where a big DAG's parts start, and its end: at most `sliceSpecs` specs and about
 * PART_BUDGET_BYTES each (an estimate; the encoder refuses a part that would not fit an entry).
 */
export function partBounds(tasks: readonly TaskSpec[], sliceSpecs: number): number[] {
  const bounds = [0];
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < tasks.length; i++) {
    const size = estimatedBytes(at(tasks, i, 'i < tasks.length'));
    if (count > 0 && (count >= sliceSpecs || bytes + size > PART_BUDGET_BYTES)) {
      bounds.push(i);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += size;
  }
  bounds.push(tasks.length);
  return bounds;
}

/** A task's encoded size, from above (UTF-16 lengths times 3): enough to cut parts that fit. */
function estimatedBytes(t: TaskSpec): number {
  let n = 48 + t.name.length * 3 + (t.cwd?.length ?? 0) * 3 + (t.pool?.length ?? 0) * 3;
  if (t.exec.kind === 'run') n += t.exec.command.length * 3;
  else n += t.exec.name.length * 3 + (t.exec.args === null ? 0 : JSON.stringify(t.exec.args).length * 3);
  for (const d of t.deps) n += 2 + d.length * 3;
  for (const [k, v] of Object.entries(t.env)) n += 4 + (k.length + v.length) * 3;
  for (const [k, v] of Object.entries(t.on ?? {})) n += 4 + (k.length + v.length) * 3;
  return n;
}

/** 12 lowercase hex digits: short enough to type, 48 bits so collisions need millions of jobs (and are refused, not merged). */
export function newJobId(): JobId {
  return randomUUID().replaceAll('-', '').slice(0, 12);
}
