// Why a ready task waits with nobody to take it (docs/http-api.md §6): no live node has its handler
// or its `on` labels, none of those that have them has enough slots, its pool does not exist or
// has no slot free, or its job runs as many tasks as its `concurrency` allows. Such a task would
// otherwise wait in silence. Read from the node table as the state machine knows it (heartbeats),
// at the view's time: a node counts while its lease holds.
import { formatLabels, hasLabels } from './placement.js';
import type { Labels, Ms, TaskSpec } from './types.js';

/** What the check needs of a node. */
export interface NodeCapacity {
  readonly slots: number;
  readonly handlers: readonly string[];
  readonly labels?: Labels;
  readonly leaseUntil: Ms;
}

const NONE: ReadonlyMap<string, number> = new Map();

/** The live nodes' capacity and the pools, computed once per view and asked per spec. */
export class Capacity {
  private readonly live: readonly NodeCapacity[];

  constructor(
    nodes: Iterable<NodeCapacity>,
    now: Ms,
    private readonly pools: ReadonlyMap<string, number> = NONE,
    private readonly poolUsed: ReadonlyMap<string, number> = NONE,
  ) {
    this.live = [...nodes].filter((n) => n.leaseUntil >= now);
  }

  /** Why no live node can run tasks of `spec`, or why its pool holds it back; null when neither. */
  whyNot(spec: TaskSpec): string | null {
    return this.noNode(spec) ?? this.poolWait(spec);
  }

  private noNode(spec: TaskSpec): string | null {
    const handler = spec.exec.kind === 'handler' ? spec.exec.name : null;
    if (this.live.length === 0) return 'no live node (none has sent a heartbeat within its lease)';
    const on = spec.on;
    const placed = on === undefined ? this.live : this.live.filter((n) => hasLabels(n.labels ?? {}, on));
    if (on !== undefined && placed.length === 0) return `no node has labels ${formatLabels(on)}`;
    const able = handler === null ? placed : placed.filter((n) => n.handlers.includes(handler));
    if (able.length === 0) {
      const known = [...new Set(placed.flatMap((n) => n.handlers))].sort();
      const where = on === undefined ? 'no node' : `no node with labels ${formatLabels(on)}`;
      return `${where} has handler '${handler ?? ''}' (known: ${known.length === 0 ? 'none' : known.join(', ')})`;
    }
    const largest = Math.max(...able.map((n) => n.slots));
    if (largest >= spec.slots) return null;
    const which = handler === null ? 'no node' : `no node with handler '${handler}'`;
    return `${which} has ${spec.slots} slots (the largest has ${largest})`;
  }

  private poolWait(spec: TaskSpec): string | null {
    if (spec.pool === undefined) return null;
    const size = this.pools.get(spec.pool);
    if (size === undefined) return `pool ${spec.pool} does not exist (meshrun pool set ${spec.pool} SIZE creates it)`;
    if (size === 0) return `pool ${spec.pool} is paused (size 0)`;
    const used = this.poolUsed.get(spec.pool) ?? 0;
    return used < size ? null : `waiting for a slot of pool ${spec.pool} (${used} of ${size} held)`;
  }
}
