// Jobs as the API sees them on this node: a submit or cancel is proposed to the log and answered
// once this replica has applied it, so the caller can read its own write here at once. A proposal
// forwarded to the leader cannot report back, so the wait watches the applied effects for this
// request's own job id instead (the same on the leader).
//
// An idempotency key names one job (docs/http-api.md §4): a submit whose key is held by a job with
// another DAG is a 409 naming the key and that job, not the old job passed off as this one. The
// state machine answers a known key with its job whatever the spec (that rule is replicated and
// stays); this check is the API's, on this replica's view: before proposing when the key is
// known here, and again when the machine answers `existing`.
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { ProposeResult } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { Command, Effect, JobId, JobSpec, JobState } from '../scheduler/types.js';
import type { SchedulerHost } from './scheduler-host.js';

export type SubmitOutcome =
  | { readonly ok: true; readonly id: JobId; readonly existing: boolean }
  | { readonly ok: false; readonly status: 400 | 409 | 503; readonly error: string; readonly details?: unknown };

export type CancelOutcome =
  | { readonly ok: true; readonly id: JobId; readonly state: JobState }
  | { readonly ok: false; readonly status: 404 | 409 | 503; readonly error: string };

export interface JobServiceDeps {
  readonly host: SchedulerHost;
  /** Hands already-encoded command bytes to Raft (the node adds the entry envelope). */
  readonly propose: (data: Uint8Array) => ProposeResult;
  /** How long to wait for this replica to apply a proposal before answering 503. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class JobService {
  private readonly timeoutMs: number;

  constructor(private readonly deps: JobServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async submit(spec: JobSpec, key: string | null): Promise<SubmitOutcome> {
    if (key !== null) {
      const held = this.deps.host.view.jobWithKey(key);
      if (held !== undefined) {
        const conflict = this.keyConflict(key, held, spec);
        if (conflict !== null) return conflict;
      }
    }
    const id = newJobId();
    let data: Uint8Array;
    try {
      data = encodeCommand({ type: 'submit', id, key, spec });
    } catch (err) {
      return { ok: false, status: 400, error: errorMessage(err) };
    }
    const answer = await this.proposeAndWait(data, (e) => {
      if (e.type === 'submitted' && e.requested === id) return { ok: true, id: e.job, existing: e.existing } as const;
      if (e.type === 'submit-rejected' && e.requested === id) return { ok: false, status: 400, error: e.error } as const;
      return undefined;
    });
    if (answer.kind === 'refused') return { ok: false, status: 503, error: `the job was not accepted: ${answer.why}` };
    if (answer.kind === 'timeout') {
      return {
        ok: false,
        status: 503,
        error: `the job was not committed within ${this.timeoutMs} ms (leader change or lost quorum?); submit again with the same Idempotency-Key to be safe`,
      };
    }
    const r = answer.value;
    if (r.ok && r.existing && key !== null) return this.keyConflict(key, r.id, spec) ?? r;
    return r;
  }

  /** A 409 when the job holding `key` has another DAG than `spec`; null when it is the same DAG (or gone). */
  private keyConflict(key: string, job: JobId, spec: JobSpec): SubmitOutcome | null {
    const held = this.deps.host.view.jobSpec(job);
    if (held === undefined || sameJobSpec(held, spec)) return null;
    return {
      ok: false,
      status: 409,
      error: `the Idempotency-Key ${JSON.stringify(key)} is already used by job ${job} (${JSON.stringify(held.name)}) with a different DAG: use another key, or send the same DAG to get that job back`,
      details: { key, job },
    };
  }

  async cancel(id: JobId): Promise<CancelOutcome> {
    const job = this.deps.host.view.job(id);
    if (!job) return { ok: false, status: 404, error: `no job ${id}` };
    if (job.state !== 'running') return { ok: false, status: 409, error: `job ${id} has already ended: ${job.state}` };
    const data = encodeCommand({ type: 'cancel', job: id } satisfies Command);
    const answer = await this.proposeAndWait(data, (e) => {
      if (e.type === 'job' && e.job === id && e.state !== 'running') return { ok: true, id, state: e.state } as const;
      return undefined;
    });
    if (answer.kind === 'refused') return { ok: false, status: 503, error: `the cancel was not accepted: ${answer.why}` };
    if (answer.kind === 'timeout') {
      // It may have ended on its own meanwhile; the state says.
      const now = this.deps.host.view.job(id);
      if (now && now.state !== 'running') return { ok: true, id, state: now.state };
      return { ok: false, status: 503, error: `the cancel was not committed within ${this.timeoutMs} ms; try again` };
    }
    return answer.value;
  }

  private proposeAndWait<T>(
    data: Uint8Array,
    match: (e: Effect) => T | undefined,
  ): Promise<{ kind: 'done'; value: T } | { kind: 'refused'; why: string } | { kind: 'timeout' }> {
    return new Promise((resolve) => {
      // eslint-disable-next-line prefer-const -- finish() clears it; it is set once the proposal is in
      let timer: NodeJS.Timeout | undefined;
      const unsubscribe = this.deps.host.onEffects((effects) => {
        for (const e of effects) {
          const v = match(e);
          if (v === undefined) continue;
          finish({ kind: 'done', value: v });
          return;
        }
      });
      const finish = (r: { kind: 'done'; value: T } | { kind: 'refused'; why: string } | { kind: 'timeout' }): void => {
        unsubscribe();
        clearTimeout(timer);
        resolve(r);
      };
      const r = this.deps.propose(data);
      if (!r.ok) {
        finish({ kind: 'refused', why: refusal(r.reason) });
        return;
      }
      timer = setTimeout(() => finish({ kind: 'timeout' }), this.timeoutMs);
    });
  }
}

function refusal(reason: string): string {
  switch (reason) {
    case 'no-leader':
      return 'no leader is known right now (election in progress or quorum lost); try again';
    case 'too-large':
      return 'the command is larger than a Raft entry may be';
    case 'overloaded':
      return 'the leader has too much uncommitted data; try again shortly';
    default:
      return reason;
  }
}

/**
 * Whether two normalised DAGs are the same job: the same fields and values, whatever the order of
 * object keys, of the tasks (a mapping in the file) and of each task's deps (a set).
 */
export function sameJobSpec(a: JobSpec, b: JobSpec): boolean {
  return canonicalJson(canonicalSpec(a)) === canonicalJson(canonicalSpec(b));
}

function canonicalSpec(spec: JobSpec): unknown {
  const tasks = [...spec.tasks].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)).map((t) => ({ ...t, deps: [...t.deps].sort() }));
  return { ...spec, tasks };
}

/** JSON with every object's keys sorted (arrays keep their order). */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JSON.stringify returns undefined for undefined, whatever its type says
  return JSON.stringify(v) ?? 'null';
}

/** 12 lowercase hex digits: short enough to type, 48 bits so collisions need millions of jobs (and are refused, not merged). */
function newJobId(): JobId {
  return randomUUID().replaceAll('-', '').slice(0, 12);
}
