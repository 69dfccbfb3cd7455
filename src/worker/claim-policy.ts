// Which ready tasks this node claims now (docs/architecture.md §8). Pure and deterministic: the same
// input gives the same answer on every node, which is what keeps claims from colliding.
//
// A task's preferred owner is chosen by weighted rendezvous hashing over the live nodes (gossip)
// that could run it. For nodes to partition the ready set, every node must compute the SAME owner,
// so the ring may only use what every node sees alike. The weight is therefore a node's capacity
// (its advertised slots), not its free slots of the moment: free slots change with every claim
// and finish (hundreds of times a second with short tasks), so each node saw its own exact count
// but only a sample of its peers' counts up to a gossip period old, often 0 (a peer caught
// between a finish and its next claim, and then left out of the ring altogether). Nodes then
// disagreed on owners and all claimed the head of the ready queue: half of all claims were
// rejected. Capacity is the long-run share of the ready work each node can take; who has a slot
// free right now only decides WHEN a node claims its share, which it does at once.
//
// Work stealing: a node whose slots are not filled by its own preferred tasks takes others' tasks
// that have waited stealAfterMs (an owner that is gone, stuck, or behind). Age alone is not enough:
// every task of a big backlog is older than stealAfterMs after two seconds, and stealing by age
// alone had every node claim the queue's head again. So a node steals only with the slots its own
// tasks leave, and it leaves alone the head of the share of each owner that is about to claim it
// (its first 2 x `slots` tasks in claim order: the claims that owner may have in flight, and its
// next batch), while the owner is alive (the replicated state shows it running tasks) and the task
// has waited less than 3 x stealAfterMs: an owner that runs nothing, or that has left its share
// waiting that long (all its slots held by long tasks), gets nothing protected. A busy node's slots
// look full in the replicated state most of the time (its finishes claim again in the same entry),
// so fullness alone cannot tell a stuck owner from a fast one; time can. Thieves split the stealable tasks among themselves the
// same way: a task goes to its preferred owner among the live nodes other than its owner that have
// room to steal it (free slots by the replicated state; this node, stealing with slots left,
// always), so a task is never left to a thief that is full. A gossiping node may still be unable
// to claim (removed from the cluster, or cut off from the log while its gossip gets through), so a
// task that has waited ABANDON_FACTOR x stealAfterMs goes to whichever node claims it first. An
// owner that holds all the replicated state lets it hold (ownerFull) is stolen from at once: with
// tasks of tens of ms, its share waiting stealAfterMs left the other nodes' slots idle.
import { at } from '../invariant.js';
import type { NodeId } from '../raft/types.js';
import { formatLabels, hasLabels } from '../scheduler/placement.js';
import type { JobId, Labels, Ms, ReadyTask, TaskRef } from '../scheduler/types.js';
import { Rendezvous } from './rendezvous.js';
import type { PeerLoad } from './types.js';

export interface ClaimInput {
  readonly self: NodeId;
  /** This node's free slots now (local knowledge, fresher than gossip). */
  readonly free: number;
  /**
   * This node's capacity (its slots), its weight in the ring. Default: its own entry in `peers`,
   * else `free`.
   */
  readonly slots?: number;
  readonly handlers: ReadonlySet<string>;
  /** This node's labels (its `--label`s); default none. */
  readonly labels?: Labels;
  /** A peer's labels as the replicated state knows them (its heartbeats); default: none for every peer. */
  readonly labelsOf?: (node: NodeId) => Labels | undefined;
  /**
   * Room left now, by the replicated state less this node's claims in flight: slots free in a
   * pool, tasks a job may still start under its `concurrency` (`limit`). Default: unlimited. The
   * state machine decides; this only keeps the node from proposing claims it would refuse.
   */
  readonly room?: { pool(name: string): number; job(job: JobId, limit: number): number };
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
  /** Whether `node` is alive and at work: the replicated state shows it running tasks. Default: every peer is. */
  readonly claimsSoon?: (node: NodeId) => boolean;
  /** Whether `node` (not self) has room to steal: free slots by the replicated state. Default: every peer has. */
  readonly canSteal?: (node: NodeId) => boolean;
  /**
   * Whether `node` (not self) holds all the claims the replicated state lets it hold (its slots and
   * those it may hold ahead). Default: no peer is.
   */
  readonly ownerFull?: (node: NodeId) => boolean;
  /**
   * Owners found by earlier runs over the same ring, kept by the caller from run to run (the
   * worker keeps one). Without it every run ranks every scanned task over every live node.
   */
  readonly owners?: OwnerCache;
}

/** Forget every owner past this many tasks (a few big jobs' ready queues); they are found again as needed. */
const OWNER_CACHE_ENTRIES = 100_000;

/**
 * Preferred owners already found, valid for one ring: the live nodes with their slots and
 * handlers, which change when a node joins, leaves or drops out of gossip, not with every claim.
 * Why: a run scans the ready queue until it has found this node's share, about 4 x free x nodes
 * tasks (the scan bound the worker sets), and ranking a task means scoring it on every live node,
 * so a run cost free x nodes^2 hash rounds: 660,000 at 200 nodes, on every node, every time its
 * slots free up (issue 16). A task's owner depends only on the ring and the task (its slots and
 * handler never change while it is ready), so it is found once per ring; a run then costs one
 * lookup per scanned task. Owners of other rings are forgotten as soon as the ring changes.
 */
