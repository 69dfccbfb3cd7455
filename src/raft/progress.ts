import { at } from '../invariant.js';
import type { Snapshot } from './types.js';

/**
 * A bounded window of append messages in flight to one follower, remembered by the last index
 * each carried. When it is full the leader stops sending until acknowledgements free slots:
 * this is the flow control that keeps a slow follower from flooding the transport.
 */
export class Inflights {
  private readonly buf: number[];
  private start = 0;
  count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<number>(capacity).fill(0);
  }

  full(): boolean {
    return this.count >= this.capacity;
  }

  add(lastIndex: number): void {
    if (this.full()) throw new Error('inflights: add to a full window');
    this.buf[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Free every message whose last index is <= `index` (they have been acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && at(this.buf, this.start, 'the oldest inflight of a non-empty window') <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/**
 * The leader's view of one follower (section 3.5 of the thesis, and etcd's tracker).
 * - probe: the leader does not know where the logs match; one append per heartbeat until it does.
 * - replicate: logs match up to `match`; appends are pipelined optimistically, bounded by `inflights`.
 * - snapshot: the follower's next entry is compacted away; the snapshot is streamed in chunks.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and no answer came yet. */
  probeSent = false;
  /** Heard from within the current election timeout (CheckQuorum). */
  recentActive = false;
  readonly inflights: Inflights;
  /**
   * In snapshot state: the snapshot being streamed, the next byte the follower expects, and the
   * end of what was sent (up to SNAPSHOT_WINDOW chunks past snapOffset are in flight).
   */
  snapshot: Snapshot | null = null;
  snapOffset = 0;
  snapSent = 0;
  /**
   * Non-zero while a rejection says the follower lost acknowledged entries: the number of the
   * re-probe sent to check it, whose rejection alone confirms it (RaftNode.onAppendResp).
   */
  suspectProbe = 0;
  /** Re-probes sent since the last heartbeat answer (at most MAX_REPROBES a round). */
  reprobes = 0;
  /** Heartbeat answers since the suspicion began, with no acknowledgement between. */
  suspectRounds = 0;
  /** `match` at the previous heartbeat round, and how many rounds in a row it has not moved. */
  private heartbeatMatch = 0;
  stalledRounds = 0;

  constructor(
    next: number,
    maxInflight: number,
    readonly isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot' && this.snapshot) {
      this.next = Math.max(this.match + 1, this.snapshot.meta.index + 1);
    } else {
      this.next = this.match + 1;
    }
    this.reset('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.reset('replicate');
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.reset('snapshot');
    this.snapshot = snapshot;
    this.snapOffset = 0;
    this.snapSent = 0;
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.stalledRounds = 0;
    this.probeSent = false;
    this.inflights.reset();
    this.snapshot = null;
    this.snapOffset = 0;
    this.snapSent = 0;
  }

  /** An acknowledgement up to `index`; true when it moved `match`. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower turned out to hold only up to `index`, less than it acknowledged (it lost its
   * disk): match goes back, which only makes commits more conservative, and probing starts there.
   */
  resetTo(index: number): void {
    this.match = index;
    this.reset('probe');
    this.next = index + 1;
  }

  /**
   * A rejection of the append at `rejected`; `hint` is the largest index that may still match.
   * False when the rejection is stale (an answer to an older message).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /**
   * Called at each heartbeat round. Appends lost in replicate state are never answered, and
   * nothing else would resend them: a follower behind whose match stood still for two rounds is
   * probed again from its match.
   */
  noteHeartbeat(lastIndex: number): void {
    const waiting = this.state === 'replicate' && this.match < lastIndex && this.match === this.heartbeatMatch;
    this.stalledRounds = waiting ? this.stalledRounds + 1 : 0;
    this.heartbeatMatch = this.match;
  }

  /** Record an append just sent whose last entry is `lastIndex` (count entries). */
  sentEntries(lastIndex: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }
}

/** The smallest number of voters that forms a majority. */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The highest index that a majority of `matches` (one per voter) has reached. */
export function committedIndex(matches: number[]): number {
  if (matches.length === 0) return 0;
  const sorted = matches.slice().sort((a, b) => b - a);
  return at(sorted, quorumSize(matches.length) - 1, 'a quorum is never larger than the voters');
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

export function tallyVotes(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const g = votes.get(v);
    if (g === true) granted++;
    else if (g === false) rejected++;
  }
  const q = quorumSize(voters.length);
  if (granted >= q) return 'won';
  if (rejected > voters.length - q) return 'lost';
  return 'pending';
}
