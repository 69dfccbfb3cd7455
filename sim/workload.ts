import type { EntryBuilder, ProposeOptions } from '../src/node/driver.js';
import type { Committed, Decision, Reply } from '../src/node/proposal.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { ConfState, Entry, NodeId, ProposeResult, Snapshot } from '../src/raft/types.js';
import type { LineSource } from './trace.js';

/**
 * A replicated state machine as the simulator drives it. `apply` returns whatever the workload
 * wants to learn about that entry (R), handed back to it in Workload.onApplied.
 */
export interface StateMachine<R> {
  /** Apply one committed entry; conf entries and empty no-ops included (usually ignored). */
  apply(entry: Entry): R;
  /**
   * apply() for a machine whose entries carry request ids (the node's entry envelope): what the
   * workload learns (`result`), and the decision the driver answers the proposer's wait with
   * (`decision`: RaftDriver's StateMachine.apply, docs/architecture.md §15). Without it no
   * proposal of the workload's can be waited for.
   */
  decide?(entry: Entry): { readonly result: R; readonly decision: Decision<unknown> };
  /** Serialize the whole state (snapshot data). */
  snapshot(): Uint8Array;
  /** Replace the whole state by a snapshot (its data is what snapshot() returned on some replica). */
  restore(snapshot: Snapshot): void;
  /** A hash of the whole state: replicas at the same applied index must agree on it. */
  stateHash(): number;
}

/** What the cluster offers a workload: the only way it touches nodes, time and randomness. */
export interface ClusterApi<R> {
  readonly nodes: readonly NodeId[];
  /** Simulated time in ms. */
  now(): number;
  after(ms: number, fn: () => void): void;
  /** Up and not paused: it would answer a request now. */
  available(node: NodeId): boolean;
  /** null when the node is unavailable. */
  propose(node: NodeId, data: Uint8Array): ProposeResult | null;
  /**
   * A proposal waited for through the node's wait registry (RaftDriver.requestPropose): false when
   * the node is unavailable; otherwise `reply` is answered once the event that settles it is over
   * (with what the node's state machine decided, StateMachine.decide), or never if the node crashes first.
   */
  requestPropose(node: NodeId, build: EntryBuilder, opts: ProposeOptions, reply: Reply<Committed<unknown>>): boolean;
  transferLeadership(node: NodeId, to: NodeId): boolean;
  /**
   * A linearizable read at the node (its driver's readIndex): false when the node is unavailable;
   * otherwise `reply` is answered later with a read index the node has applied, or an error (no
   * leader, leadership lost, no answer within `timeoutMs`), or never if the node crashes first.
   */
  readIndex(node: NodeId, timeoutMs: number, reply: Reply<number>): boolean;
  appliedIndex(node: NodeId): number;
  stateMachine(node: NodeId): StateMachine<R> | null;
  /** The available node that believes it leads in the highest term, if any. */
  leader(): NodeId | null;
  /** A node's view of the membership (null when it is down). */
  membership(node: NodeId): ConfState | null;
  trace(line: LineSource): void;
  /** Report a violated invariant; the run stops. */
  fail(invariant: string, detail: string): void;
}

/**
 * A pluggable workload: the clients, their state machine and the checkers that only make sense
 * for it (the KV workload checks linearizable reads; a scheduler workload would check leases).
 * Hooks run once the node's event that caused them is over (as a promise's continuation would in
 * a process), so they may call back into the cluster, though workloads usually schedule their
 * next step with `after`.
 */
export interface Workload<R> {
  readonly name: string;
  createStateMachine(node: NodeId): StateMachine<R>;
  start(api: ClusterApi<R>, rng: SeededRng): void;
  onApplied(node: NodeId, entry: Entry, result: R): void;
  /** The node crashed: whatever was waiting on it is lost. */
  onCrash(node: NodeId): void;
  /** Faults are healed and the liveness phase begins. */
  onHeal(): void;
  /** A command the state machine treats as a no-op, unique per tag (the liveness probe). */
  probe(tag: string): Uint8Array;
  /**
   * End of a converged run: every node in `members` has applied at least `index`. Check whatever
   * must hold by then (for example: every command acknowledged before the probe was applied).
   */
  finish(members: readonly NodeId[], index: number): void;
  /** One line of counters for the run summary. */
  summary(): string;
}

/** What a workload offers the adversary (all optional: without them the adversary forges raw data only). */
export interface AdversaryHooks {
  /** The data of a normal entry the forger injects, recognisable as forged and never what a member proposes. */
  forgedEntry?(n: number): Uint8Array;
  /** A whole state machine snapshot the forger sends, valid for the workload and forged. */
  forgedSnapshot?(n: number): Uint8Array;
  /** A command for `liar` to propose that speaks for another node, recorded and checked by the workload; null when there is none to forge. */
  forgeCommand?(liar: NodeId, rng: SeededRng): { readonly data: Uint8Array; readonly what: string } | null;
}

/**
 * What a workload may need beyond Workload, all optional (the KV workload uses none): the
 * scheduler workload runs a worker per node on that node's own (possibly skewed) clock, freezes a
 * paused node's tasks with it, and keeps the run going after Raft converged until its jobs finish.
 */
export interface WorkloadExtras extends AdversaryHooks {
  /** The widest clock skew (ms either way) the workload tolerates; the seed's skew is drawn within it. */
  readonly maxSkewMs?: number;
  /** Called once before start: each node's wall clock and whether a link is cut. */
  attach?(hooks: SimHooks): void;
  onPause?(node: NodeId): void;
  onResume?(node: NodeId): void;
  /** After the Raft liveness probe converged, the run goes on until this is true (the workload fails the run itself past its bound). */
  settled?(): boolean;
}

export interface SimHooks {
  /** Simulated length of the fault phase, ms. */
  readonly durationMs: number;
  /** A node's wall clock minus simulated time, ms (entries it appends as leader carry now + this). */
  clockOffset(node: NodeId): number;
  /** A partition cuts messages from `from` to `to`. */
  linkBlocked(from: NodeId, to: NodeId): boolean;
  /** The node is up and its core believes it leads (what a node's own time keeper asks). */
  isLeader(node: NodeId): boolean;
  /** The cluster time the node's core would stamp an entry with now (what its time keeper reads). */
  clusterTime(node: NodeId): number;
}
