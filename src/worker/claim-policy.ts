// Which ready tasks this node claims now (design section 5). Pure and deterministic: the same
// input gives the same answer on every node, which is what keeps claims from colliding. A task's
// preferred owner is chosen by weighted rendezvous hashing over the live nodes that could run it,
// weight = free slots; a node claims its own preferred tasks at once and, once a task has waited
// stealAfterMs, anything it can run (work stealing, for owners that are gone or whose gossip lies).
import type { NodeId } from '../raft/types.js';
import type { Ms, ReadyTask, TaskRef } from '../scheduler/types.js';
import { Rendezvous } from './rendezvous.js';
import type { PeerLoad } from './types.js';

export interface ClaimInput {
  readonly self: NodeId;
  /** This node's free slots now (local knowledge, fresher than gossip). */
  readonly free: number;
  readonly handlers: ReadonlySet<string>;
  /** Local clock (scheduler time and wall clock agree closely). */
  readonly now: Ms;
  /** Highest priority first, then oldest; read lazily and left early. */
  readonly ready: Iterable<ReadyTask>;
  /** Live peers from gossip (may or may not include self; self's own entry is replaced). */
  readonly peers: Iterable<PeerLoad>;
  /** Tasks this node already has a claim in flight for. */
  readonly skip: (ref: TaskRef) => boolean;
  /** About two gossip periods. */
  readonly stealAfterMs: Ms;
  /** Bound on ready tasks examined per run. */
  readonly maxScan: number;
}

interface Runner {
  readonly free: number;
  readonly handlers: ReadonlySet<string>;
}

/** `run` tasks run anywhere; a handler task only where the handler is registered. */
function canRun(runner: Runner, task: ReadyTask): boolean {
  return runner.free >= task.slots && (task.handler === null || runner.handlers.has(task.handler));
}

/** The live nodes with free slots, self described by local knowledge; first entry per id wins. */
function runners(input: ClaimInput): Map<NodeId, Runner> {
  const out = new Map<NodeId, Runner>();
  if (input.free > 0) out.set(input.self, { free: input.free, handlers: input.handlers });
  for (const p of input.peers) {
    if (p.free <= 0 || out.has(p.node) || p.node === input.self) continue;
    out.set(p.node, { free: p.free, handlers: new Set(p.handlers) });
  }
  return out;
}

/**
 * The preferred owner of `task` among `peers` (self included as one of them): the same answer on
 * every node that sees the same peers. Null when no live node with free slots can run it.
 */
export function preferredOwner(task: ReadyTask, peers: Iterable<PeerLoad>): NodeId | null {
  const byId = new Map<NodeId, Runner>();
  for (const p of peers) if (p.free > 0 && !byId.has(p.node)) byId.set(p.node, { free: p.free, handlers: new Set(p.handlers) });
  return ownerAmong(byId, task);
}

function ownerAmong(live: ReadonlyMap<NodeId, Runner>, task: ReadyTask, ring = ringOf(live)): NodeId | null {
  return ring.owner(task, (node) => {
    const r = live.get(node);
    return r !== undefined && canRun(r, task);
  });
}

function ringOf(live: ReadonlyMap<NodeId, Runner>): Rendezvous {
  return new Rendezvous([...live].map(([node, r]) => ({ node, weight: r.free })));
}

/** The tasks to claim in one proposal, in ready-queue order, taking at most `free` slots in all. */
export function chooseClaims(input: ClaimInput): ReadyTask[] {
  const chosen: ReadyTask[] = [];
  let left = input.free;
  if (left <= 0 || input.maxScan <= 0) return chosen;
  const live = runners(input);
  const ring = ringOf(live);
  const self: Runner = { free: input.free, handlers: input.handlers };
  const isMine = (task: ReadyTask): boolean =>
    input.now - task.readyAt >= input.stealAfterMs || ownerAmong(live, task, ring) === input.self;
  let scanned = 0;
  for (const task of input.ready) {
    // A task too big for what is left is passed over, so smaller ones behind it still fill slots.
    if (task.slots <= left && canRun(self, task) && !input.skip(task) && isMine(task)) {
      chosen.push(task);
      left -= task.slots;
    }
    // Checked after the task, so the iterator is never asked for one more than is examined.
    if (left <= 0 || ++scanned >= input.maxScan) break;
  }
  return chosen;
}
