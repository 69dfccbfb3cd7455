// Membership changes of this node, one at a time. Raft accepts a single pending change and refuses
// the next with 'conf-pending'; the join handler, the membership loop and a leaving node all make
// changes, so they queue here instead of racing for the slot, and each is answered when its change
// is applied (RaftDriver.requestConfChange, docs/architecture.md §15), or its deadline passes. The
// waiting runs on an injected clock and answers through callbacks, so the simulator runs this class
// unchanged (docs/architecture.md §2).
import type { ConfChange, ConfState } from '../raft/types.js';
import type { Clock } from '../worker/types.js';
import type { RaftDriver } from './driver.js';
import { ProposalError, type Reply } from './proposal.js';
import { systemClock } from './system-clock.js';

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

/** What the changer needs of the driver. */
export type ConfDriver = Pick<RaftDriver, 'status' | 'requestConfChange'>;

export class ConfChanger {
  /** Changes waiting for the one in progress, oldest first. */
  private readonly waiting: (() => void)[] = [];
  private busy = false;
  private queued = 0;
  /** Every entry up to this index must be applied before a change this node gave up on can no longer be pending. */
  private unsettledUpTo = 0;

  constructor(
    private readonly driver: ConfDriver,
    /** Deadlines and retries: systemClock in a node, the process clock in sim/. */
    private readonly clock: Pick<Clock, 'now' | 'after'> = systemClock,
  ) {}

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
    return new Promise((resolve, reject) => this.request(cc, timeoutMs, { resolve, reject }, opts));
  }

  /** run() answering through `reply` (how the simulator and the join handler wait). */
  request(cc: ConfChange, timeoutMs: number, reply: Reply<void>, opts: { readonly record?: boolean } = {}): void {
    this.queued++;
    const deadline = this.clock.now() + timeoutMs;
    this.waiting.push(() =>
      this.attempt(cc, deadline, opts.record ?? false, (err) => {
        this.queued--;
        this.busy = false;
        if (err) reply.reject(err);
        else reply.resolve();
        this.next();
      }),
    );
    this.next();
  }

  private next(): void {
    if (this.busy) return;
    const change = this.waiting.shift();
    if (!change) return;
    this.busy = true;
    change();
  }

  /** One try at `cc`, and the next after whatever wait its outcome calls for, until done or the deadline. */
  private attempt(cc: ConfChange, deadline: number, record: boolean, done: (err: Error | null) => void): void {
    const what = `${cc.type} ${cc.node}`;
    const again = (): void => this.attempt(cc, deadline, record, done);
    if (!record && reflects(this.driver.status().membership.conf, cc)) return done(null);
    const left = deadline - this.clock.now();
    if (left <= 0) return done(new ConfChangeError(`${what}: not applied in time`));
    this.driver.requestConfChange(
      cc,
      { timeoutMs: left },
      {
        // Applied: the membership now says whether it took effect (a change to what already held did not).
        resolve: () => (record ? done(null) : again()),
        reject: (err) => this.afterFailure(err, what, left, again, done),
      },
    );
  }

  /** Retries after a refusal that passes by itself, or ends the change. */
  private afterFailure(err: Error, what: string, left: number, again: () => void, done: (err: Error | null) => void): void {
    if (!(err instanceof ProposalError)) return done(err);
    switch (err.reason) {
      case 'conf-pending':
      case 'no-leader':
      case 'transferring':
      case 'overloaded':
      case 'busy':
        // The slot frees when the pending change is applied; there is no answer to wait for.
        this.clock.after(Math.min(left, 100), again);
        return;
      case 'lost':
      case 'unknown':
        // Overwritten, or swallowed by a snapshot: the membership says whether to propose again.
        return again();
      case 'timeout':
        // It may still be applied: until everything in the log now is, the change counts as pending.
        this.unsettledUpTo = this.driver.status().lastIndex;
        return done(new ConfChangeError(`${what}: not applied in time`));
      default:
        return done(new ConfChangeError(`${what}: refused (${err.reason})`));
    }
  }
}
