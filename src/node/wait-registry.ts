// The proposals of this node waiting for their entries to be applied, keyed by request (as
// etcdserver's wait.Wait: Register, then Trigger at apply). Every wait ends exactly once: answered
// when its entry is applied here; `lost` as soon as the applied log shows the entry can never
// come; `unknown` when a snapshot swallowed it unseen; `timeout`; `stopped`. The registry holds at
// most `limit` waits, so a flood of proposals cannot grow it without bound.
// See docs/architecture.md §15.
import { ProposalError, type Committed, type Reply } from './proposal.js';
import type { Timer } from '../worker/types.js';

/** A request id, or for a membership change (whose data is Raft's own) the leader's position of the entry. */
export type WaitKey = string;

/** Where a proposed entry will be in the log if it gets there: the term for sure, the index when this node appended it as leader. */
export interface Placement {
  readonly term: number;
  readonly index: number | null;
}

interface Wait<R> {
  readonly reply: Reply<Committed<R>>;
  readonly timer: Timer;
  /** Null until the proposal left this node (a follower's forward leaves with its next Ready). */
  placement: Placement | null;
}

export const DEFAULT_WAIT_LIMIT = 10_000;

export class WaitRegistry<R> {
  private readonly waits = new Map<WaitKey, Wait<R>>();
  /** Waits whose proposal has not left yet: placed at the next Ready (see place). */
  private unplaced: WaitKey[] = [];
  /** The highest term of an entry applied (or a snapshot restored) here: see applied. */
  private appliedTerm = 0;

  constructor(
    private readonly timers: { after(ms: number, fn: () => void): Timer },
    private readonly limit = DEFAULT_WAIT_LIMIT,
  ) {}

  get size(): number {
    return this.waits.size;
  }

  /**
   * Waits for `key`'s entry for at most `timeoutMs`. Returns false, without registering, when the
   * registry is full or `key` is taken: the caller must not propose then.
   */
  register(key: WaitKey, timeoutMs: number, reply: Reply<Committed<R>>, placement: Placement | null = null): boolean {
    if (this.waits.size >= this.limit || this.waits.has(key)) return false;
    const timer = this.timers.after(timeoutMs, () => this.end(key, 'timeout'));
    this.waits.set(key, { reply, timer, placement });
    if (placement === null) this.unplaced.push(key);
    return true;
  }

  /**
   * The proposals registered since the last call left this node at `term`: a forwarded entry is
   * appended by the leader only in the term of the `prop` message that carries it (a leader of
   * another term drops it), so that is the term its entry will have, if any.
   */
  place(term: number): void {
    if (this.unplaced.length === 0) return;
    for (const key of this.unplaced) {
      const w = this.waits.get(key);
      if (w && w.placement === null) w.placement = { term, index: null };
    }
    this.unplaced = [];
  }

  /** Answers `key`'s wait, if this node has one. */
  trigger(key: WaitKey, answer: Committed<R>): void {
    const w = this.waits.get(key);
    if (!w) return;
    this.forget(key, w);
    w.reply.resolve(answer);
  }

  /**
   * An entry of `term` was applied (after its own trigger). Terms never decrease along the log, so
   * an entry of a lower term can no longer come after it: every wait placed in a lower term is lost.
   */
  applied(term: number): void {
    if (term <= this.appliedTerm) return;
    this.appliedTerm = term;
    this.endWhere((p) => p.term < term, 'lost');
  }

  /** This node is no longer leader and its log ends at `lastIndex`: entries it appended past it were overwritten. */
  truncated(lastIndex: number): void {
    this.endWhere((p) => p.index !== null && p.index > lastIndex, 'lost');
  }

  /**
   * A snapshot up to (index, term) replaced the state: entries placed before it were applied inside
   * it, or lost, and this node cannot tell which.
   */
  restored(index: number, term: number): void {
    this.appliedTerm = Math.max(this.appliedTerm, term);
    this.endWhere((p) => p.term < term || (p.term === term && p.index !== null && p.index <= index), 'unknown');
  }

  /** Ends every wait: the node stops. */
  stop(): void {
    for (const key of [...this.waits.keys()]) this.end(key, 'stopped');
    this.unplaced = [];
  }

  private endWhere(lost: (p: Placement) => boolean, reason: 'lost' | 'unknown'): void {
    for (const [key, w] of this.waits) if (w.placement !== null && lost(w.placement)) this.end(key, reason);
  }

  private end(key: WaitKey, reason: 'lost' | 'unknown' | 'timeout' | 'stopped'): void {
    const w = this.waits.get(key);
    if (!w) return;
    this.forget(key, w);
    w.reply.reject(new ProposalError(reason));
  }

  private forget(key: WaitKey, w: Wait<R>): void {
    this.waits.delete(key);
    w.timer.cancel();
  }
}
