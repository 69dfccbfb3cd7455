// The worker's contract with its surroundings: a clock, an executor, a way to propose commands and
// the gossiped load of its peers. The node wires real ones (timers, child processes, Raft,
// gossipsub); the simulator wires simulated ones, so both run the same claim policy and worker.
import type { NodeId } from '../raft/types.js';
import type { Command, ExecOutcome, Ms, TaskLaunch } from '../scheduler/types.js';

export interface Timer {
  cancel(): void;
}

/** Local time: the node's wall clock in production, simulated time in sim/. */
export interface Clock {
  now(): Ms;
  after(ms: Ms, fn: () => void): Timer;
  /**
   * Runs `fn` as soon as the code running now (and what it has already queued to run right after
   * it) is done, before any I/O or timer: a microtask in a real process. The worker's turn uses it
   * so a finished task's result is proposed in the same turn of the event loop that finished it.
   * Optional: a clock without it (the simulator's) gets after(0, fn).
   */
  soon?(fn: () => void): Timer;
}

/** How one attempt ended, as the executor saw it. Tails are the last TAIL_BYTES of each stream. */
export interface ExecResult {
  readonly outcome: ExecOutcome;
  readonly exitCode: number | null;
  readonly durationMs: Ms;
  readonly stdout: string;
  readonly stderr: string;
  /** What a successful attempt hands its dependents (docs/task-environment.md §7), at most OUTPUT_BYTES; absent: nothing. */
  readonly output?: string;
}

export interface Execution {
  /**
   * Stop the attempt (its process group gets SIGTERM, then SIGKILL after a grace period); onDone
   * still fires once. `graceMs` shortens the executor's grace period for this stop (a worker that
   * lost its lease has only the lease's margin left); a second stop may shorten it further.
   */
  stop(reason: string, graceMs?: Ms): void;
}

export interface Executor {
  /** Starts one attempt; `onDone` is called exactly once, asynchronously. */
  start(launch: TaskLaunch, onDone: (result: ExecResult) => void): Execution;
  /** Handler names this executor can run (sent with heartbeats and gossip). */
  readonly handlers: readonly string[];
}

/** A live peer's load, from gossip (docs/architecture.md §8); includes this node's own entry. */
export interface PeerLoad {
  readonly node: NodeId;
  readonly slots: number;
  readonly free: number;
  readonly handlers: readonly string[];
}

/** Hands a command to Raft; false when it was refused right away (no leader, too large). It may still be lost later. */
export type Propose = (command: Command) => boolean;
