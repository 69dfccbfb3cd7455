// Membership changes of this node, one at a time. Raft accepts a single pending change and refuses
// the next with 'conf-pending'; the join handler, the membership loop and a leaving node all make
// changes, so they queue here instead of racing for the slot, and each waits until its change is
// applied (or its deadline passes). The waiting runs on an injected clock, so the simulator runs
// this class unchanged (docs/architecture.md §2).
import type { ConfChange, ConfState } from '../raft/types.js';
import type { Clock } from '../worker/types.js';
import type { RaftDriver, Reply } from './driver.js';
import { systemClock } from './system-clock.js';
import { pollUntil } from './wait.js';

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
export type ConfDriver = Pick<RaftDriver, 'status' | 'proposeConfChange'>;

/** Refusals that pass by themselves: look again shortly. */
const RETRYABLE: ReadonlySet<string> = new Set(['conf-pending', 'no-leader', 'transferring', 'overloaded']);

export class ConfChanger {
  /** Changes waiting for the one in progress, oldest first. */
  private readonly waiting: (() => void)[] = [];
  private busy = false;
  private queued = 0;
  /** Index of the newest change this node appended as leader: pending until applied. */
  private proposedIndex = 0;

  constructor(
    private readonly driver: ConfDriver,
    /** Deadlines and polls: systemClock in a node, the process clock in sim/. */
    private readonly clock: Pick<Clock, 'now' | 'after'> = systemClock,
  ) {}

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
    const status = (): ReturnType<ConfDriver['status']> => this.driver.status();
    const again = (): void => this.attempt(cc, deadline, record, done);
    if (!record && reflects(status().membership.conf, cc)) return done(null);
    const left = deadline - this.clock.now();
    if (left <= 0) return done(new ConfChangeError(`${what}: not applied in time`));
    const r = this.driver.proposeConfChange(cc);
    if (r.ok && 'index' in r) {
      // Appended by us as leader: done when applied, unless a new leader overwrote the entry.
      this.proposedIndex = r.index;
      pollUntil(this.clock, () => status().applied >= r.index, left, (applied) => (record && applied ? done(null) : again()));
    } else if (r.ok) {
      // Forwarded to the leader, which may drop it (it has a change pending): look, then retry.
      pollUntil(this.clock, () => reflects(status().membership.conf, cc), Math.min(left, 1000), again);
    } else if (RETRYABLE.has(r.reason)) {
      this.clock.after(Math.min(left, 100), again);
    } else {
      done(new ConfChangeError(`${what}: refused (${r.reason})`));
    }
  }
}
