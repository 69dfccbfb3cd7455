// The vocabulary of meshrun's Raft: log entries, persistent state, messages, and the Ready batch
// that the pure core hands its driver. Nothing here does I/O; storage, network and the simulator
// all speak in these types.

/** A node's Raft identity. In production this is the libp2p peer id; in the simulator, `n1`..`nN`. */
export type NodeId = string;

export type EntryType = 'normal' | 'conf';

/**
 * One log entry. `time` is the cluster time (ms since the epoch) the leader stamped it with when it
 * appended it: the median of the voters' clocks, never less than the time of its previous entry
 * (see ClusterClock), so one node's bad clock cannot move it. Replicas share that clock.
 * `proposer` is the authenticated member that proposed the entry: the leader itself, or the
 * follower whose forwarded proposal the leader appended. It is in the log, so every replica can
 * check that a command speaks only for the node that sent it.
 * A `normal` entry with empty data is the no-op a new leader appends.
 * A `conf` entry's data is an encoded ConfChange; only a leader's own proposals carry one.
 */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly time: number;
  readonly proposer: NodeId;
  readonly data: Uint8Array;
}

/**
 * Bounds on the numbers a message or an entry may carry. A term past MAX_TERM cannot come from a
 * real cluster (a billion elections); taking it would leave a node unable to campaign.
 */
export const MAX_TERM = 2 ** 32;
export const MAX_INDEX = 2 ** 48;

/** What must be durable before a vote or an acknowledgement leaves the node. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

/** Membership: voters elect and count toward commit; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** Membership together with the log index of the change that produced it (0 for the bootstrap one). */
export interface Membership {
  readonly conf: ConfState;
  readonly index: number;
}

/**
 * Single-server membership changes, one pending at a time, effective when applied.
 * addVoter on a learner promotes it; addLearner on a voter demotes it.
 */
export interface ConfChange {
  readonly type: 'addVoter' | 'addLearner' | 'remove';
  readonly node: NodeId;
}

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  /** Membership as of `index`. */
  readonly conf: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  /** The application's state machine, encoded by the application. */
  readonly data: Uint8Array;
}

/** Everything a node needs to restart exactly where its last synced write left it. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly membership: Membership | null;
  readonly snapshot: Snapshot | null;
  /** Contiguous entries following the snapshot (or starting at index 1). */
  readonly entries: readonly Entry[];
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

// ---------------------------------------------------------------------------------------------
// Messages. Every message names its sender, its receiver and the sender's term.

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** RequestVote, or its PreVote probe. `term` is the term the candidate would (pre)vote in. */
export interface VoteRequest extends MessageBase {
  readonly type: 'vote';
  readonly pre: boolean;
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set when the campaign was started by a leadership transfer: voters skip their leader lease. */
  readonly transfer: boolean;
}

/**
 * `leader` on a rejection: the leader the voter last knew ('' for none). A voter that missed a
 * membership change (it was cut off) may not know that leader is a voter now; the hint of a voter
 * it does know lets it hear that leader and catch up.
 */
export interface VoteResponse extends MessageBase {
  readonly type: 'voteResp';
  readonly pre: boolean;
  readonly reject: boolean;
  readonly leader: string;
}

/** AppendEntries. `commit` is the leader's commit index, capped to what the follower will hold. */
export interface AppendRequest extends MessageBase {
  readonly type: 'app';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  /**
   * Set (non-zero) on the leader's re-probe of a follower that seems to hold less than it
   * acknowledged; a rejection echoes it, so only the answer to that probe confirms the loss.
   */
  readonly probe?: number;
}

/**
 * Accept: `index` is the follower's last index matching the leader's log.
 * Reject: `index` is the rejected prevIndex; (hintIndex, hintTerm) let the leader skip a whole
 * conflicting term at once (fast backtracking): the follower's largest index <= prevIndex whose
 * term is <= the leader's prevTerm, and that entry's term.
 */
export interface AppendResponse extends MessageBase {
  readonly type: 'appResp';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
  /** A rejection of a re-probe: the request's `probe`. */
  readonly probe?: number;
}

/**
 * Heartbeat. `ctx` is non-empty when it also confirms leadership for a ReadIndex batch.
 * `transferee` names the voter this leader is handing leadership to ('' when none): only that
 * candidate's `transfer` vote request may skip a follower's leader lease.
 */
export interface HeartbeatRequest extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly ctx: string;
  readonly transferee: string;
}

/** `clock` is the responder's wall clock (ms since the epoch): the leader's input to cluster time. */
export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResp';
  readonly ctx: string;
  readonly clock: number;
}

/** One chunk of InstallSnapshot. The last chunk is the one with offset + chunk.length === total. */
export interface SnapshotChunk extends MessageBase {
  readonly type: 'snap';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly total: number;
  readonly chunk: Uint8Array;
}

/** `offset` is the next byte the follower expects (total when it has installed the snapshot). */
export interface SnapshotResponse extends MessageBase {
  readonly type: 'snapResp';
  readonly index: number;
  readonly offset: number;
  readonly reject: boolean;
}

/** A follower forwarding client proposals to the leader. */
export interface ProposalForward extends MessageBase {
  readonly type: 'prop';
  readonly entries: readonly { readonly type: EntryType; readonly data: Uint8Array }[];
}

/** A follower forwarding a linearizable read request to the leader. */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndex';
  readonly ctx: string;
}

