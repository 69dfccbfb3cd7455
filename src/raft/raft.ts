import { known } from '../invariant.js';
import { decodeConfChange, decodeMessage, encodeConfChange } from './codec.js';
import { ClusterClock } from './cluster-clock.js';
import { applyConfChange, isMember, isVoter, proposedByVoter } from './confchange.js';
import { RaftLog } from './log.js';
import { Progress, committedIndex, quorumSize, tallyVotes } from './progress.js';
import { ReadOnlyQueue } from './read-only.js';
import { messageProblem } from './validate.js';
import type {
  AppendRequest,
  AppendResponse,
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  HeartbeatRequest,
  HeartbeatResponse,
  Membership,
  Message,
  NodeId,
  PersistedState,
  ProposeResult,
  RaftConfig,
  RaftStats,
  ReadFailure,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotChunk,
  SnapshotResponse,
  VoteRequest,
  VoteResponse,
} from './types.js';
import { MAX_TERM } from './types.js';

export interface PeerStatus {
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly recentActive: boolean;
  readonly isLearner: boolean;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly membership: Membership;
  readonly isLearner: boolean;
  /** Only on the leader. */
  readonly progress: ReadonlyMap<NodeId, PeerStatus> | null;
}

type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'from' | 'term'> & { term?: number } : never) : never;

/** A snapshot being received in chunks. */
interface Incoming {
  readonly snapshot: Snapshot['meta'];
  readonly total: number;
  readonly parts: Uint8Array[];
  offset: number;
}

/** Numbered re-probes of one follower suspected of a lost disk, per heartbeat round (onAppendResp). */
const MAX_REPROBES = 3;
/** Heartbeat rounds of rejections that confirm a lost disk without an echoed probe (onAppendResp). */
const SUSPECT_ROUNDS = 2;
const EMPTY = new Uint8Array(0);
/** InstallSnapshot chunks a leader keeps in flight to one follower. */
const SNAPSHOT_WINDOW = 4;

/**
 * The Raft consensus core of one node, as a pure state machine (after etcd/raft's RawNode):
 * no I/O, no clock, no randomness but `config.rng`. The driver feeds it ticks, messages and
 * proposals, and takes from `ready()` what to persist, send and apply, in that order.
 * Section numbers refer to Ongaro's thesis "Consensus: Bridging Theory and Practice".
 */
export class RaftNode {
  readonly stats: RaftStats = {
    droppedStaleTerm: 0,
    droppedUnknownNode: 0,
    droppedRivalLeader: 0,
    refusedForwardedConf: 0,
    refusedSnapshots: 0,
    lostAcknowledged: 0,
    droppedMalformed: 0,
    droppedProposals: 0,
    leaderChanges: 0,
    snapshotsSent: 0,
    snapshotsInstalled: 0,
  };

  readonly id: NodeId;
  private term = 0;
  private vote: NodeId | null = null;
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private readonly log: RaftLog;
  private membership: Membership;
  /** The latest snapshot: restored, received or taken; what a lagging follower is sent. */
  private snapshot: Snapshot | null;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /**
   * The driver's wall clock (ms): the latest time handed in by tick(now) or observeTime(now), as
   * read (it may go back). Reported to the leader, and the leader's own input to cluster time.
   */
  private wall = 0;
  /** Stamps the entries this node appends as leader (see ClusterClock). */
  private readonly clock: ClusterClock;
  /**
   * Members named by the cluster when this node joined (the join answer of a member it dialled),
   * heard while its own configuration does not list it yet: the leader catching it up.
   */
  private introducers = new Set<NodeId>();
  /** See holdVotingUntil. */
  private votingFloor = 0;
  /** The leader a voter this node knows named in a vote rejection: heard though not yet a known voter. */
  private vouchedLeader: NodeId | null = null;
  /** The last leader this node knew, named in its vote rejections (see VoteResponse.leader). */
  private lastLeader: NodeId | null = null;
  /** Cache of the voters and members of configuration entries in the log not yet applied. */
  private pendingConfCache: { key: string; confs: ConfState[] } | null = null;
  /** Followers found with less of the log than they acknowledged, for the application to demote. */
  private lostAcks: NodeId[] = [];
  /** The last re-probe number given out (Progress.suspectProbe); never reused while this node leads a term. */
  private probeSeq = 0;

  // Leader state.
  private progress = new Map<NodeId, Progress>();
  private pendingConfIndex = 0;
  private leadTransferee: NodeId | null = null;
  private uncommittedBytes = 0;
  private readonly reads = new ReadOnlyQueue();
  /** Reads that arrived before this leader committed an entry of its term (section 6.4 step 1). */
  private deferredReads: { ctx: string; from: NodeId }[] = [];
  /** Set when new entries or a new commit index should go out with the next Ready. */
  private broadcastPending = false;

  // Candidate state.
  private votes = new Map<NodeId, boolean>();

  // Follower state.
  /** The voter the current leader announced it is handing leadership to ('' for none). */
  private leaderTransferee = '';
  private incoming: Incoming | null = null;
  /** Proposals to forward to the leader, batched into one message per Ready. */
  private forwards: { type: EntryType; data: Uint8Array }[] = [];

  // Output gathered for the next Ready.
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private readFailures: ReadFailure[] = [];
  private receivedSnapshot: Snapshot | null = null;
  private compaction: Snapshot | null = null;
  private membershipDirty = false;
  private lastHardState: HardState;
  private lastSoftLeader: NodeId | null = null;
  private readyOutstanding = false;

