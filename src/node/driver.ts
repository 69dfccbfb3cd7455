import { randomBytes } from 'node:crypto';
import { sendableBeforePersist, type RaftNode, type RaftStatus } from '../raft/raft.js';
import type {
  ConfChange,
  Entry,
  HardState,
  Message,
  NodeId,
  PersistUpdate,
  ProposeResult,
  RaftStats,
  Ready,
  Snapshot,
} from '../raft/types.js';
import type { Clock, Timer } from '../worker/types.js';
import { CommitNotices } from './commit-notices.js';
import { ProposalError, type Committed, type Decision, type Reply, type RequestId } from './proposal.js';
import { backgroundClock } from './system-clock.js';
import { DEFAULT_WAIT_LIMIT, WaitRegistry, type WaitKey } from './wait-registry.js';

/**
 * Where a Ready's durable part goes: one write per call, applied in call order (LevelStorage in
 * production, the simulated disk in sim/). Synced unless `sync: false`; an unsynced write becomes
 * durable with the next synced one. The driver never awaits the result: it calls `then` on it, once,
 * so an implementation may settle it from its own scheduler (the simulator's disk calls back from
 * its agenda when the simulated fsync returns, and never, when the node crashed before).
 */
export interface RaftPersistence {
  save(update: PersistUpdate, opts?: { readonly sync?: boolean }): PromiseLike<void>;
}

/**
 * The driver's timers: its tick, its Ready cycles (`after(0)`: after the events already queued, the
 * next turn of the event loop in a process) and read timeouts. A Clock's `after`: `backgroundClock`
 * in production, a simulated process's clock in sim/.
 */
export type DriverTimers = Pick<Clock, 'after'>;

/**
 * True when the only thing `rd` has to write is a new commit index (`prev` is the hard state last
 * handed to storage; null before the first write). The commit index is volatile state in Raft: a
 * node that loses it recovers it from the leader (and a restarted one from the log), so such a
 * write needs no fsync, and nothing has to wait for it: the messages of such a Ready acknowledge
 * only entries, terms and votes that earlier, synced writes made durable. Without this every
 * commit cost a second fsync on every node, and the next proposal's write queued behind it.
 */
export function commitOnly(rd: PersistUpdate, prev: HardState | null): boolean {
  const hs = rd.hardState;
  return (
    hs !== null &&
    prev !== null &&
    hs.term === prev.term &&
    hs.vote === prev.vote &&
    rd.entries.length === 0 &&
    rd.snapshot === null &&
    rd.compaction === null &&
    rd.membership === null
  );
}

/**
 * The application's side: restore from a snapshot, apply committed entries in log order. `apply`
 * answers with the request the entry carries and what it decided (R), which the driver hands to
 * that request's wait (docs/architecture.md §15); nothing when it has nothing to answer.
 */
export interface StateMachine<R = unknown> {
  restore(snapshot: Snapshot): void;
  // void: a machine that decides nothing for an entry may simply not return.
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- see above
  apply(entry: Entry): Decision<R> | void;
}

/** Builds a proposal's entry data around the request id the driver gives it (src/node/entry-envelope.ts: `envelope`). */
export type EntryBuilder = (request: RequestId) => Uint8Array;

export interface ProposeOptions {
  /** How long to wait for the entry to be applied here: then the proposal ends with a ProposalError('timeout'). */
  readonly timeoutMs: number;
}