export class OwnerCache {
  private ring = '';
  private readonly byJob = new Map<string, Map<number, NodeId | null>>();
  private entries = 0;
  /** Owners computed (not found here), for tests and benchmarks. */
  misses = 0;

  /** Start a run over the ring `key` (ringKey): everything found over another ring is dropped. */
  useRing(key: string): void {
    if (key === this.ring) return;
    this.ring = key;
    this.clear();
  }

  get(ref: TaskRef): NodeId | null | undefined {
    return this.byJob.get(ref.job)?.get(ref.task);
  }

  set(ref: TaskRef, owner: NodeId | null): void {
    if (this.entries >= OWNER_CACHE_ENTRIES) this.clear();
    let tasks = this.byJob.get(ref.job);
    if (tasks === undefined) {
      tasks = new Map();
      this.byJob.set(ref.job, tasks);
    }
    tasks.set(ref.task, owner);
    this.entries++;
    this.misses++;
  }

  get size(): number {
    return this.entries;
  }

  private clear(): void {
    this.byJob.clear();
    this.entries = 0;
  }
}

/** What a task's owner depends on among the live nodes: ids, weights and handlers, in a fixed order. */
function ringKey(live: ReadonlyMap<NodeId, Runner>): string {
  const parts: string[] = [];
  // Labels too: a task's owner is chosen among the nodes that can host it (`on`).
  for (const [node, r] of live)
    parts.push(`${node}\u0000${r.slots}\u0000${[...r.handlers].sort().join('\u0001')}\u0000${formatLabels(r.labels)}`);
  return parts.sort().join('\u0002');
}

/** After this many stealAfterMs a task is anyone's: its owner and its chosen thief both failed to take it. */
const ABANDON_FACTOR = 5;

interface Runner {
  readonly slots: number;
  readonly handlers: ReadonlySet<string>;
  readonly labels: Labels;
}

const NO_LABELS: Labels = {};

/**
 * Whether `runner` could ever run `task`: `run` tasks run anywhere, a handler task only where the
 * handler is registered, a task with `on` only on a node with those labels.
 */
function canHost(runner: Runner, task: ReadyTask): boolean {
  return (
    runner.slots >= task.slots &&
    (task.handler === null || runner.handlers.has(task.handler)) &&
    (task.on === undefined || hasLabels(runner.labels, task.on))
  );
}

/** Counts this call's picks against the room of pools and jobs, so one turn never claims past it. */
class Room {
  private readonly taken = new Map<string, number>();

  constructor(private readonly room: ClaimInput['room']) {}

  fits(task: ReadyTask): boolean {
    const room = this.room;
    if (room === undefined) return true;
    if (task.pool !== undefined && room.pool(task.pool) - (this.taken.get(`p:${task.pool}`) ?? 0) <= 0) return false;
    return task.concurrency === undefined || room.job(task.job, task.concurrency) - (this.taken.get(`j:${task.job}`) ?? 0) > 0;
  }

  take(task: ReadyTask): void {
    if (task.pool !== undefined) this.taken.set(`p:${task.pool}`, (this.taken.get(`p:${task.pool}`) ?? 0) + 1);
    if (task.concurrency !== undefined) this.taken.set(`j:${task.job}`, (this.taken.get(`j:${task.job}`) ?? 0) + 1);
  }
}

/** The live nodes with capacity, self described by local knowledge; first entry per id wins. */
function runners(input: ClaimInput): Map<NodeId, Runner> {
  const out = new Map<NodeId, Runner>();
  let selfSlots = input.slots;
  if (selfSlots === undefined) {
    for (const p of input.peers) if (p.node === input.self) selfSlots ??= p.slots;
  }
  selfSlots ??= input.free;
  if (selfSlots > 0) out.set(input.self, { slots: selfSlots, handlers: input.handlers, labels: input.labels ?? NO_LABELS });
  for (const p of input.peers) {
    if (p.slots <= 0 || out.has(p.node) || p.node === input.self) continue;
    out.set(p.node, { slots: p.slots, handlers: new Set(p.handlers), labels: input.labelsOf?.(p.node) ?? NO_LABELS });
  }
  return out;
}

/**
 * The preferred owner of `task` among `peers` (self included as one of them): the same answer on
 * every node that sees the same peers. Null when no live node can run it.
 */
export function preferredOwner(
  task: ReadyTask,
  peers: Iterable<PeerLoad>,
  labelsOf: (node: NodeId) => Labels | undefined = () => undefined,
): NodeId | null {
  const byId = new Map<NodeId, Runner>();
  for (const p of peers) {
    if (p.slots > 0 && !byId.has(p.node))
      byId.set(p.node, { slots: p.slots, handlers: new Set(p.handlers), labels: labelsOf(p.node) ?? NO_LABELS });
  }
  return ownerAmong(byId, task);
}

