// The scheduler workload's replicated state machine: the node's own ClusterState (the entry
// envelope, the shared clock, the probe list) and SchedulerHost (the real Scheduler behind `app`
// entries), exactly as a meshrun node applies its log. All this adds is what the simulator reads:
// each entry's effects, returned to the workload (which hands them to that node's worker), and a
// hash of the whole state for the replica checker. A test substitutes a deliberately broken
// Scheduler through the host's factory (scheduler-plants.ts).
import { ClusterState } from '../src/node/cluster-state.js';
import { encodeNodeEntry } from '../src/node/entry-envelope.js';
import type { NodeOutcome } from '../src/node/node-driver.js';
import type { Decision } from '../src/node/proposal.js';
import { realScheduler, SchedulerHost, type SchedulerFactory } from '../src/node/scheduler-host.js';
import type { Entry, Snapshot } from '../src/raft/types.js';
import { encodeCommand } from '../src/scheduler/command-codec.js';
import type { Command, Effect, SchedulerView } from '../src/scheduler/types.js';
import { hashNumber, hashString } from './hash.js';
import type { StateMachine } from './workload.js';

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

export class SchedulerStateMachine implements StateMachine<SchedulerApplied> {
  /** The node's scheduler host: its view follows the machine across snapshot installs (what the worker is given). */
  readonly host: SchedulerHost;
  private readonly state: ClusterState<readonly Effect[]>;

  constructor(factory: SchedulerFactory = realScheduler) {
    this.host = new SchedulerHost(factory);
    this.state = new ClusterState(this.host);
  }

  get view(): SchedulerView {
    return this.host.view;
  }

  apply(entry: Entry): SchedulerApplied {
    return this.decide(entry).result;
  }

  /** The node's own decision (the request id its envelope carries, the EntryOutcome), which answers the proposer's wait. */
  decide(entry: Entry): { readonly result: SchedulerApplied; readonly decision: Decision<NodeOutcome> } {
    const decision = this.state.apply(entry);
    const outcome = decision.result;
    return { result: outcome.kind === 'app' && outcome.answer.length > 0 ? { effects: outcome.answer } : NONE, decision };
  }

  snapshot(): Uint8Array {
    return this.state.encode();
  }

  restore(snap: Snapshot): void {
    this.state.restore(snap);
  }

  stateHash(): number {
    let h = hashString(this.host.hash());
    h = hashNumber(this.state.time % 0x100000000, h);
    h = hashNumber(Math.floor(this.state.time / 0x100000000), h);
    return hashNumber(this.state.probes().length, h);
  }
}