export interface DriverOptions<R = unknown> {
  readonly raft: RaftNode;
  readonly storage: RaftPersistence;
  readonly send: (messages: readonly Message[]) => void;
  readonly machine: StateMachine<R>;
  /**
   * Wall-clock source for entry timestamps, read on every tick, message and proposal fed in
   * (RaftNode.observeTime); the core itself never reads a clock. Default Date.now.
   */
  readonly now?: () => number;
  /** Default backgroundClock (src/node/system-clock.ts): timers that do not keep the process alive. */
  readonly timers?: DriverTimers;
  /**
   * Tags this incarnation's read requests and proposals (default: random). A leader's answer to a
   * follower's read may still be on its way when the follower restarts, and an earlier run's
   * proposals may still be in the log: without the tag, the new incarnation's first reads and
   * proposals would carry the same contexts and request ids as the old one's, and could take
   * their answers for their own.
   */
  readonly readTag?: string;
  /** Most proposals waiting for their entries at once (default DEFAULT_WAIT_LIMIT); past it propose fails with 'busy'. */
  readonly waitLimit?: number;
  /**
   * Called when a write fails or a cycle throws: the node must stop participating (its disk and
   * memory may differ). The process should exit non-zero; a restart recovers from the store.
   */
  readonly onFatal?: (err: unknown) => void;
  /**
   * Called after each advance(), when the core's applied index matches the state machine: the
   * moment RaftNode.compact may be called, and waiters on applied state may look.
   */
  readonly onAdvance?: (rd: Ready) => void;
  /** Every proposal handed to the core, with the core's immediate answer (the node's metrics count them). */
  readonly onPropose?: (r: ProposeResult) => void;
}

/** Why a read got no index: the core's refusals (ReadFailure), no answer in time, or the node stopping. */
export type ReadIndexEnding = 'no-leader' | 'not-leader' | 'timeout' | 'stopped';

export class ReadIndexError extends Error {
  override readonly name = 'ReadIndexError';
  constructor(
    message: string,
    readonly reason: ReadIndexEnding,
  ) {
    super(message);
  }
}

/** A condition on the driver's state someone waits for (RaftDriver.requestWhen). */
interface Watch {
  readonly holds: () => boolean;
  readonly reply: Reply<boolean>;
  timer: Timer | null;
}

interface PendingRead {
  readonly reply: Reply<number>;
  readonly timer: Timer;
  /** The read index once the leader confirmed it; served when this node has applied it. */
  index: number | null;
}

/** A membership change's data is Raft's own (no envelope, no request id), and only a leader appends one: its wait is keyed by its position. */
function confKey(index: number, term: number): WaitKey {
  return `conf@${index}/${term}`;
}

/**
 * Drives one RaftNode: ticks, inbound messages and proposals go in; each Ready is persisted in one
 * synced write, and the core advances after it. Messages that acknowledge anything leave only
 * after the write; replication traffic and applying committed entries overlap with it (see Ready).
 * Only one Ready is in flight at a time, so a message never leaves before the state it depends
 * on is durable, while ticks and messages keep flowing into the core during the write: that is
 * what batches many proposals into one fsync. The exception is a Ready that only moves the commit
 * index: it is written without fsync and nothing waits for it (see commitOnly).
 */
export class RaftDriver<R = unknown> {
  /** The core, private: everything goes in through this driver (docs/architecture.md §15). */
  private readonly raft: RaftNode;
  private readonly opts: DriverOptions<R>;
  private readonly now: () => number;
  private readonly timers: DriverTimers;
  private readonly readTag: string;
  private writing = false;
  private scheduled = false;
  private stopped = false;
  private failure: unknown = null;
  private failed = false;
  /** The hard state last handed to storage (null until the first write): see commitOnly. */
  private written: HardState | null = null;
  /** The core's term as of its last Ready: a forwarded proposal leaves in it (WaitRegistry.place). */
  private term: number;
  private ticker: Timer | null = null;
  /** Proposals waiting for their entries to be applied here. */
  private readonly waits: WaitRegistry<R>;
  private readonly waitLimit: number;
  private requestSeq = 0;
  /** Linearizable reads (readIndex) by ctx. */
  private readonly reads = new Map<string, PendingRead>();
  private readSeq = 0;
  /** The index of the last entry (or snapshot) handed to the state machine. */
  private appliedIndex = 0;
  /** Conditions on this driver's state waited for (requestWhen), checked after every cycle. */
  private readonly watches = new Set<Watch>();
  /** A leader's commit notices, held for one cycle (src/node/commit-notices.ts). */
  private readonly notices = new CommitNotices();
  /** Sends the held notices at the next turn when no cycle takes them first. */
  private noticeTimer: Timer | null = null;

