// The contract between the network layer (src/net) and the node that wires it (src/node).
// Peer ids (libp2p's, as strings) are the nodes' Raft identities.
import type { NodeId } from '../raft/types.js';

/** A member's way in: its peer id and the multiaddrs it listens on (each ending in /p2p/<id>). */
export interface PeerAddress {
  readonly id: NodeId;
  readonly addrs: readonly string[];
}

/** Counters a transport keeps instead of throwing (exported as metrics later). */
export interface TransportStats {
  framesSent: number;
  framesReceived: number;
  /** Outgoing frames dropped because a peer's bounded queue was full (Raft tolerates loss). */
  droppedQueueFull: number;
  /** Inbound frames over the size limit: the stream is reset. */
  droppedOversize: number;
  /** Frames for peers we have no address for. */
  droppedNoRoute: number;
  dialFailures: number;
}

/**
 * Raft messages over libp2p streams (`/meshrun/raft/1`): one long-lived outbound stream per peer,
 * length-prefixed frames each holding one encoded Message. `send` never blocks or throws: frames
 * go to a bounded per-peer queue, dropped (and counted) when full; a broken stream is redialled
 * with backoff. Inbound frames are size-limited and handed over undecoded (the core's
 * `stepEncoded` validates and counts garbage).
 */
export interface RaftTransport {
  /** Starts serving the protocol: inbound frames reach the handler from here on. */
  start(): void;
  send(to: NodeId, frame: Uint8Array): void;
  onFrame(handler: (from: NodeId, frame: Uint8Array) => void): void;
  /** Where to reach a peer that is not connected now (from the replicated address book). */
  setAddressBook(lookup: (id: NodeId) => readonly string[] | undefined): void;
  readonly stats: TransportStats;
  stop(): Promise<void>;
}

/** What each node publishes on gossipsub topic `meshrun/load/1` (docs/architecture.md §8). */
export interface LoadReport {
  readonly node: NodeId;
  readonly slots: number;
  readonly free: number;
  readonly running: number;
  readonly handlers: readonly string[];
  readonly applied: number;
  /** Sender's wall clock, ms; used only to order a peer's own reports. */
  readonly at: number;
  /** Its readable name (`--name`, default the host name); absent in reports of older nodes. */
  readonly name?: string;
  /** Where its HTTP API answers (`http://HOST:PORT`), for clients that follow the cluster. */
  readonly api?: string;
  /** Bytes of task logs in its data directory, as of its latest measure. */
  readonly logBytes?: number;
}

export interface JoinRequest {
  /** The joining node: must be the peer that opens the stream (a node asks only for itself). */
  readonly id: NodeId;
  /** Where it listens, each ending in /p2p/<id>. */
  readonly addrs: readonly string[];
  /** The cluster id in its Raft store; null when the store holds none (empty, or older than cluster ids). */
  readonly cluster: string | null;
  /** Its Raft store is empty (a new node, or one whose store was lost): it may not stay a voter. */
  readonly emptyStore: boolean;
}

/** Why a join was refused, when the joiner should act on it rather than retry. */
export type JoinRefusalReason = 'wrong-cluster';

export type JoinResponse =
  | {
      readonly ok: true;
      readonly leader: NodeId;
      readonly members: readonly PeerAddress[];
      /** The cluster's id, for the joiner to store; null when the leader's store predates cluster ids. */
      readonly cluster: string | null;
      /** The leader's commit index when it admitted the joiner: the joiner holds its vote until it has applied it (RaftNode.holdVotingUntil). */
      readonly admittedAt: number;
    }
  | { readonly ok: false; readonly error: string; readonly leader?: PeerAddress; readonly reason?: JoinRefusalReason };