/**
 * `leader` on a rejection: the leader the answering node last knew ('' for none), as in
 * VoteResponse. A request with an empty ctx is only a question for that hint: a learner that
 * hears no leader asks the voters it knows (see RaftNode.tickElection).
 */
export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResp';
  readonly ctx: string;
  readonly index: number;
  readonly reject: boolean;
  readonly leader: string;
}

/** Leadership transfer: the leader tells a caught-up target to campaign at once. */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow';
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotChunk
  | SnapshotResponse
  | ProposalForward
  | ReadIndexRequest
  | ReadIndexResponse
  | TimeoutNow;

// ---------------------------------------------------------------------------------------------
// The driver's interface.

/** A linearizable read may be served once the local node has applied `index`. */
export interface ReadState {
  readonly ctx: string;
  readonly index: number;
}

/** A read that could not be served (no leader, or leadership lost); the caller retries. */
export interface ReadFailure {
  readonly ctx: string;
  readonly reason: 'no-leader' | 'not-leader';
}

export interface SoftState {
  readonly leader: NodeId | null;
  readonly role: Role;
}

/**
 * What the driver must do, in order:
 * 1. persist `hardState`, `entries` (writing entry i discards every stored entry at or after i),
 *    `snapshot`, `compaction` and `membership` in one synced write;
 * 2. send `messages`;
 * 3. restore the state machine from `snapshot` if present, then apply `committed` in order;
 * 4. call `advance(ready)`.
 * Two overlaps are safe and worth it (thesis section 10.2.1): messages for which
 * `sendableBeforePersist` holds acknowledge nothing of this node's and may leave while the write
 * is under way, so a leader's disk write runs in parallel with its followers'; and committed
 * entries are already durable on a quorum, so step 3 may start before the write completes.
 * Everything else waits for the write, and `advance` comes last.
 */
export interface Ready {
  readonly soft: SoftState;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader: it replaces the whole log and the state machine. */
  readonly snapshot: Snapshot | null;
  /** A snapshot taken locally by compact(): entries up to its index can be deleted. */
  readonly compaction: Snapshot | null;
  readonly membership: Membership | null;
  readonly messages: readonly Message[];
  readonly committed: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly readFailures: readonly ReadFailure[];
  /** True when step 1 has anything to write. */
  readonly mustSync: boolean;
}

/**
 * The durable part of a Ready (step 1 above): what storage writes in one batch. The driver hands it
 * to its persistence port (src/storage/level-storage.ts in a node, sim/disk.ts in the simulator).
 */
export type PersistUpdate = Pick<Ready, 'hardState' | 'entries' | 'snapshot' | 'compaction' | 'membership'>;

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: true; readonly forwarded: true }
  | { readonly ok: false; readonly reason: ProposeRefusal };

/**
 * Why a proposal was refused at once: no known leader; a membership change proposed on a
 * follower (only a leader proposes them); a leadership transfer in progress; another
 * membership change not yet applied; a change that would leave no voters; a proposal over
 * maxProposalBytes; the leader's uncommitted log over maxUncommittedBytes.
 */
export type ProposeRefusal = 'no-leader' | 'not-leader' | 'transferring' | 'conf-pending' | 'invalid-conf' | 'too-large' | 'overloaded';

/** Counters for everything the core refused instead of throwing. */
export interface RaftStats {
  droppedStaleTerm: number;
  /** Messages from a node that is not a member (or, for votes and leader traffic, not a voter). */
  droppedUnknownNode: number;
  /** Leader traffic from a second voter claiming the term of the leader already known. */
  droppedRivalLeader: number;
  /** Forwarded `conf` entries: membership changes come only from the leader's own logic. */
  refusedForwardedConf: number;
  /** Snapshot chunks refused: over maxSnapshotBytes. */
  refusedSnapshots: number;
  /** Followers found holding less of the log than they had acknowledged (a lost or restored disk). */
  lostAcknowledged: number;
  droppedMalformed: number;
  droppedProposals: number;
  leaderChanges: number;
  snapshotsSent: number;
  snapshotsInstalled: number;
}

/** The one source of randomness the core uses: an integer in [0, maxExclusive). */
export interface Rng {
  int(maxExclusive: number): number;
}

export interface RaftConfig {
  readonly id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [e, 2e)). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats. */
  readonly heartbeatTicks: number;
  readonly rng: Rng;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Append messages in flight per follower before the leader waits for acknowledgements. */
  readonly maxInflight: number;
  /** Upper bound on the payload bytes of one append message (at least one entry is always sent). */
  readonly maxMsgBytes: number;
  /** InstallSnapshot chunk size. */
  readonly snapshotChunkBytes: number;
  /** A leader refuses proposals once this many uncommitted payload bytes are in its log. */
  readonly maxUncommittedBytes: number;
  /** Largest single proposal accepted. */
  readonly maxProposalBytes: number;
  /** Largest snapshot a follower accepts over InstallSnapshot. */
  readonly maxSnapshotBytes: number;
  /**
   * Milliseconds per tick, used only to age the voters' clock reports (ClusterClock); 0 when
   * ticks have no fixed period (then a report counts as fresh for one election timeout).
   */
  readonly tickMs: number;
}

export const defaultRaftConfig = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxInflight: 64,
  maxMsgBytes: 1 << 20,
  snapshotChunkBytes: 64 << 10,
  maxUncommittedBytes: 64 << 20,
  maxProposalBytes: 1 << 20,
  maxSnapshotBytes: 1 << 30,
  tickMs: 0,
} as const satisfies Partial<RaftConfig>;