  constructor(opts: DriverOptions<R>) {
    this.opts = opts;
    this.raft = opts.raft;
    const st = opts.raft.status();
    this.appliedIndex = st.applied;
    this.term = st.term;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? backgroundClock;
    this.readTag = opts.readTag ?? randomBytes(6).toString('hex');
    this.waitLimit = opts.waitLimit ?? DEFAULT_WAIT_LIMIT;
    this.waits = new WaitRegistry<R>(this.timers, this.waitLimit);
  }

  /** This node's id (its Raft identity). */
  get id(): NodeId {
    return this.raft.id;
  }

  /** Start ticking every `tickMs` (on the timers' clock). */
  start(tickMs: number): void {
    const loop = (): void => {
      // Re-armed before the tick, as an interval timer is.
      this.ticker = this.timers.after(tickMs, loop);
      this.tick();
    };
    this.ticker = this.timers.after(tickMs, loop);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.ticker?.cancel();
    this.ticker = null;
    this.noticeTimer?.cancel();
    this.noticeTimer = null;
    this.notices.clear();
    this.waits.stop();
    for (const ctx of [...this.reads.keys()]) this.settleRead(ctx, new ReadIndexError('the node is stopping', 'stopped'));
    // A stopped driver's state no longer changes: each condition is answered as it stands.
    for (const w of [...this.watches]) this.endWatch(w, w.holds());
  }

  // ----- proposals: the one way into the log (docs/architecture.md §15) -----

  /**
   * Puts an entry into the log: `build` makes the entry's data around the request id it is given,
   * the core appends it (a follower's core forwards it to the leader), and the promise resolves
   * once the entry is applied here, with what the state machine decided. It rejects with a
   * ProposalError when the core refuses it, when the applied log shows it will never come (another
   * entry took its place), when a snapshot swallowed it unseen, after `timeoutMs`, or when the
   * node stops.
   */
  propose(build: EntryBuilder, opts: ProposeOptions): Promise<Committed<R>> {
    return new Promise((resolve, reject) => this.requestPropose(build, opts, { resolve, reject }));
  }

  /** propose answering through `reply` rather than a promise (the simulator runs no microtasks). */
  requestPropose(build: EntryBuilder, opts: ProposeOptions, reply: Reply<Committed<R>>): void {
    if (this.stopped) return reply.reject(new ProposalError('stopped'));
    if (this.waits.size >= this.waitLimit) return reply.reject(new ProposalError('busy'));
    const request: RequestId = `${this.readTag}.${++this.requestSeq}`;
    const data = build(request);
    const r = this.enter(() => this.raft.propose(data));
    if (!r.ok) return reply.reject(new ProposalError(r.reason));
    this.waits.register(request, opts.timeoutMs, reply, 'index' in r ? { term: r.term, index: r.index } : null);
  }

  /**
   * An entry nobody waits for: the worker's heartbeats, claims and finishes, the time keeper's
   * ticks, whose outcomes show in the state they change. Returns the core's immediate answer (a
   * stopped driver refuses as if no leader were known).
   */
  proposeAndForget(data: Uint8Array): ProposeResult {
    if (this.stopped) return { ok: false, reason: 'no-leader' };
    return this.enter(() => this.raft.propose(data));
  }

  /**
   * Proposes a membership change (only a leader may: a follower's core refuses with 'not-leader');
   * resolves once it is applied here, with what the state machine decided, as propose does.
   */
  proposeConfChange(cc: ConfChange, opts: ProposeOptions): Promise<Committed<R>> {
    return new Promise((resolve, reject) => this.requestConfChange(cc, opts, { resolve, reject }));
  }

