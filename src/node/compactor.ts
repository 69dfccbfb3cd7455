// When the node snapshots its state machine and compacts the Raft log: every `every` applied
// entries, and once as early as possible. The founding node records its own seat as the log's
// first conf change, but a snapshot is still the cheapest way in for a node that joins with
// nothing: its metadata carries the membership, and the log's conf entries apply on top of it.
// Taking the first snapshot at the first applied entry makes every leader send joiners a snapshot.
import type { Snapshot } from '../raft/types.js';
import type { RaftDriver, StateMachine } from './driver.js';

/** What the compactor snapshots: the cluster state in a node (ClusterState), a workload's in sim/. */
export interface CompactableState<R = unknown> extends StateMachine<R> {
  /** Index of the last entry applied (or restored from a snapshot). */
  readonly applied: number;
  /** The state as of `applied`, for RaftDriver.compact. */
  encode(): Uint8Array;
}

/** Where the compactor says what it did (the node's logger). */
export interface CompactorLog {
  info(fields: Record<string, unknown>, msg: string): void;
}

export class Compactor<R = unknown> {
  /** Index of the newest snapshot this node holds (taken, restored or received). */
  private snapshotIndex: number;

  constructor(
    /** The driver the compactor feeds (RaftDriver.compact), the core's one way in. */
    private readonly driver: Pick<RaftDriver, 'compact'>,
    private readonly state: CompactableState<R>,
    private readonly every: number,
    private readonly log: CompactorLog,
    restored: Snapshot | null,
  ) {
    this.snapshotIndex = restored?.meta.index ?? 0;
  }

  /** The driver's state machine: the cluster state, with received snapshots noted. */
  machine(): StateMachine<R> {
    return {
      apply: (e) => this.state.apply(e),
      restore: (snap) => {
        this.state.restore(snap);
        this.snapshotIndex = snap.meta.index;
        this.log.info({ index: snap.meta.index, bytes: snap.data.length }, 'state restored from a snapshot sent by the leader');
      },
    };
  }

  /** Called after each advance: the core's applied index equals the state's, the one safe moment to snapshot. */
  afterAdvance(): void {
    const applied = this.state.applied;
    const due = this.snapshotIndex === 0 ? applied >= 1 : applied - this.snapshotIndex >= this.every;
    if (due && this.driver.compact(applied, this.state.encode())) {
      this.snapshotIndex = applied;
      this.log.info({ index: applied }, 'log compacted into a snapshot');
    }
  }
}
