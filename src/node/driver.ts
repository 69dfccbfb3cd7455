import { randomBytes } from 'node:crypto';
import { sendableBeforePersist, type RaftNode, type RaftStatus } from '../raft/raft.js';
import type { ConfChange, Entry, HardState, Message, NodeId, ProposeRefusal, ProposeResult, Ready, Snapshot } from '../raft/types.js';
import type { Clock, Timer } from '../worker/types.js';
import { backgroundClock } from './system-clock.js';

/**
 * Where a Ready's durable part goes: one write per call, applied in call order (LevelStorage in
 * production, the simulated disk in sim/). Synced unless `sync: false`; an unsynced write becomes
 * durable with the next synced one. The driver never awaits the result: it calls `then` on it, once,
 * so an implementation may settle it from its own scheduler (the simulator's disk calls back from
 * its agenda when the simulated fsync returns, and never, when the node crashed before).
 */
export interface RaftPersistence {
  save(update: Pick<Ready, 'hardState' | 'entries' | 'snapshot' | 'compaction' | 'membership'>, opts?: { readonly sync?: boolean }): PromiseLike<void>;
}

/**
 * The driver's timers: its tick, its Ready cycles (`after(0)`: after the events already queued, the
 * next turn of the event loop in a process) and read timeouts. A Clock's `after`: `backgroundClock`
 * in production, a simulated process's clock in sim/.
 */
export type DriverTimers = Pick<Clock, 'after'>;

/** The callback form of a promise, for callers that run no microtasks (the simulator). */
export interface Reply<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/**
 * True when the only thing `rd` has to write is a new commit index (`prev` is the hard state last
 * handed to storage; null before the first write). The commit index is volatile state in Raft: a
 * node that loses it recovers it from the leader (and a restarted one from the log), so such a
 * write needs no fsync, and nothing has to wait for it: the messages of such a Ready acknowledge
 * only entries, terms and votes that earlier, synced writes made durable. Without this every
 * commit cost a second fsync on every node, and the next proposal's write queued behind it.
 */