  /**
   * @param restored what storage loaded (null for an empty data directory)
   * @param bootstrap the membership of a brand-new cluster; ignored once any membership is stored
   */
  constructor(
    readonly config: RaftConfig,
    restored: PersistedState | null,
    bootstrap?: ConfState,
  ) {
    if (config.electionTicks <= config.heartbeatTicks) throw new Error('raft: electionTicks must exceed heartbeatTicks');
    if (config.maxInflight < 1) throw new Error('raft: maxInflight must be >= 1');
    this.id = config.id;
    const hs = restored?.hardState ?? { term: 0, vote: null, commit: 0 };
    this.term = hs.term;
    this.vote = hs.vote;
    this.snapshot = restored?.snapshot ?? null;
    this.log = RaftLog.restore(this.snapshot?.meta ?? null, restored?.entries ?? [], hs.commit);
    this.lastHardState = hs;

    // The newest of: the stored membership, the snapshot's, the bootstrap one.
    const stored = restored?.membership ?? null;
    const fromSnap = this.snapshot ? { conf: this.snapshot.meta.conf, index: this.snapshot.meta.index } : null;
    let m = stored;
    if (fromSnap && (!m || fromSnap.index > m.index)) m = fromSnap;
    if (!m) {
      m = { conf: bootstrap ?? { voters: [], learners: [] }, index: 0 };
      this.membershipDirty = bootstrap !== undefined;
    }
    this.membership = m;
    this.clock = new ClusterClock(config.tickMs, config.electionTicks);
    this.resetRandomizedElectionTimeout();
  }

  // ------------------------------------------------------------------------------------------
  // Driver API

