// Simulated load gossip (docs/architecture.md §8, topic meshrun/load/1): each node's worker.load() is
// published now and then and on change, and reaches every other node after a delay, unless the
// message is lost or a partition cuts the link (on the way out or while in flight). Each node
// keeps the latest entry per peer and forgets entries older than `expireMs`: a crashed or
// partitioned peer drops out of the claim policy's view. A node's table lives in its process, so
// a crash empties it.
import type { NodeId } from '../src/raft/types.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { PeerLoad } from '../src/worker/types.js';

export interface GossipParams {
  /** Mean ms between two publications of one node. */
  readonly periodMs: number;
  readonly loss: number;
  readonly delayMean: number;
  /** Entries older than this are dropped from the view. */
  readonly expireMs: number;
}

export interface GossipWorld {
  now(): number;
  after(ms: number, fn: () => void): void;
  linkBlocked(from: NodeId, to: NodeId): boolean;
  readonly rng: SeededRng;
}

interface Heard {
  readonly load: PeerLoad;
  readonly at: number;
}

export class SimGossip {
  private readonly tables = new Map<NodeId, Map<NodeId, Heard>>();
  readonly stats = { published: 0, delivered: 0, lost: 0, blocked: 0 };

  constructor(
    private readonly world: GossipWorld,
    readonly params: GossipParams,
    private readonly nodes: readonly NodeId[],
  ) {
    for (const n of nodes) this.tables.set(n, new Map());
  }

  publish(from: NodeId, load: PeerLoad): void {
    const w = this.world;
    this.stats.published++;
    for (const to of this.nodes) {
      if (to === from) continue;
      if (w.linkBlocked(from, to)) {
        this.stats.blocked++;
        continue;
      }
      if (w.rng.chance(this.params.loss)) {
        this.stats.lost++;
        continue;
      }
      const delay = 1 + Math.floor(this.params.delayMean * (0.25 + 1.5 * w.rng.float()));
      w.after(delay, () => {
        if (w.linkBlocked(from, to)) {
          this.stats.blocked++;
          return;
        }
        this.stats.delivered++;
        const table = this.tables.get(to) as Map<NodeId, Heard>;
        const old = table.get(from);
        if (!old || old.at <= w.now()) table.set(from, { load, at: w.now() });
      });
    }
  }

  /** What `self` knows of live peers, its own load first (the claim policy replaces it anyway). */
  peers(self: NodeId, own: PeerLoad): PeerLoad[] {
    const out: PeerLoad[] = [own];
    const table = this.tables.get(self);
    if (!table) return out;
    const cutoff = this.world.now() - this.params.expireMs;
    for (const [node, h] of table) {
      if (node === self) continue;
      if (h.at < cutoff) table.delete(node);
      else out.push(h.load);
    }
    return out;
  }

  /** The node's process died: what it had heard is gone. */
  forget(node: NodeId): void {
    this.tables.get(node)?.clear();
  }
}