export function commitOnly(rd: Pick<Ready, 'hardState' | 'entries' | 'snapshot' | 'compaction' | 'membership'>, prev: HardState | null): boolean {
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

/** The application's side: restore from a snapshot, apply committed entries in log order. */
export interface StateMachine {
  restore(snapshot: Snapshot): void;
  apply(entry: Entry): void;
}

export interface DriverOptions {
  readonly raft: RaftNode;
  readonly storage: RaftPersistence;
  readonly send: (messages: readonly Message[]) => void;
  readonly machine: StateMachine;
  /**
   * Wall-clock source for entry timestamps, read on every tick, message and proposal fed in
   * (RaftNode.observeTime); the core itself never reads a clock. Default Date.now.
   */
  readonly now?: () => number;
  /** Default backgroundClock (src/node/system-clock.ts): timers that do not keep the process alive. */
  readonly timers?: DriverTimers;
  /**
   * Tags this incarnation's read requests (default: random). A leader's answer to a follower's read
   * may still be on its way when the follower restarts: without the tag, the new incarnation's first
   * reads would carry the contexts of the old one's, and could take that answer (a read index
   * confirmed before they began) for their own.
   */
  readonly readTag?: string;
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
}

const PROPOSAL_OUTCOMES = {
  lost: 'proposal lost to a leader change',
  stopped: 'proposal refused: the node is stopping',
  forwarded: 'proposal forwarded to the leader: this node cannot report whether it commits',
} as const;

export class ProposalError extends Error {
  constructor(readonly reason: ProposeRefusal | keyof typeof PROPOSAL_OUTCOMES) {
    super(reason in PROPOSAL_OUTCOMES ? PROPOSAL_OUTCOMES[reason as keyof typeof PROPOSAL_OUTCOMES] : `proposal refused: ${reason}`);
  }
}

export class ReadIndexError extends Error {
  override readonly name = 'ReadIndexError';
}

interface PendingRead {
  readonly reply: Reply<number>;
  readonly timer: Timer;
  /** The read index once the leader confirmed it; served when this node has applied it. */
  index: number | null;
}

interface Waiter {
  readonly term: number;
  resolve(index: number): void;
  reject(err: Error): void;
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
export class RaftDriver {
  readonly raft: RaftNode;
  private readonly opts: DriverOptions;
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
  private ticker: Timer | null = null;
  /** Leader proposals waiting to be applied, by log index. */
  private readonly waiters = new Map<number, Waiter>();
  /** Linearizable reads (readIndex) by ctx. */
  private readonly reads = new Map<string, PendingRead>();
  private readSeq = 0;
  /** The index of the last entry (or snapshot) handed to the state machine. */
  private appliedIndex = 0;

  constructor(opts: DriverOptions) {
    this.opts = opts;
    this.raft = opts.raft;
    this.appliedIndex = opts.raft.status().applied;
    this.now = opts.now ?? Date.now;
    this.timers = opts.timers ?? backgroundClock;
    this.readTag = opts.readTag ?? randomBytes(6).toString('hex');
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
    for (const w of this.waiters.values()) w.reject(new ProposalError('stopped'));
    this.waiters.clear();
    for (const ctx of [...this.reads.keys()]) this.settleRead(ctx, new ReadIndexError('the node is stopping'));
  }

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
      reply.reject(new ReadIndexError('the node is stopping'));
      return;
    }
    const ctx = `${this.readTag}.${++this.readSeq}`;
    const timer = this.timers.after(timeoutMs, () => this.settleRead(ctx, new ReadIndexError(`no read index from the leader within ${timeoutMs} ms`)));
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
      this.settleRead(f.ctx, new ReadIndexError(f.reason === 'no-leader' ? 'no leader is known right now' : 'leadership was lost while confirming the read'));
    }
    for (const s of rd.readStates) {
      const r = this.reads.get(s.ctx);
      if (r) r.index = s.index;
    }
    if (this.reads.size === 0) return;
    for (const [ctx, r] of this.reads) if (r.index !== null && r.index <= this.appliedIndex) this.settleRead(ctx, r.index);
  }

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

  /**
   * Propose on this node; resolves with the entry's index once it is committed and applied here.
   * Followers should forward through their own protocol (the core's forwarding cannot report back).
   */
  propose(data: Uint8Array): Promise<number> {
    if (this.stopped) return Promise.reject(new ProposalError('stopped'));
    this.raft.observeTime(this.now());
    const r = this.raft.propose(data);
    if (!r.ok) return Promise.reject(new ProposalError(r.reason));
    this.kick();
    // A follower's core forwarded it to the leader: it may well commit, but nothing here can tell.
    if (!('index' in r)) return Promise.reject(new ProposalError('forwarded'));
    return new Promise((resolve, reject) => this.waiters.set(r.index, { term: r.term, resolve, reject }));
  }

  /**
   * For callers that hand the core a proposal themselves (RaftNode.propose, to keep the follower's
   * forwarding): feeds the core this driver's clock first, so the entry is stamped with the time
   * of the proposal rather than of the last tick. See RaftNode.observeTime.
   */
  observeTime(): void {
    if (!this.stopped) this.raft.observeTime(this.now());
  }

  /** The core's view (role, leader, membership, progress): what the membership services decide from. */
  status(): RaftStatus {
    return this.raft.status();
  }

  /**
   * A single-server membership change (RaftNode.proposeConfChange: only a leader appends one) with
   * this driver's clock fed in first. The ConfChanger waits for it to apply.
   */
  proposeConfChange(cc: ConfChange): ProposeResult {
    this.observeTime();
    const r = this.raft.proposeConfChange(cc);
    this.kick();
    return r;
  }

  /** Followers this node, as leader, found holding less than they acknowledged (RaftNode.takeLostAcknowledged). */
  takeLostAcknowledged(): NodeId[] {
    return this.raft.takeLostAcknowledged();
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
    if (this.writing || this.stopped || !this.raft.hasReady()) return;
    this.writing = true;
    const rd = this.raft.ready();
    const later: Message[] = [];
    const early: Message[] = [];
    for (const m of rd.messages) (sendableBeforePersist(m) ? early : later).push(m);
    if (early.length > 0) this.opts.send(early);
    // Committed entries are durable on a quorum already: apply while this node's write runs.
    if (rd.snapshot) {
      this.opts.machine.restore(rd.snapshot);
      this.appliedIndex = Math.max(this.appliedIndex, rd.snapshot.meta.index);
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

  /** The rest of a cycle, once its write is durable: the messages that waited for it, then advance. */
  private afterWrite(rd: Ready, later: readonly Message[]): void {
    if (this.stopped) return;
    if (later.length > 0) this.opts.send(later);
    this.raft.advance(rd);
    this.writing = false;
    if (rd.soft.role !== 'leader') this.failStaleWaiters();
    this.opts.onAdvance?.(rd);
    this.kick();
  }

  private fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = err;
    this.stop();
    this.opts.onFatal?.(err);
  }

  private applyOne(e: Entry): void {
    this.opts.machine.apply(e);
    this.appliedIndex = e.index;
    const w = this.waiters.get(e.index);
    if (w) {
      this.waiters.delete(e.index);
      if (w.term === e.term) w.resolve(e.index);
      else w.reject(new ProposalError('lost'));
    }
  }

  /** A proposal whose leader lost office may still commit, or may be overwritten: it stays open until one of them shows. */
  private failStaleWaiters(): void {
    if (this.waiters.size === 0) return;
    const last = this.raft.status().lastIndex;
    for (const [index, w] of this.waiters) {
      if (index > last) {
        this.waiters.delete(index);
        w.reject(new ProposalError('lost'));
      }
    }
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