  /** One logical tick. `now` is the driver's wall clock in ms, used only to stamp entries this node appends as leader. */
  tick(now?: number): void {
    if (now !== undefined) this.observeTime(now);
    this.clock.tick();
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /**
   * The driver's wall clock in ms, without a logical tick. It is this node's input to cluster time
   * (ClusterClock); a driver that calls it before it feeds a message or a proposal in gets
   * entries stamped to the millisecond rather than to the last tick.
   */
  observeTime(now: number): void {
    if (Number.isFinite(now) && now >= 0) this.wall = now;
  }

  /** Leader: the cluster time an entry appended now would carry. Others: their own clock. */
  clusterTime(): number {
    if (this.role !== 'leader') return this.wall;
    return this.clock.peek(this.id, this.wall, this.membership.conf.voters);
  }

  /**
   * Let the members named by the cluster's join answer reach this node while its own configuration
   * does not list it yet (a new node, or one whose store was lost): the leader among them catches
   * it up, and from the first configuration in its log on, that configuration decides.
   */
  admitIntroducers(ids: readonly NodeId[]): void {
    this.introducers = new Set(ids.filter((id) => id !== this.id));
  }

  /**
   * A node that joined with nothing (a new or a wiped store) replays configurations older than the
   * one that admitted it: a snapshot or a conf entry from before its demotion may name it a voter.
   * Until it has applied `index` (the leader's commit when it was admitted) it neither campaigns
   * nor votes, so two such nodes cannot elect each other on a stale view.
   */
  holdVotingUntil(index: number): void {
    if (index > this.votingFloor) this.votingFloor = index;
  }

  /** Followers (by id) that answered with less of the log than they had acknowledged since the last call. */
  takeLostAcknowledged(): NodeId[] {
    const out = this.lostAcks;
    this.lostAcks = [];
    return out;
  }

  /** Feed one message from the network. Invalid, stale or foreign messages are dropped and counted. */
  step(m: Message): void {
    const problem = messageProblem(m);
    if (problem !== null || m.to !== this.id) {
      this.stats.droppedMalformed++;
      return;
    }
    if (!this.acceptsFrom(m)) {
      this.stats.droppedUnknownNode++;
      // A member campaigning though it is no voter (any more) missed the change that demoted it:
      // no vote, but the leader's name, so it can hear that leader and learn the change.
      if (m.type === 'vote' && this.knownMember(m.from)) {
        // Without PreVote nothing keeps a member cut off from raising its term, and nothing else
        // would bring it back: take its term (no vote), as Raft without PreVote does from anyone.
        if (!this.config.preVote && m.term > this.term) this.becomeFollower(m.term, null);
        this.send({ type: 'voteResp', to: m.from, pre: m.pre, reject: true, leader: this.leader ?? this.lastLeader ?? '' });
      }
      return;
    }
    if ((m.type === 'voteResp' || m.type === 'readIndexResp') && m.reject) this.noteLeaderHint(m.from, m.leader);
    if (m.term > this.term) {
      if (!this.onHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.onLowerTerm(m);
      return;
    }
    this.dispatch(m);
  }

  /**
   * Feed one encoded message as it came off the wire. Bytes that do not decode, or that claim a
   * sender other than `authenticatedFrom` (the transport's authenticated peer), are dropped and
   * counted. Returns whether the message was handed to `step`.
   */
  stepEncoded(bytes: Uint8Array, authenticatedFrom?: NodeId): boolean {
    const d = decodeMessage(bytes);
    if (!d.ok || (authenticatedFrom !== undefined && d.value.from !== authenticatedFrom)) {
      this.stats.droppedMalformed++;
      return false;
    }
    this.step(d.value);
    return true;
  }

  /** Propose application data. A follower forwards it to the leader. */
  propose(data: Uint8Array): ProposeResult {
    return this.proposeEntry('normal', data);
  }

  /** Propose a single-server membership change; it takes effect when applied. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.proposeEntry('conf', encodeConfChange(cc));
  }

  /** Ask for a linearizable read point; answered in a later Ready's readStates or readFailures. */
  readIndex(ctx: string): void {
    if (this.role === 'leader') {
      this.leaderRead(ctx, this.id);
    } else if (this.leader !== null) {
      this.send({ type: 'readIndex', to: this.leader, ctx });
    } else {
      this.readFailures.push({ ctx, reason: 'no-leader' });
    }
  }

  /** Leader only: hand leadership to `to` once it has caught up (section 3.10). */
  transferLeadership(to: NodeId): boolean {
    if (this.role !== 'leader' || to === this.id || !isVoter(this.membership.conf, to)) return false;
    if (this.leadTransferee === to) return true;
    this.leadTransferee = to;
    // The transfer gets one election timeout to finish. The voters learn of it from this
    // heartbeat round; the transferee is told to campaign when it answers caught up (see
    // maybeSendTimeoutNow), so the voters know to let its campaign through their leader lease.
    this.electionElapsed = 0;
    this.bcastHeartbeat(this.reads.lastCtx());
    const pr = this.progress.get(to) as Progress;
    if (pr.match < this.log.lastIndex()) this.sendAppend(to, true);
    return true;
  }

  /** Start an election now (voters only). */
  campaign(): void {
    this.hup(false);
  }

  /**
   * The application serialized its state as of `index` (applied; the applied index, or an earlier
   * one when it encoded its state while applying more) as `data`: keep it as the snapshot and drop
   * the log up to it. Returns false when `index` is not applied, is already compacted, or comes
   * before the membership's latest change (the snapshot carries the membership as of `index`,
   * which is the current one only when no change was applied after it).
   */
  compact(index: number, data: Uint8Array): boolean {
    if (index > this.log.applied || index <= this.log.snapshotIndex() || index < this.membership.index) return false;
    const term = known(this.log.term(index), 'the term of an applied, uncompacted index');
    const snap: Snapshot = { meta: { index, term, conf: this.membership.conf }, data };
    this.log.compactTo(index);
    this.snapshot = snap;
    this.compaction = snap;
    return true;
  }

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    return (
      this.broadcastPending ||
      this.forwards.length > 0 ||
      this.msgs.length > 0 ||
      this.log.hasUnstable() ||
      this.log.committed > this.log.applied ||
      this.receivedSnapshot !== null ||
      this.compaction !== null ||
      this.membershipDirty ||
      this.readStates.length > 0 ||
      this.readFailures.length > 0 ||
      !sameHardState(this.hardState(), this.lastHardState) ||
      this.leader !== this.lastSoftLeader
    );
  }

  ready(): Ready {
    if (this.readyOutstanding) throw new Error('raft: ready() called again before advance()');
    this.flushBroadcast();
    const hs = this.hardState();
    const hardState = sameHardState(hs, this.lastHardState) ? null : hs;
    const entries = this.log.unstable();
    const rd: Ready = {
      soft: { leader: this.leader, role: this.role },
      hardState,
      entries,
      snapshot: this.receivedSnapshot,
      compaction: this.compaction,
      membership: this.membershipDirty ? this.membership : null,
      messages: this.msgs,
      committed: this.log.toApply(),
      readStates: this.readStates,
      readFailures: this.readFailures,
      mustSync:
        hardState !== null || entries.length > 0 || this.receivedSnapshot !== null || this.compaction !== null || this.membershipDirty,
    };
    this.lastHardState = hs;
    this.lastSoftLeader = this.leader;
    this.msgs = [];
    this.readStates = [];
    this.readFailures = [];
    this.receivedSnapshot = null;
    this.compaction = null;
    this.membershipDirty = false;
    this.readyOutstanding = true;
    return rd;
  }

  advance(rd: Ready): void {
    if (!this.readyOutstanding) throw new Error('raft: advance() without ready()');
    this.readyOutstanding = false;
    const lastNew = rd.entries[rd.entries.length - 1];
    if (lastNew) this.log.stableTo(lastNew.index, lastNew.term);
    const lastApplied = rd.committed[rd.committed.length - 1];
    // A snapshot installed since this Ready was taken already moved `applied` past these entries.
    if (lastApplied && lastApplied.index > this.log.applied) {
      for (const e of rd.committed) {
        if (e.type === 'conf' && e.index > this.membership.index) this.applyConfEntry(e);
      }
      this.log.appliedTo(lastApplied.index);
    }
    if (this.role === 'leader') {
      const self = this.progress.get(this.id);
      if (self && self.maybeUpdate(this.log.stable) && this.maybeCommit()) this.broadcastPending = true;
    }
  }

  status(): RaftStatus {
    let progress: Map<NodeId, PeerStatus> | null = null;
    if (this.role === 'leader') {
      progress = new Map();
      for (const [id, pr] of this.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, recentActive: pr.recentActive, isLearner: pr.isLearner });
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      leader: this.leader,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      membership: this.membership,
      isLearner: this.membership.conf.learners.includes(this.id),
      progress,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Roles and terms

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private promotable(): boolean {
    return isVoter(this.membership.conf, this.id) && this.log.applied >= this.votingFloor;
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.config.electionTicks + this.config.rng.int(this.config.electionTicks);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.setLeader(null);
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.votes.clear();
    this.leadTransferee = null;
    this.progress.clear();
    this.broadcastPending = false;
    this.uncommittedBytes = 0;
    // Reads waiting under the old role can no longer be confirmed by it: the askers must retry.
    for (const r of [...this.deferredReads, ...this.reads.drain()]) this.failRead(r.ctx, r.from);
    this.deferredReads = [];
  }

  private setLeader(leader: NodeId | null): void {
    if (leader !== this.leader && leader !== null) this.stats.leaderChanges++;
    if (leader !== this.leader) this.leaderTransferee = '';
    if (leader !== null) this.lastLeader = leader;
    this.leader = leader;
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    this.reset(term);
    this.role = 'follower';
    this.setLeader(leader);
  }

  private becomePreCandidate(): void {
    // PreVote (section 9.6) does not touch term or vote: a node that cannot win leaves no trace.
    this.votes.clear();
    this.setLeader(null);
    this.role = 'precandidate';
    this.resetRandomizedElectionTimeout();
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.leaderTransferee = '';
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.role = 'leader';
    this.setLeader(this.id);
    // Cluster time starts from the newest stamp in the log, with this term's clock reports.
    this.clock.forgetReports();
    this.clock.floor(this.log.entry(this.log.lastIndex())?.time ?? 0);
    const last = this.log.lastIndex();
    for (const id of this.members()) {
      const pr = new Progress(last + 1, this.config.maxInflight, !isVoter(this.membership.conf, id));
      if (id === this.id) {
        pr.maybeUpdate(this.log.stable);
        pr.becomeReplicate();
      }
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    // The no-op of the new term (section 5.4.2): commits everything before it, and until it is
    // applied no membership change may start (the single-server change fix of section 4.1).
    this.appendEntries([{ type: 'normal', data: EMPTY }], this.id);
    this.pendingConfIndex = this.log.lastIndex();
    this.broadcastPending = true;
  }

  private members(): NodeId[] {
    return [...this.membership.conf.voters, ...this.membership.conf.learners];
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed < this.randomizedElectionTimeout) return;
    this.electionElapsed = 0;
    if (this.promotable()) return this.hup(false);
    // A learner cannot campaign: when it hears no leader, it asks the voters it knows which one
    // they follow (a rejected read naming the leader), in case it missed the change that made
    // the leader a voter (see noteLeaderHint).
    this.resetRandomizedElectionTimeout();
    for (const v of this.membership.conf.voters) if (v !== this.id) this.send({ type: 'readIndex', to: v, ctx: '' });
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.config.electionTicks) {
      this.electionElapsed = 0;
      if (this.config.checkQuorum && !this.quorumActive()) {
        // CheckQuorum (section 6.2): a leader cut off from a majority stops acting as one.
        this.becomeFollower(this.term, null);
        return;
      }
      this.leadTransferee = null; // a transfer that took a whole election timeout is abandoned
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      for (const pr of this.progress.values()) pr.noteHeartbeat(this.log.lastIndex());
      this.bcastHeartbeat(this.reads.lastCtx());
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const v of this.membership.conf.voters) {
      const pr = this.progress.get(v);
      if (v === this.id || pr?.recentActive) active++;
    }
    for (const [id, pr] of this.progress) if (id !== this.id) pr.recentActive = false;
    return active >= quorumSize(this.membership.conf.voters.length);
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.promotable()) return;
    // Terms are bounded where decoded; a node that somehow reached the bound stays a follower.
    if (this.term + 1 > MAX_TERM) return;
    // A node whose view of the membership is about to change must not campaign on the old view.
    if (this.log.toApply().some((e) => e.type === 'conf')) return;
    if (this.config.preVote && !transfer) this.campaignPre();
    else this.campaignReal(transfer);
  }