  /** proposeConfChange answering through `reply` (the ConfChanger, which the simulator runs too). */
  requestConfChange(cc: ConfChange, opts: ProposeOptions, reply: Reply<Committed<R>>): void {
    if (this.stopped) return reply.reject(new ProposalError('stopped'));
    if (this.waits.size >= this.waitLimit) return reply.reject(new ProposalError('busy'));
    const r = this.enter(() => this.raft.proposeConfChange(cc));
    if (!r.ok) return reply.reject(new ProposalError(r.reason));
    // The core never forwards a membership change; were it to, nothing here could wait for it.
    if (!('index' in r)) return reply.reject(new ProposalError('not-leader'));
    this.waits.register(confKey(r.index, r.term), opts.timeoutMs, reply, { term: r.term, index: r.index });
  }

  /**
   * Hands the core a proposal: its clock first, so the entry is stamped with the time of the
   * proposal rather than of the last tick (RaftNode.observeTime); then a Ready cycle soon.
   */
  private enter(propose: () => ProposeResult): ProposeResult {
    this.raft.observeTime(this.now());
    const r = propose();
    this.opts.onPropose?.(r);
    if (r.ok) this.kick();
    return r;
  }

  // ----- the rest of the core's surface, narrowed to what callers need -----

  /** Hands leadership to `to` (RaftNode.transferLeadership); false when this node does not lead or `to` cannot take it. */
  transferLeadership(to: NodeId): boolean {
    if (this.stopped) return false;
    const ok = this.raft.transferLeadership(to);
    this.kick();
    return ok;
  }

  /** Starts an election now (a node founding a cluster). */
  campaign(): void {
    if (this.stopped) return;
    this.raft.campaign();
    this.kick();
  }

  /** Only after applying `index` may this node vote or campaign (RaftNode.holdVotingUntil). */
  holdVotingUntil(index: number): void {
    this.raft.holdVotingUntil(index);
  }

  /** The members a joining node may hear before its log names them (RaftNode.admitIntroducers). */
  admitIntroducers(ids: readonly NodeId[]): void {
    this.raft.admitIntroducers(ids);
  }

  /** The core's state: role, term, leader, indexes, membership, the leader's view of its followers. */
  status(): RaftStatus {
    return this.raft.status();
  }

  /** The core's counters of what it refused or dropped. */
  get stats(): Readonly<RaftStats> {
    return this.raft.stats;
  }

  /** The cluster time the core would stamp an entry with now (RaftNode.clusterTime). */
  clusterTime(): number {
    return this.raft.clusterTime();
  }

  /**
   * Replaces the log up to `index` (applied here) with a snapshot of the state machine's `data`
   * (RaftNode.compact); the next Ready hands it to storage. Only between cycles, once the state
   * machine has applied `index`: from onAdvance, as the Compactor does, or when nothing is in flight.
   */
  compact(index: number, data: Uint8Array): boolean {
    if (this.stopped) return false;
    const ok = this.raft.compact(index, data);
    if (ok) this.kick();
    return ok;
  }

  /** Followers the leader found holding less than they acknowledged, since the last call (RaftNode.takeLostAcknowledged). */
  takeLostAcknowledged(): NodeId[] {
    return this.raft.takeLostAcknowledged();
  }

  // ----- waiting for the driver's state -----

  /**
   * Answers `reply` with true as soon as `holds()`, a condition on this driver's state (its role,
   * leader, membership, `settled`), and with false after `timeoutMs` (on the driver's timers) or
   * when the driver stops first. That state changes only in Ready cycles, so the condition is
   * checked now and after each cycle, never polled (a leaving node waits this way, src/node/leave.ts).
   */
  requestWhen(holds: () => boolean, timeoutMs: number, reply: Reply<boolean>): void {
    if (holds()) return reply.resolve(true);
    if (this.stopped) return reply.resolve(false);
    const w: Watch = { holds, reply, timer: null };
    w.timer = this.timers.after(timeoutMs, () => this.endWatch(w, false));
    this.watches.add(w);
  }

