// When the node snapshots its state machine and compacts the Raft log: every `every` applied
// entries, and once as early as possible. The founding node records its own seat as the log's
// first conf change, but a snapshot is still the cheapest way in for a node that joins with
// nothing: its metadata carries the membership, and the log's conf entries apply on top of it.
// Taking the first snapshot at the first applied entry makes every leader send joiners a snapshot.
import type { Snapshot } from '../raft/types.js';
import type { SlicedEncoding } from './cluster-state.js';
import type { RaftDriver, StateMachine } from './driver.js';

/** What the compactor snapshots: the cluster state in a node (ClusterState), a workload's in sim/. */
export interface CompactableState<R = unknown> extends StateMachine<R> {
  /** Index of the last entry applied (or restored from a snapshot). */
  readonly applied: number;
  /** The state as of `applied`, for RaftDriver.compact. */
  encode(): Uint8Array;
  /** The same, a slice at a time (ClusterState.startEncode); absent: encode() only. */
  startEncode?(): SlicedEncoding;
}

/** Where the compactor says what it did (the node's logger). */
export interface CompactorLog {
  info(fields: Record<string, unknown>, msg: string): void;
}

/**
 * Tasks a node encodes per slice of a snapshot: a few ms of a core (measured: 20 ms at most at a
 * load average of 17 on 2 cores), so a 1,000,000-task state takes some 120 turns of the event
 * loop instead of one stall of several hundred ms. A long run of identical tasks is scanned over
 * several slices too.
 */
export const SNAPSHOT_STEP_TASKS = 8192;

/** How a node encodes a big state: a slice of `stepTasks` tasks per turn of its event loop. */
export interface CompactorSlices {
  readonly stepTasks: number;
  /** Runs `fn` at a later turn of the event loop (a node's setImmediate). */
  readonly defer: (fn: () => void) => void;
}

export interface CompactorTiming {
  /** A monotonic clock in ms, to log how long encoding took (a node's performance.now); none: not measured. */
  readonly clock?: () => number;
  /** Encode in slices between other work (docs/architecture.md §5, Compaction); none: in one go, as the simulator does. */
  readonly slices?: CompactorSlices;
}

/** A snapshot being encoded in slices: at `index`, done once `bytes` is set. */
interface Encoding {
  readonly index: number;
  readonly enc: SlicedEncoding;
  readonly startedAt: number;
  steps: number;
  /** The longest step, in ms of the clock: what the event loop waited for at most. */
  longestMs: number;
  bytes: Uint8Array | null;
}

export class Compactor<R = unknown> {
  /** Index of the newest snapshot this node holds (taken, restored or received). */
  private snapshotIndex: number;
  private encoding: Encoding | null = null;

  constructor(
    /** The driver the compactor feeds (RaftDriver.compact), the core's one way in. */
    private readonly driver: Pick<RaftDriver, 'compact'>,
    private readonly state: CompactableState<R>,
    private readonly every: number,
    private readonly log: CompactorLog,
    restored: Snapshot | null,
    private readonly timing: CompactorTiming = {},
  ) {
    this.snapshotIndex = restored?.meta.index ?? 0;
  }

  /** The driver's state machine: the cluster state, with received snapshots noted. */
  machine(): StateMachine<R> {
    return {
      apply: (e) => this.state.apply(e),
      restore: (snap) => {
        // A snapshot being encoded is of a state that is no more.
        this.encoding?.enc.abandon();
        this.encoding = null;
        this.state.restore(snap);
        this.snapshotIndex = snap.meta.index;
        this.log.info({ index: snap.meta.index, bytes: snap.data.length }, 'state restored from a snapshot sent by the leader');
      },
    };
  }

  /**
   * Called after each advance: the core's applied index equals the state's, the one safe moment
   * to snapshot, and to hand the core a snapshot finished since (of an earlier index).
   */
  afterAdvance(): void {
    if (this.encoding !== null) {
      this.handOver();
      return;
    }
    const applied = this.state.applied;
    const due = this.snapshotIndex === 0 ? applied >= 1 : applied - this.snapshotIndex >= this.every;
    if (!due) return;
    const slices = this.timing.slices;
    if (slices === undefined || this.state.startEncode === undefined) {
      const t0 = this.now();
      this.compact(applied, this.state.encode(), { encodeMs: this.now() - t0 });
      return;
    }
    this.encoding = { index: applied, enc: this.state.startEncode(), startedAt: this.now(), steps: 0, longestMs: 0, bytes: null };
    this.step(this.encoding, slices);
    this.handOver();
  }

  private step(e: Encoding, slices: CompactorSlices): void {
    if (this.encoding !== e) return; // abandoned
    const t0 = this.now();
    e.bytes = e.enc.step(slices.stepTasks);
    e.steps++;
    e.longestMs = Math.max(e.longestMs, this.now() - t0);
    if (e.bytes === null) slices.defer(() => this.step(e, slices));
  }

  private handOver(): void {
    const e = this.encoding;
    if (e === null || e.bytes === null) return;
    this.encoding = null;
    // Refused when the core moved past it meanwhile (a snapshot from the leader, a membership change): the next advance starts another.
    this.compact(e.index, e.bytes, { steps: e.steps, longestStepMs: e.longestMs, encodeMs: this.now() - e.startedAt });
  }

  private compact(index: number, data: Uint8Array, timing: Record<string, number>): void {
    if (!this.driver.compact(index, data)) return;
    this.snapshotIndex = index;
    const measured = this.timing.clock === undefined ? {} : Object.fromEntries(Object.entries(timing).map(([k, v]) => [k, Math.round(v)]));
    this.log.info({ index, bytes: data.length, ...measured }, 'log compacted into a snapshot');
  }

  private now(): number {
    return this.timing.clock?.() ?? 0;
  }
}