  private campaignPre(): void {
    this.becomePreCandidate();
    this.requestVotes(true, this.term + 1, false);
  }

  private campaignReal(transfer: boolean): void {
    this.becomeCandidate();
    this.requestVotes(false, this.term, transfer);
  }

  private requestVotes(pre: boolean, term: number, transfer: boolean): void {
    this.votes.set(this.id, true);
    if (this.afterVote()) return;
    for (const v of this.membership.conf.voters) {
      if (v === this.id) continue;
      this.send({ type: 'vote', to: v, term, pre, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm(), transfer });
    }
  }

  /** Tally the votes; returns true when the election is decided. */
  private afterVote(): boolean {
    const outcome = tallyVotes(this.membership.conf.voters, this.votes);
    if (outcome === 'won') {
      if (this.role === 'precandidate') this.campaignReal(false);
      else this.becomeLeader();
      return true;
    }
    if (outcome === 'lost') {
      this.becomeFollower(this.term, null);
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------
  // Step: term rules first (section 3.3), then by role and message type.

  /**
   * Whether a message from `m.from` may be processed: only members are heard at all (docs/security.md §7: the
   * trust boundary). Vote requests and a leader's traffic (appends, heartbeats, snapshots,
   * timeoutNow) come only from voters, since only a voter can campaign or lead. "Member" and
   * "voter" include the configurations in this node's log that it has not applied yet: a single
   * change applied on some voters and not others must not split their elections (a committed
   * change is in the log of a majority of both the old and the new voters). A node its own
   * configuration does not list yet (just joined, or its store was lost) hears its introducers.
   */
  private acceptsFrom(m: Message): boolean {
    switch (m.type) {
      case 'vote':
        return this.knownVoter(m.from);
      case 'app':
      case 'heartbeat':
      case 'snap':
      case 'timeoutNow':
        return (
          this.knownVoter(m.from) ||
          m.from === this.vouchedLeader ||
          (!isMember(this.membership.conf, this.id) && this.introducers.has(m.from))
        );
      default:
        return this.knownMember(m.from);
    }
  }

  private knownVoter(id: NodeId): boolean {
    return isVoter(this.membership.conf, id) || this.pendingConfs().some((c) => isVoter(c, id));
  }

  private knownMember(id: NodeId): boolean {
    return isMember(this.membership.conf, id) || this.pendingConfs().some((c) => isMember(c, id));
  }

  /** The configurations of the conf entries after the applied index, in log order. */
  private pendingConfs(): ConfState[] {
    const last = this.log.lastIndex();
    const key = `${this.log.applied}:${last}:${this.log.lastTerm()}:${this.membership.index}`;
    if (this.pendingConfCache?.key === key) return this.pendingConfCache.confs;
    const confs: ConfState[] = [];
    let conf = this.membership.conf;
    for (let i = Math.max(this.log.applied, this.membership.index) + 1; i <= last; i++) {
      const e = this.log.entry(i);
      if (e?.type !== 'conf' || !proposedByVoter(conf, e)) continue;
      const cc = decodeConfChange(e.data);
      const next = cc.ok ? applyConfChange(conf, cc.value) : null;
      if (next === null || 'error' in next) continue;
      conf = next;
      confs.push(conf);
    }
    this.pendingConfCache = { key, confs };
    return confs;
  }

  /** Returns false when the message must be ignored. */
  private onHigherTerm(m: Message): boolean {
    if (m.type === 'vote') {
      // With CheckQuorum, a node that heard from a live leader within the election timeout
      // ignores campaigns (section 4.2.3: disruptive servers), unless the leader asked for it.
      // A `transfer` flag counts only for the transferee this node's leader announced.
      const inLease = this.config.checkQuorum && this.leader !== null && this.electionElapsed < this.config.electionTicks;
      if (inLease && !(m.transfer && m.from === this.announcedTransferee())) {
        // Ignored, but answered with the leader's name: a voter cut off while the membership
        // changed may not know the leader yet (see VoteResponse.leader).
        this.send({ type: 'voteResp', to: m.from, pre: m.pre, reject: true, leader: this.lastLeader ?? '' });
        return false;
      }
      if (m.pre) return true; // a pre-vote never changes our term
    }
    if (m.type === 'voteResp' && m.pre && !m.reject) return true; // granted pre-votes carry the future term
    const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
    this.becomeFollower(m.term, fromLeader ? m.from : null);
    return true;
  }

  private onLowerTerm(m: Message): void {
    this.stats.droppedStaleTerm++;
    if (m.type === 'app' || m.type === 'heartbeat') {
      // A deposed leader cut off for a while: tell it our term so it steps down, since with
      // PreVote or CheckQuorum nobody else will raise its term. Nor will anyone without them when
      // this node is no voter to the others (removed and added back while it campaigned alone):
      // its vote requests are not heard, so this answer is the only way the cluster learns its term.
      this.send({ type: 'appResp', to: m.from, index: 0, reject: false, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'vote') {
      // Reject explicitly so a (pre-)candidate with a stale term learns ours, and the leader: one
      // that missed a change may not hear that leader otherwise (see noteLeaderHint).
      this.send({ type: 'voteResp', to: m.from, pre: m.pre, reject: true, leader: this.lastLeader ?? '' });
    } else if (m.type === 'readIndex' && m.ctx === '') {
      // A learner's question for the leader (tickElection) comes at the term it was cut off in:
      // answer it at ours, or a learner that missed a change would ask forever.
      this.send({ type: 'readIndexResp', to: m.from, ctx: '', index: 0, reject: true, leader: this.leader ?? this.lastLeader ?? '' });
    }
  }

  private dispatch(m: Message): void {
    switch (m.type) {
      case 'vote':
        return this.onVote(m);
      case 'voteResp':
        return this.onVoteResp(m);
      case 'app':
      case 'heartbeat':
      case 'snap':
        // One leader per term: a second voter claiming this term's leadership is lying.
        if (this.role === 'follower' && this.leader !== null && this.leader !== m.from) return this.count('droppedRivalLeader');
        if (this.role !== 'follower') {
          // A leader of our term exists (only one per term): a candidate concedes.
          if (this.role === 'leader') return this.count('droppedMalformed');
          this.becomeFollower(this.term, m.from);
        }
        this.setLeader(m.from);
        this.electionElapsed = 0;
        if (m.type === 'app') return this.onAppend(m);
        if (m.type === 'heartbeat') return this.onHeartbeat(m);
        return this.onSnapshotChunk(m);
      case 'timeoutNow':
        if (m.from === this.leader) this.hup(true);
        return;
      case 'readIndexResp':
        if (m.ctx === '') return; // the answer to a learner's question for a leader hint
        if (m.reject) this.readFailures.push({ ctx: m.ctx, reason: 'not-leader' });
        else this.readStates.push({ ctx: m.ctx, index: m.index });
        return;
      case 'prop':
        if (this.role !== 'leader') return void (this.stats.droppedProposals += m.entries.length);
        for (const e of m.entries) {
          // Membership changes come only from the leader's own membership logic.
          if (e.type === 'conf') this.stats.refusedForwardedConf++;
          else if (!this.leaderPropose(e.type, e.data, m.from).ok) this.stats.droppedProposals++;
        }
        return;
      case 'readIndex':
        if (this.role !== 'leader' || m.ctx === '') {
          return this.send({
            type: 'readIndexResp',
            to: m.from,
            ctx: m.ctx,
            index: 0,
            reject: true,
            leader: this.leader ?? this.lastLeader ?? '',
          });
        }
        return this.leaderRead(m.ctx, m.from);
      case 'appResp':
      case 'heartbeatResp':
      case 'snapResp': {
        if (this.role !== 'leader') return;
        const pr = this.progress.get(m.from);
        if (!pr) return;
        pr.recentActive = true;
        if (m.type === 'appResp') return this.onAppendResp(m, pr);
        if (m.type === 'heartbeatResp') return this.onHeartbeatResp(m, pr);
        return this.onSnapshotResp(m, pr);
      }
    }
  }

  private onVote(m: VoteRequest): void {
    // A node votes once per term, only for a log at least as up to date (section 3.6.1), and only
    // for a candidate that is a voter in a configuration it holds (acceptsFrom). It answers even
    // when its own view calls it a learner: it may not have applied its promotion yet. Whether
    // the vote counts is the candidate's call: it tallies only the voters it knows.
    const canVote =
      this.log.applied >= this.votingFloor &&
      (this.vote === m.from || (this.vote === null && this.leader === null) || (m.pre && m.term > this.term));
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      this.send({ type: 'voteResp', to: m.from, term: m.term, pre: m.pre, reject: false, leader: '' });
      if (!m.pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: 'voteResp', to: m.from, pre: m.pre, reject: true, leader: this.lastLeader ?? '' });
    }
  }

  private onVoteResp(m: VoteResponse): void {
    const phase = this.role === 'precandidate' ? true : this.role === 'candidate' ? false : null;
    if (phase === null || m.pre !== phase) return;
    if (!this.votes.has(m.from)) this.votes.set(m.from, !m.reject);
    this.afterVote();
  }

  private onAppend(m: AppendRequest): void {
    if (m.prevIndex < this.log.committed) {
      // Everything up to our commit index is known to match.
      this.send({ type: 'appResp', to: m.from, index: this.log.committed, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    if (this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = this.log.appendAfter(m.prevIndex, m.entries);
      if (lastNew === undefined) return this.count('droppedMalformed');
      this.log.commitTo(Math.min(m.commit, lastNew));
      this.send({ type: 'appResp', to: m.from, index: lastNew, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    // Consistency check failed: hint the leader past the whole conflicting term at once.
    const hint = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm);
    const echo = m.probe === undefined ? {} : { probe: m.probe };
    this.send({ type: 'appResp', to: m.from, index: m.prevIndex, reject: true, hintIndex: hint.index, hintTerm: hint.term, ...echo });
  }

  private onHeartbeat(m: HeartbeatRequest): void {
    // The leader caps commit at what it knows we hold, so this cannot pass our log.
    if (m.commit <= this.log.lastIndex()) this.log.commitTo(m.commit);
    this.leaderTransferee = m.transferee;
    this.send({ type: 'heartbeatResp', to: m.from, ctx: m.ctx, clock: this.wall });
  }

  /**
   * A voter this node knows named the leader it follows. If that leader is not a voter in any
   * configuration this node holds, this node missed the change that made it one: hear it anyway
   * (only the hint of a known voter counts), so it can catch up and learn the change.
   */
  private noteLeaderHint(from: NodeId, leader: string): void {
    if (leader === '' || leader === this.id || !this.knownVoter(from) || this.knownVoter(leader)) return;
    this.vouchedLeader = leader;
  }

  /** The transferee this node's leader announced (the leader itself knows its own). */
  private announcedTransferee(): string {
    return this.role === 'leader' ? (this.leadTransferee ?? '') : this.leaderTransferee;
  }

  private onSnapshotChunk(m: SnapshotChunk): void {
    const meta = m.meta;
    if (m.total > this.config.maxSnapshotBytes) return this.count('refusedSnapshots');
    if (meta.index <= this.log.committed) {
      // Stale: we already have everything it holds.
      this.incoming = null;
      this.send({ type: 'appResp', to: m.from, index: this.log.committed, reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    let inc = this.incoming;
    if (m.offset === 0 && (!inc || inc.snapshot.index !== meta.index || inc.snapshot.term !== meta.term)) {
      inc = { snapshot: meta, total: m.total, parts: [], offset: 0 };
      this.incoming = inc;
    }
    if (!inc || inc.snapshot.index !== meta.index || inc.snapshot.term !== meta.term || inc.total !== m.total) {
      // A chunk from the middle of a snapshot we are not receiving: ask for it from the start.
      this.send({ type: 'snapResp', to: m.from, index: meta.index, offset: 0, reject: false });
      return;
    }
    if (m.offset === inc.offset) {
      inc.parts.push(m.chunk);
      inc.offset += m.chunk.length;
    }
    if (inc.offset < inc.total) {
      this.send({ type: 'snapResp', to: m.from, index: meta.index, offset: inc.offset, reject: false });
      return;
    }
    this.incoming = null;
    this.installSnapshot({ meta, data: concat(inc.parts, inc.total) }, m.from);
  }

  private installSnapshot(snap: Snapshot, from: NodeId): void {
    const { index, term } = snap.meta;
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: keep the log, just commit up to it.
      this.log.commitTo(index);
      this.send({ type: 'appResp', to: from, index: this.log.lastIndex(), reject: false, hintIndex: 0, hintTerm: 0 });
      return;
    }
    this.log.restoreSnapshot(snap);
    this.snapshot = snap;
    this.receivedSnapshot = snap;
    // A local compaction not yet persisted is older than this snapshot (it covered at most our
    // commit index): writing it after the snapshot would put a gap before the new log.
    this.compaction = null;
    this.membership = { conf: snap.meta.conf, index };
    this.membershipDirty = true;
    this.stats.snapshotsInstalled++;
    this.send({ type: 'appResp', to: from, index, reject: false, hintIndex: 0, hintTerm: 0 });
  }

  // ------------------------------------------------------------------------------------------
  // Leader: proposals, replication, commit

  private proposeEntry(type: EntryType, data: Uint8Array): ProposeResult {
    if (this.role === 'leader') return this.leaderPropose(type, data, this.id);
    // A leader refuses forwarded membership changes: only a leader proposes them.
    if (type === 'conf') return { ok: false, reason: this.leader === null ? 'no-leader' : 'not-leader' };
    if (data.length > this.config.maxProposalBytes) return { ok: false, reason: 'too-large' };
    if (this.leader === null) return { ok: false, reason: 'no-leader' };
    this.forwards.push({ type, data });
    return { ok: true, forwarded: true };
  }

  private leaderPropose(type: EntryType, data: Uint8Array, proposer: NodeId): ProposeResult {
    if (this.leadTransferee !== null) return { ok: false, reason: 'transferring' };
    if (data.length > this.config.maxProposalBytes) return { ok: false, reason: 'too-large' };
    if (this.uncommittedBytes + data.length > this.config.maxUncommittedBytes) return { ok: false, reason: 'overloaded' };
    if (type === 'conf') {
      if (this.pendingConfIndex > this.log.applied) return { ok: false, reason: 'conf-pending' };
      const cc = decodeConfChange(data);
      if (!cc.ok || 'error' in applyConfChange(this.membership.conf, cc.value)) return { ok: false, reason: 'invalid-conf' };
    }
    this.appendEntries([{ type, data }], proposer);
    const index = this.log.lastIndex();
    if (type === 'conf') this.pendingConfIndex = index;
    this.broadcastPending = true;
    return { ok: true, index, term: this.term };
  }

  private appendEntries(items: readonly { type: EntryType; data: Uint8Array }[], proposer: NodeId): void {
    let index = this.log.lastIndex();
    const time = this.clock.stamp(this.id, this.wall, this.membership.conf.voters);
    const entries: Entry[] = items.map((it) => {
      this.uncommittedBytes += it.data.length;
      return { index: ++index, term: this.term, type: it.type, time, proposer, data: it.data };
    });
    this.log.append(entries);
  }

  /** Send what accumulated (new entries, a new commit index) once per Ready: this is the batching. */
  private flushBroadcast(): void {
    if (this.forwards.length > 0) {
      if (this.leader !== null && this.role !== 'leader') this.send({ type: 'prop', to: this.leader, entries: this.forwards });
      else this.stats.droppedProposals += this.forwards.length;
      this.forwards = [];
    }
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.role !== 'leader') return;
    for (const id of this.progress.keys()) if (id !== this.id) this.sendAppend(id, true);
  }

  /**
   * Send `to` the entries it lacks, as many messages as its flow control allows (pipelining).
   * With `sendIfEmpty`, an empty append still goes out to carry the commit index.
   */
  /** Appends what `to` lacks; `probe` numbers the first message (a re-probe, see onAppendResp). */
  private sendAppend(to: NodeId, sendIfEmpty: boolean, probe = 0): void {
    const pr = this.progress.get(to);
    if (!pr) return;
    for (let first = true; ; first = false) {
      if (pr.isPaused()) return;
      const prevIndex = pr.next - 1;
      const prevTerm = this.log.term(prevIndex);
      const entries = this.log.slice(pr.next, this.config.maxMsgBytes);
      if (prevTerm === undefined || entries === undefined) return this.startSnapshot(to, pr);
      if (entries.length === 0 && !(sendIfEmpty && first)) return;
      const numbered = first && probe !== 0 ? { probe } : {};
      this.send({ type: 'app', to, prevIndex, prevTerm, entries, commit: this.log.committed, ...numbered });
      pr.sentEntries(prevIndex + entries.length, entries.length);
      if (entries.length === 0 || pr.state !== 'replicate') return;
    }
  }

  private startSnapshot(to: NodeId, pr: Progress): void {
    if (!pr.recentActive || !this.snapshot) return; // don't stream a snapshot into the void
    pr.becomeSnapshot(this.snapshot);
    this.stats.snapshotsSent++;
    this.sendSnapshotWindow(to, pr);
  }

  /**
   * Keep SNAPSHOT_WINDOW chunks in flight past what the follower acknowledged: one chunk per round
   * trip made a large snapshot slower to send than the log grew. The follower takes chunks in
   * order only, so a lost one is sent again from its acknowledged offset (on a heartbeat answer).
   */
  private sendSnapshotWindow(to: NodeId, pr: Progress): void {
    const snap = pr.snapshot;
    if (!snap) return;
    const size = this.config.snapshotChunkBytes;
    pr.snapSent = Math.max(pr.snapSent, pr.snapOffset);
    while (pr.snapSent < snap.data.length && pr.snapSent < pr.snapOffset + SNAPSHOT_WINDOW * size) {
      this.sendSnapshotChunk(to, snap, pr.snapSent);
      pr.snapSent = Math.min(snap.data.length, pr.snapSent + size);
    }
  }

  private sendSnapshotChunk(to: NodeId, snap: Snapshot, offset: number): void {
    const total = snap.data.length;
    const end = Math.min(total, offset + this.config.snapshotChunkBytes);
    this.send({ type: 'snap', to, meta: snap.meta, offset, total, chunk: snap.data.subarray(offset, end) });
  }

  private bcastHeartbeat(ctx: string): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), ctx, transferee: this.leadTransferee ?? '' });
    }
  }

  private onAppendResp(m: AppendResponse, pr: Progress): void {
    if (m.reject && m.index >= pr.match && m.hintIndex < pr.match) {
      // The follower seems to hold less than it acknowledged. A rejection that the network
      // delayed (or duplicated) past a later acknowledgement looks the same, so ask once more,
      // from `match`, with a numbered probe: only a rejection echoing that number confirms it.
      // A follower that does not echo (an older meshrun) confirms by rejecting on through two
      // heartbeat rounds without acknowledging anything: a delayed copy is not answered that long.
      const confirmed = pr.suspectProbe !== 0 && (m.probe === pr.suspectProbe || pr.suspectRounds >= SUSPECT_ROUNDS);
      if (!confirmed) {
        if (pr.suspectProbe === 0) {
          pr.suspectProbe = ++this.probeSeq;
          pr.suspectRounds = 0;
        }
        // A follower that never echoes (an older meshrun) would otherwise be re-probed at wire
        // speed, one rejection answering the other: a few per heartbeat round at most.
        if (pr.reprobes >= MAX_REPROBES) return;
        pr.reprobes++;
        pr.becomeProbe();
        this.sendAppend(m.from, true, pr.suspectProbe);
        return;
      }
      // Confirmed: its disk was lost or restored from an older copy. Entries it helped commit may
      // now be on fewer nodes than counted, so the application must stop it counting in quorums
      // (demote it) until it has caught up again. Start over from what it holds, or it would be
      // stuck behind its old match for good.
      pr.suspectProbe = 0;
      pr.suspectRounds = 0;
      this.stats.lostAcknowledged++;
      this.lostAcks.push(m.from);
      pr.resetTo(m.hintIndex);
      this.sendAppend(m.from, false);
      return;
    }
    if (!m.reject) {
      pr.suspectProbe = 0;
      pr.suspectRounds = 0;
    }
    if (m.reject) {
      let hint = m.hintIndex;
      if (m.hintTerm > 0) hint = this.log.findConflictByTerm(m.hintIndex, m.hintTerm).index;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from, false);
      }
      return;
    }
    if (m.index > this.log.lastIndex()) return this.count('droppedMalformed');
    const wasPaused = pr.isPaused();
    if (pr.maybeUpdate(m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.snapshot && pr.match >= pr.snapshot.meta.index) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === 'replicate') pr.inflights.freeLE(m.index);
      if (this.maybeCommit()) this.broadcastPending = true;
      this.maybeSendTimeoutNow(m.from, pr);
    } else if (!wasPaused) {
      return;
    }
    this.sendAppend(m.from, false);
  }

