// What the node answers the API's requests with, in the API's own words: a success, or a failure
// with a domain reason and a message for people. The node never speaks HTTP: the status code of
// each reason is decided here, once (docs/http-api.md §1).
import type { FastifyReply } from 'fastify';
import type { NodeId } from '../raft/types.js';
import type { JobId, JobState } from '../scheduler/types.js';
import type { ApiError } from './types.js';

/**
 * invalid: the request cannot be done as sent (a DAG too large, a probe value too long);
 * not-found: no such job, task, attempt or log; conflict: it contradicts the state (a key held by
 * another DAG, a job that already ended); unavailable: the cluster could not do it now (no leader,
 * lost quorum, a leader change, a holder that does not answer), so the same request may succeed later.
 */
export type FailureReason = 'invalid' | 'not-found' | 'conflict' | 'unavailable';

export interface Failure<R extends FailureReason = FailureReason> {
  readonly ok: false;
  readonly reason: R;
  readonly error: string;
  readonly details?: unknown;
}

export type SubmitOutcome =
  { readonly ok: true; readonly id: JobId; readonly existing: boolean } | Failure<'invalid' | 'conflict' | 'unavailable'>;

export type CancelOutcome =
  { readonly ok: true; readonly id: JobId; readonly state: JobState } | Failure<'not-found' | 'conflict' | 'unavailable'>;

/** What to re-run in a finished job (docs/http-api.md §16): its failed part, named tasks, and what follows them. */
export interface RerunRequest {
  readonly failed: boolean;
  readonly tasks: readonly string[];
  readonly downstream: boolean;
}

/** A re-run applied: the job runs again, with `tasks` of its tasks back to waiting. */
export type RerunOutcome =
  | { readonly ok: true; readonly id: JobId; readonly state: JobState; readonly tasks: number }
  | Failure<'invalid' | 'not-found' | 'conflict' | 'unavailable'>;

/** A schedule change (docs/http-api.md §15), answered from the effect this node applied for it. */
export type ScheduleChange = 'created' | 'replaced' | 'deleted' | 'paused' | 'resumed' | 'triggered';

export type ScheduleAction = 'delete' | 'pause' | 'resume' | 'trigger';

/** `job`: the run a trigger started (null for the other changes). */
export type ScheduleOutcome =
  { readonly ok: true; readonly name: string; readonly change: ScheduleChange; readonly job: JobId | null } | Failure;

/** A pool's size set (docs/http-api.md §17). */
export type PoolOutcome = { readonly ok: true; readonly name: string; readonly size: number } | Failure<'invalid' | 'unavailable'>;

/** The test hook's probe (--test-hooks): the index at which this node applied it. */
export type ProbeOutcome = { readonly ok: true; readonly index: number } | Failure<'invalid' | 'unavailable'>;

/** One attempt's task log, read here or from the node that ran it. */
export type TaskLogOutcome =
  | {
      readonly ok: true;
      readonly node: NodeId;
      readonly attempt: number;
      readonly data: Uint8Array;
      readonly size: number;
      readonly truncated: boolean;
    }
  | Failure<'not-found' | 'unavailable'>;

const HTTP_STATUS: Readonly<Record<FailureReason, 400 | 404 | 409 | 503>> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  unavailable: 503,
};

export function httpStatus(reason: FailureReason): 400 | 404 | 409 | 503 {
  return HTTP_STATUS[reason];
}

/** Sends a failure as the API's error body (`{"error", "details"?}`) with its reason's status. */
export function sendFailure(reply: FastifyReply, f: Failure): FastifyReply {
  const body: ApiError = f.details === undefined ? { error: f.error } : { error: f.error, details: f.details };
  return reply.code(httpStatus(f.reason)).send(body);
}
