// Pools as the API sees them on this node (docs/http-api.md §17): a size change is proposed to the
// log and answered with what the scheduler decided when this replica applied it (RaftDriver.propose,
// docs/architecture.md §15): the `pool` effect naming it, or the `ignored` refusal of its pool-set.
import type { PoolOutcome } from '../api/outcomes.js';
import { errorMessage } from '../errors.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import { poolNameProblem, poolSizeProblem } from '../scheduler/placement.js';
import type { Effect } from '../scheduler/types.js';
import { why, type JobServiceDeps } from './job-service.js';
import { ProposalError } from './proposal.js';

export interface PoolServiceDeps {
  /** As JobServiceDeps.propose: answers with the scheduler's effects of the command once applied here, or a ProposalError. */
  readonly propose: JobServiceDeps['propose'];
  /** How long to wait for this replica to apply a change before answering `unavailable`. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export class PoolService {
  private readonly timeoutMs: number;

  constructor(private readonly deps: PoolServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Creates pool `name` or sets its size. */
  async set(name: string, size: unknown): Promise<PoolOutcome> {
    const problem = poolNameProblem(name) ?? poolSizeProblem(size);
    if (problem !== null) return { ok: false, reason: 'invalid', error: problem };
    let data: Uint8Array;
    try {
      data = encodeCommand({ type: 'pool-set', name, size: size as number });
    } catch (err) {
      return { ok: false, reason: 'invalid', error: errorMessage(err) };
    }
    let effects: readonly Effect[];
    try {
      effects = await new Promise((resolve, reject) => this.deps.propose(data, { timeoutMs: this.timeoutMs }, { resolve, reject }));
    } catch (err) {
      if (!(err instanceof ProposalError)) throw err;
      const error =
        err.reason === 'timeout'
          ? `the change was not committed within ${this.timeoutMs} ms (leader change or lost quorum?); look at the pool and try again`
          : `the change was not seen applied: ${why(err)}; look at the pool and try again`;
      return { ok: false, reason: 'unavailable', error };
    }
    for (const e of effects) {
      if (e.type === 'pool' && e.name === name) return { ok: true, name, size: e.size };
      if (e.type === 'ignored' && e.command === 'pool-set') return { ok: false, reason: 'invalid', error: e.reason };
    }
    return {
      ok: false,
      reason: 'unavailable',
      error: `the scheduler applied the pool-set of ${JSON.stringify(name)} without answering it`,
    };
  }
}