  /** Leadership transfer: tell the announced transferee to campaign once it holds the whole log. */
  private maybeSendTimeoutNow(id: NodeId, pr: Progress): void {
    if (id === this.leadTransferee && pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to: id });
  }

  private onHeartbeatResp(m: HeartbeatResponse, pr: Progress): void {
    pr.reprobes = 0;
    if (pr.suspectProbe !== 0) pr.suspectRounds++;
    if (!pr.isLearner) this.clock.report(m.from, m.clock, this.wall);
    this.maybeSendTimeoutNow(m.from, pr);
    pr.probeSent = false;
    if (pr.stalledRounds >= 2) pr.becomeProbe();
    if (pr.state === 'snapshot' && pr.snapshot) this.sendSnapshotChunk(m.from, pr.snapshot, pr.snapOffset);
    else if (pr.match < this.log.lastIndex()) this.sendAppend(m.from, false);
    if (m.ctx === '' || pr.isLearner) return;
    const acks = this.reads.acksOf(m.ctx);
    if (!acks) return;
    this.reads.ack(m.ctx, m.from);
    let voters = 0;
    for (const v of this.membership.conf.voters) if (acks.has(v)) voters++;
    if (voters >= quorumSize(this.membership.conf.voters.length)) {
      for (const r of this.reads.releaseThrough(m.ctx)) this.answerRead(r.ctx, r.index, r.from);
    }
  }

  private onSnapshotResp(m: SnapshotResponse, pr: Progress): void {
    if (pr.state !== 'snapshot' || !pr.snapshot || pr.snapshot.meta.index !== m.index) return;
    if (m.reject) {
      pr.becomeProbe();
      return;
    }
    // Send only on news: a repeated acknowledgement (of a chunk that was re-sent after a heartbeat)
    // must not trigger another send, or duplicates would multiply. Lost chunks are re-sent on the
    // next heartbeat response; a follower that lost its partial copy answers with offset 0.
    const offset = Math.min(m.offset, pr.snapshot.data.length);
    if (offset === pr.snapOffset) return;
    pr.snapOffset = offset;
    // An offset behind what was sent (the follower started over): resend from there.
    if (offset < pr.snapSent - SNAPSHOT_WINDOW * this.config.snapshotChunkBytes || offset === 0) pr.snapSent = offset;
    if (offset < pr.snapshot.data.length) this.sendSnapshotWindow(m.from, pr);
  }

  /** Commit the highest index a majority holds, if it is of this term (section 3.6.2, Figure 3.7). */
  private maybeCommit(): boolean {
    const matches: number[] = [];
    for (const v of this.membership.conf.voters) matches.push(this.progress.get(v)?.match ?? 0);
    const idx = committedIndex(matches);
    if (idx <= this.log.committed || this.log.term(idx) !== this.term) return false;
    const before = this.log.committed;
    this.log.commitTo(idx);
    for (let i = before + 1; i <= idx; i++) this.uncommittedBytes -= this.log.entry(i)?.data.length ?? 0;
    if (this.uncommittedBytes < 0) this.uncommittedBytes = 0;
    this.releaseDeferredReads();
    return true;
  }

  // ------------------------------------------------------------------------------------------
  // Linearizable reads (section 6.4)

  private leaderRead(ctx: string, from: NodeId): void {
    if (this.log.term(this.log.committed) !== this.term) {
      this.deferredReads.push({ ctx, from });
      return;
    }
    if (this.membership.conf.voters.length === 1) {
      this.answerRead(ctx, this.log.committed, from);
      return;
    }
    if (this.reads.add(ctx, this.log.committed, from, this.id)) this.bcastHeartbeat(ctx);
  }

  private releaseDeferredReads(): void {
    if (this.deferredReads.length === 0 || this.log.term(this.log.committed) !== this.term) return;
    const reads = this.deferredReads;
    this.deferredReads = [];
    for (const r of reads) this.leaderRead(r.ctx, r.from);
  }

  private answerRead(ctx: string, index: number, from: NodeId): void {
    if (from === this.id) this.readStates.push({ ctx, index });
    else this.send({ type: 'readIndexResp', to: from, ctx, index, reject: false, leader: '' });
  }

  private failRead(ctx: string, from: NodeId): void {
    if (from === this.id) this.readFailures.push({ ctx, reason: 'not-leader' });
    else this.send({ type: 'readIndexResp', to: from, ctx, index: 0, reject: true, leader: '' });
  }

  // ------------------------------------------------------------------------------------------
  // Membership

  private applyConfEntry(e: Entry): void {
    // Only a leader's own proposal can carry a change, and a leader is a voter: anything else is
    // a no-op on every replica alike (the proposer is in the log).
    if (!proposedByVoter(this.membership.conf, e)) return;
    const cc = decodeConfChange(e.data);
    if (!cc.ok) return; // the leader validated it; a bad one can only be a no-op everywhere
    const next = applyConfChange(this.membership.conf, cc.value);
    if ('error' in next) return;
    this.membership = { conf: next, index: e.index };
    this.membershipDirty = true;
    if (this.role !== 'leader') return;
    if (!isVoter(next, this.id)) {
      // Removed or demoted: stop leading; the remaining voters elect a successor.
      this.becomeFollower(this.term, null);
      return;
    }
    const last = this.log.lastIndex();
    for (const id of this.members()) {
      const learner = !isVoter(next, id);
      const pr = this.progress.get(id);
      if (!pr) {
        const fresh = new Progress(last + 1, this.config.maxInflight, learner);
        fresh.recentActive = true;
        this.progress.set(id, fresh);
        this.broadcastPending = true;
      } else if (pr.isLearner !== learner) {
        const moved = new Progress(pr.next, this.config.maxInflight, learner);
        moved.match = pr.match;
        moved.recentActive = pr.recentActive;
        if (pr.state === 'replicate') moved.becomeReplicate();
        this.progress.set(id, moved);
      }
    }
    for (const id of [...this.progress.keys()]) if (!isMember(next, id)) this.progress.delete(id);
    if (this.leadTransferee !== null && !isVoter(next, this.leadTransferee)) this.leadTransferee = null;
    // Fewer voters can mean a smaller majority: entries may commit now.
    if (this.maybeCommit()) this.broadcastPending = true;
  }

  // ------------------------------------------------------------------------------------------

  /** Counts a dropped or refused message (`return this.count(...)` drops it). */
  private count(stat: keyof RaftStats): void {
    this.stats[stat]++;
  }

  private send(m: Outgoing): void {
    this.msgs.push({ ...m, from: this.id, term: m.term ?? this.term });
  }
}

/**
 * True for messages that depend on nothing this node is about to persist: a leader's replication
 * traffic and forwarded requests. Votes, vote requests and acknowledgements must wait for the
 * write, or a crash could take back what they promised.
 */
export function sendableBeforePersist(m: Message): boolean {
  switch (m.type) {
    case 'app':
    case 'heartbeat':
    case 'snap':
    case 'timeoutNow':
    case 'prop':
    case 'readIndex':
    case 'readIndexResp':
      return true;
    default:
      return false;
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
