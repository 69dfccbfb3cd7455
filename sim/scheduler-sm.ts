// The scheduler workload's replicated state machine: the node's own ClusterState (the entry
// envelope, the shared clock, the probe list) with the real Scheduler behind its `app` entries,
// exactly as a meshrun node applies its log. The simulator's host differs from the node's
// SchedulerHost in three ways only: it returns each entry's effects to the workload (which hands
// them to that node's worker), it exposes the machine's hash() for the replica checker, and it
// builds the machine through a factory, so a test can substitute a deliberately broken one.
import type { Entry, Snapshot } from '../src/raft/types.js';
import type { AppMachine } from '../src/node/cluster-state.js';
import { ClusterState } from '../src/node/cluster-state.js';
import { encodeNodeEntry } from '../src/node/entry-envelope.js';
import { encodeCommand } from '../src/scheduler/command-codec.js';
import { Scheduler } from '../src/scheduler/machine.js';
import { liveView } from '../src/scheduler/live-view.js';
import type { Command, Effect, SchedulerView } from '../src/scheduler/types.js';
import { hashNumber, hashString } from './hash.js';
import type { StateMachine } from './workload.js';

/** Builds a node's Scheduler: fresh, or from the scheduler's share of a snapshot. */
export interface SchedulerFactory {
  create(): Scheduler;
  restore(bytes: Uint8Array): Scheduler;
}

export const realScheduler: SchedulerFactory = {
  create: () => new Scheduler(),
  restore: (bytes) => Scheduler.restore(bytes),
};

/** What applying one entry did on one replica. */
export interface SchedulerApplied {
  /** The scheduler's effects, empty for entries that are not scheduler commands. */
  readonly effects: readonly Effect[];
}

const NONE: SchedulerApplied = { effects: [] };

/** A command as it goes into the log: the node envelope's `app` kind around the codec's bytes. */
export function commandEntry(cmd: Command): Uint8Array {
  return encodeNodeEntry({ kind: 'app', data: encodeCommand(cmd) });
}

/** The liveness probe: the node's own test hook entry, a no-op for the scheduler. */
export function probeEntry(tag: string): Uint8Array {
  return encodeNodeEntry({ kind: 'probe', nonce: tag, value: '' });
}

class Host implements AppMachine {
  machine: Scheduler;
  effects: readonly Effect[] = [];

  constructor(private readonly factory: SchedulerFactory) {
    this.machine = factory.create();
  }

  apply(data: Uint8Array, entry: Entry): void {
    this.effects = this.machine.apply(data, entry.index, entry.time, entry.proposer);
  }

  encode(): Uint8Array {
    return this.machine.encode();
  }

  restore(data: Uint8Array): void {
    // As SchedulerHost: a snapshot taken before any scheduler entry carries no scheduler state.
    this.machine = data.length === 0 ? this.factory.create() : this.factory.restore(data);
  }
}

export class SchedulerStateMachine implements StateMachine<SchedulerApplied> {
  private readonly host: Host;
  private readonly state: ClusterState;
  /** Reads whatever machine is current, across snapshot installs (what the worker is given). */
  readonly view: SchedulerView;
  /** Called after a snapshot replaced the whole state (the worker must reconcile). */
  onRestore: (() => void) | null = null;

  constructor(factory: SchedulerFactory = realScheduler) {
    this.host = new Host(factory);
    this.state = new ClusterState(this.host);
    this.view = liveView(() => this.host.machine);
  }

  get machine(): Scheduler {
    return this.host.machine;
  }

  apply(entry: Entry): SchedulerApplied {
    this.host.effects = NONE.effects;
    this.state.apply(entry);
    const effects = this.host.effects;
    return effects.length === 0 ? NONE : { effects };
  }

  snapshot(): Uint8Array {
    return this.state.encode();
  }

  restore(snap: Snapshot): void {
    this.state.restore(snap);
    this.onRestore?.();
  }

  stateHash(): number {
    let h = hashString(this.host.machine.hash());
    h = hashNumber(this.state.time % 0x100000000, h);
    h = hashNumber(Math.floor(this.state.time / 0x100000000), h);
    return hashNumber(this.state.probes().length, h);
  }
}