function ownerAmong(live: ReadonlyMap<NodeId, Runner>, task: ReadyTask, ring = ringOf(live)): NodeId | null {
  return ring.owner(task, (node) => {
    const r = live.get(node);
    return r !== undefined && canHost(r, task);
  });
}

function ringOf(live: ReadonlyMap<NodeId, Runner>): Rendezvous {
  return new Rendezvous([...live].map(([node, r]) => ({ node, weight: r.slots })));
}

/**
 * The tasks to claim in one proposal, taking at most `free` slots in all: first this node's own
 * preferred tasks, in ready-queue order; then, with slots left, stealable tasks (see the top of
 * this file), in ready-queue order.
 */
export function chooseClaims(input: ClaimInput): ReadyTask[] {
  let left = input.free;
  if (left <= 0 || input.maxScan <= 0) return [];
  const live = runners(input);
  const ring = ringOf(live);
  const owners = input.owners;
  owners?.useRing(ringKey(live));
  const ownerOf = (task: ReadyTask): NodeId | null => {
    if (owners === undefined) return ownerAmong(live, task, ring);
    let owner = owners.get(task);
    if (owner === undefined) {
      owner = ownerAmong(live, task, ring);
      owners.set(task, owner);
    }
    return owner;
  };
  const selfCaps: Runner = { slots: input.free, handlers: input.handlers, labels: input.labels ?? NO_LABELS };
  const room = new Room(input.room);
  const claimsSoon = input.claimsSoon ?? (() => true);
  // An owner holding all it may hold (every slot and every claim ahead, by the replicated state)
  // claims nothing until one of its tasks ends: the tasks of its share wait a task's run at least,
  // so a node with slots left takes them now, without waiting stealAfterMs.
  const isFull = input.ownerFull ?? (() => false);
  const own: ReadyTask[] = [];
  /** Stealable tasks met by the scan, with their positions, while they might still be wanted. */
  const stealable: { task: ReadyTask; at: number }[] = [];
  const ownAt: number[] = [];
  /** Per other owner: how many of its tasks the scan has passed, to leave the head of its share alone. */
  const passed = new Map<NodeId, number>();
  /** Per owner: the ring without it, where a stolen task's thief is chosen (built on first use). */
  const thiefRings = new Map<NodeId, { live: Map<NodeId, Runner>; ring: Rendezvous }>();
  const thiefOf = (owner: NodeId, task: ReadyTask): NodeId | null => {
    let t = thiefRings.get(owner);
    if (t === undefined) {
      const canSteal = input.canSteal ?? (() => true);
      const rest = new Map<NodeId, Runner>();
      for (const [node, r] of live) if (node !== owner && (node === input.self || canSteal(node))) rest.set(node, r);
      t = { live: rest, ring: ringOf(rest) };
      thiefRings.set(owner, t);
    }
    return ownerAmong(t.live, task, t.ring);
  };
  let stealSlots = 0;
  let scanned = 0;
  /** A claim of ours still in flight in the window: this node is at work on its share, not out of work. */
  let inFlight = false;
  for (const task of input.ready) {
    const skipped = input.skip(task);
    if (skipped) inFlight = true;
    // A task too big for what is left is passed over, so smaller ones behind it still fill slots.
    // So is one whose pool or job has no room left: the state machine would refuse it.
    if (task.slots <= left && canHost(selfCaps, task) && !skipped && room.fits(task)) {
      const owner = ownerOf(task);
      const aged = input.now - task.readyAt >= input.stealAfterMs;
      if (owner === input.self || (owner === null && aged)) {
        own.push(task);
        ownAt.push(scanned);
        left -= task.slots;
        room.take(task);
      } else if (owner !== null && (aged || isFull(owner))) {
        const seen = (passed.get(owner) ?? 0) + 1;
        passed.set(owner, seen);
        const unprotected =
          isFull(owner) ||
          !claimsSoon(owner) ||
          seen > 2 * (live.get(owner) as Runner).slots ||
          input.now - task.readyAt >= 3 * input.stealAfterMs;
        const abandoned = input.now - task.readyAt >= ABANDON_FACTOR * input.stealAfterMs;
        if (unprotected && stealSlots < left && (abandoned || thiefOf(owner, task) === input.self)) {
          stealable.push({ task, at: scanned });
          stealSlots += task.slots;
          room.take(task);
        }
      }
    }
    // Checked after the task, so the iterator is never asked for one more than is examined.
    if (left <= 0 || ++scanned >= input.maxScan) break;
  }
  // Slots left only because its own tasks are claimed already (the window holds claims in flight):
  // those claims settle first, and this node claims its next own tasks then.
  if (left <= 0 || stealable.length === 0 || inFlight) return own;
  // Slots left after this node's own tasks: the stealable ones, merged back into queue order.
  const out: ReadyTask[] = [];
  let i = 0;
  for (const s of stealable) {
    if (s.task.slots > left) continue;
    while (i < own.length && at(ownAt, i, 'a position per own task') < s.at) out.push(at(own, i++, 'an own task below the length'));
    out.push(s.task);
    left -= s.task.slots;
    if (left <= 0) break;
  }
  return out.concat(own.slice(i));
}
