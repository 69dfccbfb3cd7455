// Schedules as the API sees them on this node (docs/http-api.md §15): each change is proposed to
// the log and answered once this replica has applied it, by the `schedule-changed` or
// `schedule-refused` effect that carries this request's own id.
import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { ScheduleCommand, ScheduleEffect, ScheduleSpec } from '../scheduler/schedule-types.js';
import type { JobId } from '../scheduler/types.js';
import { newJobId, type JobService } from './job-service.js';

export type ScheduleChange = 'created' | 'replaced' | 'deleted' | 'paused' | 'resumed' | 'triggered';

export type ScheduleOutcome =
  | { readonly ok: true; readonly name: string; readonly change: ScheduleChange; readonly job: JobId | null }
  | { readonly ok: false; readonly status: 400 | 404 | 409 | 503; readonly error: string };

export type ScheduleAction = 'delete' | 'pause' | 'resume' | 'trigger';

const STATUS = { 'not-found': 404, conflict: 409, invalid: 400 } as const;

export class ScheduleService {
  constructor(
    private readonly jobs: Pick<JobService, 'proposeAndWait'>,
    /** This node's clock (a put's and a resume's `at`). */
    private readonly now: () => number = Date.now,
  ) {}

  put(spec: ScheduleSpec): Promise<ScheduleOutcome> {
    return this.run({ type: 'schedule-put', request: randomUUID(), spec, at: Math.floor(this.now()) });
  }

  act(action: ScheduleAction, name: string): Promise<ScheduleOutcome> {
    const request = randomUUID();
    switch (action) {
      case 'delete':
        return this.run({ type: 'schedule-delete', request, name });
      case 'pause':
      case 'resume':
        return this.run({ type: 'schedule-pause', request, name, paused: action === 'pause', at: Math.floor(this.now()) });
      case 'trigger':
        return this.run({ type: 'schedule-trigger', request, name, id: newJobId() });
    }
  }

  private async run(cmd: Exclude<ScheduleCommand, { type: 'fire' }>): Promise<ScheduleOutcome> {
    let data: Uint8Array;
    try {
      data = encodeCommand(cmd);
    } catch (err) {
      return { ok: false, status: 400, error: errorMessage(err) };
    }
    const answer = await this.jobs.proposeAndWait(data, (e): ScheduleOutcome | undefined => {
      if ((e.type !== 'schedule-changed' && e.type !== 'schedule-refused') || e.request !== cmd.request) return undefined;
      return answerOf(e);
    });
    if (answer.kind === 'refused') return { ok: false, status: 503, error: `the change was not accepted: ${answer.why}` };
    if (answer.kind === 'timeout') return { ok: false, status: 503, error: 'the change was not committed in time (leader change or lost quorum?); look at the schedule and try again' };
    return answer.value;
  }
}

function answerOf(e: Extract<ScheduleEffect, { type: 'schedule-changed' | 'schedule-refused' }>): ScheduleOutcome {
  if (e.type === 'schedule-changed') return { ok: true, name: e.name, change: e.change, job: e.job };
  return { ok: false, status: STATUS[e.code], error: e.error };
}
