// Schedules as the API sees them on this node (docs/http-api.md §15): each change is proposed to
// the log and answered with what the scheduler decided when this replica applied it
// (RaftDriver.requestPropose, docs/architecture.md §15): the `schedule-changed` or
// `schedule-refused` effect of this request. Callback forms beside the promises, as JobService's:
// the simulator runs this service unchanged.
import { randomUUID } from 'node:crypto';
import type { FailureReason, ScheduleAction, ScheduleOutcome } from '../api/outcomes.js';
import { errorMessage } from '../errors.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { ScheduleCommand, ScheduleEffect, ScheduleSpec } from '../scheduler/schedule-types.js';
import type { Effect, JobId } from '../scheduler/types.js';
import { newJobId, why, type JobServiceDeps } from './job-service.js';
import { ProposalError, type Reply } from './proposal.js';

export interface ScheduleServiceDeps {
  /** As JobServiceDeps.propose (commandProposer): the scheduler's effects of the command once applied here, or a ProposalError. */
  readonly propose: JobServiceDeps['propose'];
  /** This node's clock (a put's and a resume's `at`). */
  readonly now: () => number;
  /** How long to wait for this replica to apply a change before answering `unavailable`. */
  readonly timeoutMs?: number;
  /** Draws a change's request id (default a random UUID; the simulator draws from its seed). */
  readonly newRequestId?: () => string;
  /** Draws the id of a triggered run's job (default newJobId). */
  readonly newJobId?: () => JobId;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const REASON: Readonly<Record<Extract<ScheduleEffect, { type: 'schedule-refused' }>['code'], FailureReason>> = {
  'not-found': 'not-found',
  conflict: 'conflict',
  invalid: 'invalid',
};

type Change = Exclude<ScheduleCommand, { type: 'fire' }>;

export class ScheduleService {
  private readonly timeoutMs: number;
  private readonly newRequestId: () => string;
  private readonly newJobId: () => JobId;

  constructor(private readonly deps: ScheduleServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.newRequestId = deps.newRequestId ?? randomUUID;
    this.newJobId = deps.newJobId ?? newJobId;
  }

  put(spec: ScheduleSpec): Promise<ScheduleOutcome> {
    return new Promise((resolve, reject) => this.requestPut(spec, { resolve, reject }));
  }

  /** put() answering through `reply` (how the simulator's clients change schedules). */
  requestPut(spec: ScheduleSpec, reply: Reply<ScheduleOutcome>): void {
    this.run({ type: 'schedule-put', request: this.newRequestId(), spec, at: Math.floor(this.deps.now()) }, reply);
  }

  act(action: ScheduleAction, name: string): Promise<ScheduleOutcome> {
    return new Promise((resolve, reject) => this.requestAct(action, name, { resolve, reject }));
  }

  /** act() answering through `reply`. */
  requestAct(action: ScheduleAction, name: string, reply: Reply<ScheduleOutcome>): void {
    const request = this.newRequestId();
    switch (action) {
      case 'delete':
        return this.run({ type: 'schedule-delete', request, name }, reply);
      case 'pause':
      case 'resume':
        return this.run({ type: 'schedule-pause', request, name, paused: action === 'pause', at: Math.floor(this.deps.now()) }, reply);
      case 'trigger':
        return this.run({ type: 'schedule-trigger', request, name, id: this.newJobId() }, reply);
    }
  }

  /** Proposes `cmd` and answers with what this replica's scheduler said of it; rejects only on a bug (not a ProposalError). */
  private run(cmd: Change, reply: Reply<ScheduleOutcome>): void {
    let data: Uint8Array;
    try {
      data = encodeCommand(cmd);
    } catch (err) {
      return reply.resolve({ ok: false, reason: 'invalid', error: errorMessage(err) });
    }
    this.deps.propose(
      data,
      { timeoutMs: this.timeoutMs },
      {
        resolve: (effects) => reply.resolve(answered(cmd, effects)),
        reject: (err) => (err instanceof ProposalError ? reply.resolve(this.unanswered(err)) : reply.reject(err)),
      },
    );
  }

  private unanswered(err: ProposalError): ScheduleOutcome {
    const error =
      err.reason === 'timeout'
        ? `the change was not committed within ${this.timeoutMs} ms (leader change or lost quorum?); look at the schedule and try again`
        : `the change was not seen applied: ${why(err)}; look at the schedule and try again`;
    return { ok: false, reason: 'unavailable', error };
  }
}

/** What this replica's scheduler said of the change `cmd`, from the effects of its entry. */
function answered(cmd: Change, effects: readonly Effect[]): ScheduleOutcome {
  for (const e of effects) {
    if (e.type === 'schedule-changed' && e.request === cmd.request) return { ok: true, name: e.name, change: e.change, job: e.job };
    if (e.type === 'schedule-refused' && e.request === cmd.request) return { ok: false, reason: REASON[e.code], error: e.error };
  }
  // Every schedule change the machine applies is answered; nothing else can come back for this entry.
  return {
    ok: false,
    reason: 'unavailable',
    error: `the scheduler applied the ${cmd.type} of ${JSON.stringify(changeName(cmd))} without answering it`,
  };
}

function changeName(cmd: Change): string {
  return cmd.type === 'schedule-put' ? cmd.spec.name : cmd.name;
}
