// The driver as a node wires it: its state machine is ClusterState over SchedulerHost, so every
// proposal is answered with an EntryOutcome whose `app` answer is the scheduler's effects of that
// command (docs/architecture.md §15).
import type { Effect } from '../scheduler/types.js';
import type { EntryOutcome } from './cluster-state.js';
import type { RaftDriver } from './driver.js';

export type NodeOutcome = EntryOutcome<readonly Effect[]>;

export type NodeDriver = RaftDriver<NodeOutcome>;
