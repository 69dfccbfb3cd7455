// Where to dial each peer, from every source this node has, freshest first:
//  1. what the peer itself said on a live connection (libp2p identify: its current listen
//     addresses), kept for the life of this process, newest first;
//  2. hints given to this run: the `--bootstrap` flags and the members listed in a join answer;
//  3. the replicated address book in the log.
// The log lags a restart on another port: a node's new address is committed only through a leader,
// and a leader may need that very node to form a quorum. The sources outside the log let any two
// live members that can reach each other at all find each other again: once either one knows an
// address where the other listens now (a hint, or the log), it dials; the dialled side learns the
// dialler's addresses over identify, so it can dial back and redial after the connection breaks.
// Nothing here is replicated or persisted; the log catches up once a leader is elected.
import type { Multiaddr } from '@multiformats/multiaddr';
import type { IdentifyResult, Libp2p } from '@libp2p/interface';
import { isLoopbackAddr, parseMultiaddr, peerIdIn, withPeerId } from '../net/addresses.js';
import type { NodeId } from '../raft/types.js';

export interface PeerAddressesOptions {
  readonly self: NodeId;
  /** The replicated address book (ClusterState.addressesOf). */
  readonly fromLog: (id: NodeId) => readonly string[] | undefined;
  /** Peers whose identify answers are remembered (least recently identified dropped first). Default 1024. */
  readonly maxPeers?: number;
  /** Addresses remembered per peer and source (identify, hints). Default 8: with the log's 32, a lookup fits a join answer. */
  readonly maxPerPeer?: number;
}

export class PeerAddresses {
  /** Map order is recency: a peer identified again moves to the end; the first is dropped when full. */
  private readonly observed = new Map<NodeId, string[]>();
  private readonly hints = new Map<NodeId, string[]>();
  private readonly maxPeers: number;
  private readonly maxPerPeer: number;

  constructor(private readonly opts: PeerAddressesOptions) {
    this.maxPeers = opts.maxPeers ?? 1024;
    this.maxPerPeer = opts.maxPerPeer ?? 8;
  }

  /** Every address known for `id`, freshest source first, without duplicates; undefined when none. */
  lookup(id: NodeId): readonly string[] | undefined {
    const all = [...(this.observed.get(id) ?? []), ...(this.hints.get(id) ?? []), ...(this.opts.fromLog(id) ?? [])];
    return all.length === 0 ? undefined : [...new Set(all)];
  }

  /** Addresses given to this run (flags, a join answer); each must end in /p2p/<id>, others are skipped. */
  hint(addrs: readonly string[]): void {
    for (const a of addrs) {
      let id: string | null;
      let full: string;
      try {
        const ma = parseMultiaddr(a);
        id = peerIdIn(ma);
        full = ma.toString();
      } catch {
        continue;
      }
      if (id === null || id === this.opts.self) continue;
      this.hints.set(id, cap([full, ...(this.hints.get(id) ?? []).filter((x) => x !== full)], this.maxPerPeer));
    }
  }

  /** What a peer said it listens on (identify); newest first, older addresses kept after them. */
  observe(id: NodeId, listenAddrs: readonly (Multiaddr | string)[]): void {
    if (id === this.opts.self) return;
    const fresh: string[] = [];
    for (const a of listenAddrs) {
      try {
        const ma = typeof a === 'string' ? parseMultiaddr(a) : a;
        // Circuit relay and the like are not something this node dials.
        const names = ma.getComponents().map((c) => c.name);
        if (!names.includes('tcp') || names.includes('p2p-circuit')) continue;
        fresh.push(withPeerId(ma, id));
      } catch {
        // not an address for this peer: skip it
      }
    }
    if (fresh.length === 0) return;
    // Loopback last: from another machine it is never the peer; on this one, any address works.
    fresh.sort((a, b) => Number(isLoopbackAddr(a)) - Number(isLoopbackAddr(b)));
    const previous = this.observed.get(id) ?? [];
    this.observed.delete(id);
    this.observed.set(id, cap([...new Set([...fresh, ...previous])], this.maxPerPeer));
    while (this.observed.size > this.maxPeers) {
      const oldest = this.observed.keys().next().value;
      if (oldest === undefined) break;
      this.observed.delete(oldest);
    }
  }

  /** Learns from every identify exchange on `host` (inbound and outbound); returns the unsubscribe. */
  watch(host: Libp2p): () => void {
    const onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
      this.observe(evt.detail.peerId.toString(), evt.detail.listenAddrs);
    };
    host.addEventListener('peer:identify', onIdentify);
    return () => host.removeEventListener('peer:identify', onIdentify);
  }
}

function cap(xs: string[], n: number): string[] {
  return xs.length > n ? xs.slice(0, n) : xs;
}
