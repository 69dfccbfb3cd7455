// Schedules as the API sees them on this node (docs/http-api.md §15): each change is proposed to
// the log and answered with what the scheduler decided when this replica applied it
// (RaftDriver.propose, docs/architecture.md §15): the `schedule-changed` or `schedule-refused`
// effect of this request.
import { randomUUID } from 'node:crypto';
import type { FailureReason, ScheduleAction, ScheduleOutcome } from '../api/outcomes.js';
import { errorMessage } from '../errors.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { ScheduleCommand, ScheduleEffect, ScheduleSpec } from '../scheduler/schedule-types.js';
import type { Effect } from '../scheduler/types.js';
import type { ProposeOptions } from './driver.js';
import { newJobId, why } from './job-service.js';
import { ProposalError } from './proposal.js';

export interface ScheduleServiceDeps {
  /** As JobServiceDeps.propose: the scheduler's effects of the command once applied here, or a ProposalError. */
  readonly propose: (command: Uint8Array, opts: ProposeOptions) => Promise<readonly Effect[]>;
  /** This node's clock (a put's and a resume's `at`). */
  readonly now: () => number;
  /** How long to wait for this replica to apply a change before answering `unavailable`. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

const REASON: Readonly<Record<Extract<ScheduleEffect, { type: 'schedule-refused' }>['code'], FailureReason>> = {
  'not-found': 'not-found',
  conflict: 'conflict',
  invalid: 'invalid',
};

export class ScheduleService {
  private readonly timeoutMs: number;

  constructor(private readonly deps: ScheduleServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  put(spec: ScheduleSpec): Promise<ScheduleOutcome> {
    return this.run({ type: 'schedule-put', request: randomUUID(), spec, at: Math.floor(this.deps.now()) });
  }

  act(action: ScheduleAction, name: string): Promise<ScheduleOutcome> {
    const request = randomUUID();
    switch (action) {
      case 'delete':
        return this.run({ type: 'schedule-delete', request, name });
      case 'pause':
      case 'resume':
        return this.run({ type: 'schedule-pause', request, name, paused: action === 'pause', at: Math.floor(this.deps.now()) });
      case 'trigger':
        return this.run({ type: 'schedule-trigger', request, name, id: newJobId() });
    }
  }

  private async run(cmd: Exclude<ScheduleCommand, { type: 'fire' }>): Promise<ScheduleOutcome> {
    let data: Uint8Array;
    try {
      data = encodeCommand(cmd);
    } catch (err) {
      return { ok: false, reason: 'invalid', error: errorMessage(err) };
    }
    let effects: readonly Effect[];
    try {
      effects = await this.deps.propose(data, { timeoutMs: this.timeoutMs });
    } catch (err) {
      if (!(err instanceof ProposalError)) throw err;
      const error =
        err.reason === 'timeout'
          ? `the change was not committed within ${this.timeoutMs} ms (leader change or lost quorum?); look at the schedule and try again`
          : `the change was not seen applied: ${why(err)}; look at the schedule and try again`;
      return { ok: false, reason: 'unavailable', error };
    }
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
}

function changeName(cmd: Exclude<ScheduleCommand, { type: 'fire' }>): string {
  return cmd.type === 'schedule-put' ? cmd.spec.name : cmd.name;
}
