// Test-only network partitions on a real node (`meshrun node --test-partitions`): the nemesis of
// the multi-process partition tests and the failover benchmark cuts real libp2p connections, not
// a flag inside the Raft core. Two rules, each a set of peer ids:
// - block: no connection to or from the peer, whoever dials (libp2p's connection gater refuses it
//   once the remote peer id is known), open connections are aborted, and any Raft frame from it
//   still in flight is dropped;
// - dropFrom: a one-way cut. A connection is always two-way, so this one is made in the Raft
//   transport's receive path instead: frames from the peer are discarded, ours still reach it.
import { peerIdFromString } from '@libp2p/peer-id';
import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface';
import type { NodeId } from '../raft/types.js';

export interface PartitionRules {
  readonly block: readonly NodeId[];
  readonly dropFrom: readonly NodeId[];
}

/** What is wrong with `rules` on node `self` (a list naming an id that is no peer id, or this node), or null. */
export function rulesProblem(rules: PartitionRules, self: NodeId): string | null {
  for (const list of ['block', 'dropFrom'] as const) {
    for (const [i, id] of rules[list].entries()) {
      if (id === self) return `${list}[${i}] is this node itself (${id})`;
      try {
        peerIdFromString(id);
      } catch {
        return `${list}[${i}] is not a peer id: ${JSON.stringify(id)}`;
      }
    }
  }
  return null;
}

export class PartitionGate {
  private block = new Set<NodeId>();
  private dropFrom = new Set<NodeId>();

  /** For createHost: every hook that sees the remote peer id refuses a blocked one. */
  readonly connectionGater: ConnectionGater = {
    denyDialPeer: (peer) => this.blocks(peer),
    denyOutboundConnection: (peer) => this.blocks(peer),
    denyInboundEncryptedConnection: (peer) => this.blocks(peer),
    denyOutboundEncryptedConnection: (peer) => this.blocks(peer),
    denyInboundUpgradedConnection: (peer) => this.blocks(peer),
    denyOutboundUpgradedConnection: (peer) => this.blocks(peer),
  };

  rules(): PartitionRules {
    return { block: [...this.block], dropFrom: [...this.dropFrom] };
  }

  /** For the Raft transport's receive path: false for a frame that must be discarded. */
  accepts(from: NodeId): boolean {
    return !this.block.has(from) && !this.dropFrom.has(from);
  }

  /**
   * Replaces the rules (not adds to them), then aborts every open connection to a blocked peer:
   * abruptly, as a cut network would, rather than with a graceful close that waits on the peer.
   */
  set(host: Pick<Libp2p, 'getConnections'>, rules: PartitionRules): void {
    this.block = new Set(rules.block);
    this.dropFrom = new Set(rules.dropFrom);
    for (const c of host.getConnections()) if (this.blocks(c.remotePeer)) c.abort(new Error('partitioned by the test gate'));
  }

  /** Lifts every rule; connections come back as the node's dialers retry. */
  heal(): void {
    this.block = new Set();
    this.dropFrom = new Set();
  }

  private blocks(peer: PeerId): boolean {
    return this.block.has(peer.toString());
  }
}
