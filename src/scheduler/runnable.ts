// Why a ready task waits with nobody to take it (docs/http-api.md §6): no live node has its handler,
// or none of those that have it has enough slots. Such a task would otherwise wait in silence
// until the job is cancelled. Read from the node table as the state machine knows it (heartbeats),
// at the view's time: a node counts while its lease holds.
import type { Ms, TaskSpec } from './types.js';

/** What the check needs of a node. */
export interface NodeCapacity {
  readonly slots: number;
  readonly handlers: readonly string[];
  readonly leaseUntil: Ms;
}

/** The live nodes' capacity, computed once per view and asked per spec. */
export class Capacity {
  private readonly live: readonly NodeCapacity[];

  constructor(nodes: Iterable<NodeCapacity>, now: Ms) {
    this.live = [...nodes].filter((n) => n.leaseUntil >= now);
  }

  /** Why no live node can run tasks of `spec`, or null when one can. */
  whyNot(spec: TaskSpec): string | null {
    const handler = spec.exec.kind === 'handler' ? spec.exec.name : null;
    if (this.live.length === 0) return 'no live node (none has sent a heartbeat within its lease)';
    const able = handler === null ? this.live : this.live.filter((n) => n.handlers.includes(handler));
    if (able.length === 0) {
      const known = [...new Set(this.live.flatMap((n) => n.handlers))].sort();
      return `no node has handler '${handler ?? ''}' (known: ${known.length === 0 ? 'none' : known.join(', ')})`;
    }
    const largest = Math.max(...able.map((n) => n.slots));
    if (largest >= spec.slots) return null;
    const which = handler === null ? 'no node' : `no node with handler '${handler}'`;
    return `${which} has ${spec.slots} slots (the largest has ${largest})`;
  }
}
