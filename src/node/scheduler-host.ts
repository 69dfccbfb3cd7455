// The scheduler's state machine inside the node's replicated state: it owns the log's `app`
// entries and its share of the snapshot (ClusterState's AppMachine), and hands the effects of
// every applied command to whoever listens on this replica (the worker, waiting API requests).
// A snapshot from the leader replaces the whole machine, so readers go through `view`, which
// always reads the current one.
import type { Entry } from '../raft/types.js';
import { Scheduler } from '../scheduler/machine.js';
import { liveView } from '../scheduler/live-view.js';
import type { Effect, SchedulerView } from '../scheduler/types.js';
import type { AppMachine, SlicedEncoding } from './cluster-state.js';

export type EffectListener = (effects: readonly Effect[], index: number) => void;

/** Builds the machine: fresh, or from the scheduler's share of a snapshot. */
export interface SchedulerFactory {
  create(): Scheduler;
  restore(bytes: Uint8Array): Scheduler;
}

export const realScheduler: SchedulerFactory = {
  create: () => new Scheduler(),
  restore: (bytes) => Scheduler.restore(bytes),
};

export class SchedulerHost implements AppMachine<readonly Effect[]> {
  private machine: Scheduler;
  private readonly listeners = new Set<EffectListener>();
  private readonly restoreListeners = new Set<() => void>();

  /** A view that follows the machine across restores. */
  readonly view: SchedulerView = liveView(() => this.machine);

  /** `factory`: the real Scheduler by default; the simulator's planted bugs substitute a bent one. */
  constructor(private readonly factory: SchedulerFactory = realScheduler) {
    this.machine = factory.create();
  }

  onEffects(listener: EffectListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Called after the state was replaced by a snapshot: everything may have changed at once. */
  onRestore(listener: () => void): () => void {
    this.restoreListeners.add(listener);
    return () => {
      this.restoreListeners.delete(listener);
    };
  }

  /** Applies one command; returns its effects, the answer to the proposal that carried it. */
  apply(data: Uint8Array, entry: Entry): readonly Effect[] {
    const effects = this.machine.apply(data, entry.index, entry.time, entry.proposer);
    if (effects.length > 0) for (const l of this.listeners) l(effects, entry.index);
    return effects;
  }

  encode(): Uint8Array {
    return this.machine.encode();
  }

  startEncode(): SlicedEncoding {
    return this.machine.startEncode();
  }

  /** A digest of the whole scheduler state (Scheduler.hash): replicas at one applied index agree on it. */
  hash(): string {
    return this.machine.hash();
  }

  restore(data: Uint8Array): void {
    // A snapshot taken before any scheduler entry carries no scheduler state.
    this.machine = data.length === 0 ? this.factory.create() : this.factory.restore(data);
    for (const l of this.restoreListeners) l();
  }
}
