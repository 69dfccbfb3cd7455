// Membership changes of this node, one at a time. Raft accepts a single pending change and refuses
// the next with 'conf-pending'; the join handler, the membership loop and a leaving node all make
// changes, so they queue here instead of racing for the slot, and each waits until its change is
// applied (or its deadline passes).
import type { ConfChange, ConfState } from '../raft/types.js';
import type { RaftDriver } from './driver.js';
import { sleep, waitFor } from './wait.js';

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
  /** Index of the newest change this node appended as leader: pending until applied. */
  private proposedIndex = 0;

  constructor(private readonly driver: RaftDriver) {}

  get idle(): boolean {
    return this.queued === 0;
  }

  /** A change this node proposed is not applied yet (the membership loop waits for it). */
  pending(applied: number): boolean {
    return this.proposedIndex > applied;
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

  private async change(cc: ConfChange, deadline: number, record: boolean): Promise<void> {
    const raft = this.driver.raft;
    const what = `${cc.type} ${cc.node}`;
    for (;;) {
      if (!record && reflects(raft.status().membership.conf, cc)) return;
      const left = deadline - Date.now();
      if (left <= 0) throw new ConfChangeError(`${what}: not applied in time`);
      this.driver.observeTime();
      const r = raft.proposeConfChange(cc);
      this.driver.kick();
      if (r.ok && 'index' in r) {
        // Appended by us as leader: done when applied, unless a new leader overwrote the entry.
        this.proposedIndex = r.index;
        await waitFor(() => raft.status().applied >= r.index, left);
        if (record && raft.status().applied >= r.index) return;
      } else if (r.ok) {
        // Forwarded to the leader, which may drop it (it has a change pending): look, then retry.
        await waitFor(() => reflects(raft.status().membership.conf, cc), Math.min(left, 1000));
      } else if (r.reason === 'conf-pending' || r.reason === 'no-leader' || r.reason === 'transferring' || r.reason === 'overloaded') {
        await sleep(Math.min(left, 100));
      } else {
        throw new ConfChangeError(`${what}: refused (${r.reason})`);
      }
    }
  }
}
