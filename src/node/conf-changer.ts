// Membership changes of this node, one at a time. Raft accepts a single pending change and refuses
// the next with 'conf-pending'; the join handler, the membership loop and a leaving node all make
// changes, so they queue here instead of racing for the slot, and each is answered when its change
// is applied (RaftDriver.proposeConfChange, docs/architecture.md §15), or its deadline passes.
import type { ConfChange, ConfState } from '../raft/types.js';
import type { EntryOutcome } from './cluster-state.js';
import type { RaftDriver } from './driver.js';
import { ProposalError } from './proposal.js';
import { sleep } from './wait.js';

export class ConfChangeError extends Error {
  override readonly name = 'ConfChangeError';
}

/** True when `conf` already shows the effect of `cc`. */
export function reflects(conf: ConfState, cc: ConfChange): boolean {
  switch (cc.type) {
    case 'addVoter':
      return conf.voters.includes(cc.node);
    case 'addLearner':
      return conf.learners.includes(cc.node);
    case 'remove':
      return !conf.voters.includes(cc.node) && !conf.learners.includes(cc.node);
  }
}

export class ConfChanger {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  /** Every entry up to this index must be applied before a change this node gave up on can no longer be pending. */
  private unsettledUpTo = 0;

  constructor(private readonly driver: RaftDriver<EntryOutcome<unknown>>) {}

  get idle(): boolean {
    return this.queued === 0;
  }

  /** A change this node proposed may not be applied yet (the membership loop waits for it). */
  pending(applied: number): boolean {
    return this.unsettledUpTo > applied;
  }

  /**
   * Queue `cc`; resolves once it is applied here, rejects with a ConfChangeError at the deadline or
   * on a refusal. With `record`, the change is appended even when the membership already shows it:
   * a founding node writes its own seat into the log, so nodes that replay the log from its start
   * learn who the first voter is.
   */
  run(cc: ConfChange, timeoutMs: number, opts: { readonly record?: boolean } = {}): Promise<void> {
    this.queued++;
    const deadline = Date.now() + timeoutMs;
    const done = this.tail.then(() => this.change(cc, deadline, opts.record ?? false));
    this.tail = done.then(
      () => undefined,
      () => undefined,
    );
    return done.finally(() => this.queued--);
  }

  /** Proposes `cc` until it is applied, retrying while the core's single slot for a change is taken. */
  private async change(cc: ConfChange, deadline: number, record: boolean): Promise<void> {
    const what = `${cc.type} ${cc.node}`;
    for (;;) {
      if (!record && reflects(this.driver.status().membership.conf, cc)) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new ConfChangeError(`${what}: not applied in time`);
      try {
        const { result } = await this.driver.proposeConfChange(cc, { timeoutMs: left });
        // Applied; a change that took no effect (it was already so) is checked against the membership above.
        if (record || (result.kind === 'conf' && result.changed)) return;
      } catch (err) {
        if (!(err instanceof ProposalError)) throw err;
        await this.afterFailure(err, what, left);
      }
    }
  }

  /** Returns to retry, or throws when the change cannot be made. */
  private async afterFailure(err: ProposalError, what: string, left: number): Promise<void> {
    switch (err.reason) {
      case 'conf-pending':
      case 'no-leader':
      case 'transferring':
      case 'overloaded':
      case 'busy':
        // The slot frees when the pending change is applied; there is no answer to wait for.
        await sleep(Math.min(left, 100));
        return;
      case 'lost':
      case 'unknown':
        // Overwritten, or swallowed by a snapshot: the membership says whether to propose again.
        return;
      case 'timeout':
        // It may still be applied: until everything in the log now is, the change counts as pending.
        this.unsettledUpTo = this.driver.status().lastIndex;
        throw new ConfChangeError(`${what}: not applied in time`);
      default:
        throw new ConfChangeError(`${what}: refused (${err.reason})`);
    }
  }
}