  /** requestWhen as a promise. */
  when(holds: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve, reject) => this.requestWhen(holds, timeoutMs, { resolve, reject }));
  }

  private checkWatches(): void {
    if (this.watches.size === 0) return;
    for (const w of [...this.watches]) if (w.holds()) this.endWatch(w, true);
  }

  private endWatch(w: Watch, answer: boolean): void {
    if (!this.watches.delete(w)) return;
    w.timer?.cancel();
    w.reply.resolve(answer);
  }

  // ----- reads -----

  /**
   * A linearizable read point (ReadIndex, thesis section 6.4): resolves with the index once the
   * leader confirmed it is still leading and this node has applied up to it, so the local state
   * read right after reflects every write committed before the call. Rejects with a
   * ReadIndexError when no leader is known, leadership was lost, or no answer came in `timeoutMs`.
   */
  readIndex(timeoutMs = 5000): Promise<number> {
    return new Promise<number>((resolve, reject) => this.requestReadIndex({ resolve, reject }, timeoutMs));
  }

  /** readIndex answering through `reply` rather than a promise (how the simulator reads). */
  requestReadIndex(reply: Reply<number>, timeoutMs = 5000): void {
    if (this.stopped) {
      reply.reject(new ReadIndexError('the node is stopping', 'stopped'));
      return;
    }
    const ctx = `${this.readTag}.${++this.readSeq}`;
    const timer = this.timers.after(timeoutMs, () =>
      this.settleRead(ctx, new ReadIndexError(`no read index from the leader within ${timeoutMs} ms`, 'timeout')),
    );
    this.reads.set(ctx, { reply, timer, index: null });
    this.raft.readIndex(ctx);
    this.kick();
  }

  private settleRead(ctx: string, outcome: number | Error): void {
    const r = this.reads.get(ctx);
    if (!r) return;
    this.reads.delete(ctx);
    r.timer.cancel();
    if (typeof outcome === 'number') r.reply.resolve(outcome);
    else r.reply.reject(outcome);
  }

  /** Takes a Ready's read answers, then serves every confirmed read this node has applied far enough for. */
  private serveReads(rd: Ready): void {
    for (const f of rd.readFailures) {
      this.settleRead(
        f.ctx,
        new ReadIndexError(
          f.reason === 'no-leader' ? 'no leader is known right now' : 'leadership was lost while confirming the read',
          f.reason,
        ),
      );
    }
    for (const s of rd.readStates) {
      const r = this.reads.get(s.ctx);
      if (r) r.index = s.index;
    }
    if (this.reads.size === 0) return;
    for (const [ctx, r] of this.reads) if (r.index !== null && r.index <= this.appliedIndex) this.settleRead(ctx, r.index);
  }

  // ----- the loop -----

  tick(): void {
    if (this.stopped) return;
    this.raft.tick(this.now());
    this.kick();
  }

  receive(m: Message): void {
    if (this.stopped) return;
    this.raft.observeTime(this.now());
    this.raft.step(m);
    this.kick();
  }

  /** An encoded message from the transport; see RaftNode.stepEncoded. Returns whether it was accepted. */
  receiveEncoded(bytes: Uint8Array, from: NodeId): boolean {
    if (this.stopped) return false;
    this.raft.observeTime(this.now());
    const accepted = this.raft.stepEncoded(bytes, from);
    if (accepted) this.kick();
    return accepted;
  }

  /** Run a Ready cycle soon, after the current batch of events has been fed in. */
  kick(): void {
    if (this.scheduled || this.writing || this.stopped) return;
    this.scheduled = true;
    this.timers.after(0, () => {
      this.scheduled = false;
      this.guarded(() => this.cycle());
    });
  }

  /**
   * Anything thrown in a cycle (a bug, or input no check foresaw) would leave `writing` set and the
   * node alive but deaf: stop it loudly instead; a restart recovers from the store.
   */
  private guarded(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.fail(err);
    }
  }

  private cycle(): void {
    if (this.writing || this.stopped) return;
    if (!this.raft.hasReady()) {
      if (this.notices.size > 0) this.opts.send(this.notices.take());
      // Nothing left to hand over: the driver is settled now, which a watch may wait for.
      return this.checkWatches();
    }
    this.writing = true;
    const rd = this.raft.ready();
    if (rd.hardState) this.term = rd.hardState.term;
    // What was proposed since the last Ready left with this one, in this term.
    this.waits.place(this.term);
    const later: Message[] = [];
    const early: Message[] = [];
    for (const m of rd.messages) (sendableBeforePersist(m) ? early : later).push(m);
    // The previous cycle's commit notices leave now unless an append here carries their news.
    const now = this.notices.merge(early);
    if (now.length > 0) this.opts.send(now);
    if (this.notices.size > 0) this.armNoticeFlush();
    // Committed entries are durable on a quorum already: apply while this node's write runs.
    if (rd.snapshot) {
      this.opts.machine.restore(rd.snapshot);
      this.appliedIndex = Math.max(this.appliedIndex, rd.snapshot.meta.index);
      this.waits.restored(rd.snapshot.meta.index, rd.snapshot.meta.term);
    }
    for (const e of rd.committed) this.applyOne(e);
    if (this.reads.size > 0 || rd.readStates.length > 0 || rd.readFailures.length > 0) this.serveReads(rd);
    if (commitOnly(rd, this.written)) {
      // Written without fsync and not waited for; storage keeps the order of writes.
      this.written = rd.hardState;
      this.opts.storage.save(rd, { sync: false }).then(undefined, (err: unknown) => this.fail(err));
    } else if (rd.mustSync) {
      if (rd.hardState) this.written = rd.hardState;
      this.opts.storage.save(rd).then(
        () => this.guarded(() => this.afterWrite(rd, later)),
        (err: unknown) => this.fail(err),
      );
      return;
    }
    this.afterWrite(rd, later);
  }

  /**
   * The held commit notices go at the next turn of the event loop, unless a cycle is queued by
   * then: it takes them (or drops them for its appends), and this looks again after it.
   */
  private armNoticeFlush(): void {
    if (this.noticeTimer !== null) return;
    const flush = (): void => {
      this.noticeTimer = null;
      if (this.stopped || this.notices.size === 0) return;
      if (this.scheduled) {
        this.noticeTimer = this.timers.after(0, flush);
        return;
      }
      this.guarded(() => this.opts.send(this.notices.take()));
    };
    this.noticeTimer = this.timers.after(0, flush);
  }

  /** The rest of a cycle, once its write is durable: the messages that waited for it, then advance. */
  private afterWrite(rd: Ready, later: readonly Message[]): void {
    if (this.stopped) return;
    if (later.length > 0) this.opts.send(later);
    this.raft.advance(rd);
    this.writing = false;
    // A node that lost office may have had its uncommitted tail overwritten already.
    if (rd.soft.role !== 'leader' && this.waits.size > 0) this.waits.truncated(this.raft.status().lastIndex);
    this.opts.onAdvance?.(rd);
    this.checkWatches();
    this.kick();
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = err;
    this.stop();
    this.opts.onFatal?.(err);
  }

  /**
   * Applies one entry, then answers its wait if this node has one: by request id when the entry is
   * this node's own (its proposer stamp, docs/architecture.md §12), by position for a membership
   * change; and ends the waits the entry's term shows lost.
   */
  private applyOne(e: Entry): void {
    const decision = this.opts.machine.apply(e);
    this.appliedIndex = e.index;
    const key = decision ? waitKeyOf(decision, e, this.raft.id) : null;
    if (decision && key !== null) this.waits.trigger(key, { index: e.index, result: decision.result });
    this.waits.applied(e.term);
  }

  get error(): unknown {
    return this.failure;
  }

  /**
   * Nothing is being written and the core has nothing left to hand over: everything applied so far
   * (a membership change, say) is on disk. A node about to stop waits for this, or a restart would
   * find the state from before its last change.
   */
  get settled(): boolean {
    return this.stopped || (!this.writing && !this.scheduled && !this.raft.hasReady());
  }
}

/** Which wait an applied entry answers: its request id if this node proposed it, its position if it is a membership change. */
function waitKeyOf(decision: Decision<unknown>, e: Entry, self: NodeId): WaitKey | null {
  if (decision.request !== null) return e.proposer === self ? decision.request : null;
  return e.type === 'conf' ? confKey(e.index, e.term) : null;
}
