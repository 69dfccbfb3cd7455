import type { NodeId } from './types.js';

/** A linearizable read waiting for a quorum to confirm that its leader is still the leader. */
export interface PendingRead {
  readonly ctx: string;
  /** The commit index when the read arrived: the read is served once the reader applied it. */
  readonly index: number;
  /** The node that asked: the leader itself, or the follower that forwarded it. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex (thesis section 6.4): requests are queued in arrival order; a heartbeat round carries
 * the newest ctx, and a quorum of acknowledgements for one request confirms every earlier one too.
 */
export class ReadOnlyQueue {
  private queue: PendingRead[] = [];
  private byCtx = new Map<string, PendingRead>();

  add(ctx: string, index: number, from: NodeId, self: NodeId): boolean {
    if (this.byCtx.has(ctx)) return false;
    const r: PendingRead = { ctx, index, from, acks: new Set([self]) };
    this.queue.push(r);
    this.byCtx.set(ctx, r);
    return true;
  }

  /** Record `voter`'s acknowledgement of `ctx`; returns how many have acknowledged it. */
  ack(ctx: string, voter: NodeId): number {
    const r = this.byCtx.get(ctx);
    if (!r) return 0;
    r.acks.add(voter);
    return r.acks.size;
  }

  acksOf(ctx: string): ReadonlySet<NodeId> | undefined {
    return this.byCtx.get(ctx)?.acks;
  }

  /** Remove and return every request up to and including `ctx`. */
  releaseThrough(ctx: string): PendingRead[] {
    const i = this.queue.findIndex((r) => r.ctx === ctx);
    if (i < 0) return [];
    const out = this.queue.splice(0, i + 1);
    for (const r of out) this.byCtx.delete(r.ctx);
    return out;
  }

  /** The newest request's ctx, carried by the next heartbeat round. */
  lastCtx(): string {
    const r = this.queue[this.queue.length - 1];
    return r ? r.ctx : '';
  }

  drain(): PendingRead[] {
    const out = this.queue;
    this.queue = [];
    this.byCtx.clear();
    return out;
  }
}
