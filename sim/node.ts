import { commitOnly } from '../src/node/driver.js';
import { sendableBeforePersist, type RaftNode, type RaftStatus } from '../src/raft/raft.js';
import type {
  Entry, HardState, Message, NodeId, PersistedState, ReadFailure, ReadState, Ready, Snapshot,
} from '../src/raft/types.js';
import { describeMessage, isRoutine } from './describe.js';
import { hasWrite, SimDisk, type DiskBatch } from './disk.js';
import type { EventQueue } from './events.js';
import type { Trace } from './trace.js';
import type { StateMachine } from './workload.js';
import { fromWire, type Wire } from './wire.js';

/** What a node driver needs from its cluster; checkers and workload listen through it. */
export interface NodeEnv<R> {
  readonly queue: EventQueue;
  readonly trace: Trace;
  makeRaft(id: NodeId, restored: PersistedState | null): RaftNode;
  makeStateMachine(id: NodeId): StateMachine<R>;
  /** Simulated fsync latency of the next write, ms. */
  fsyncDelay(): number;
  send(m: Message): void;
  /**
   * Planted bugs only: the member a frame from `sender` is taken to come from instead of what it
   * claims (null: as it came). Unset in every honest run.
   */
  rewriteFrom?: ((node: SimNode<R>, m: Message, sender: NodeId) => NodeId | null) | undefined;
  // Observations, in the order they happen.
  /** `termBefore`: the stored term before this batch. */
  persisted(node: SimNode<R>, batch: DiskBatch, problems: readonly string[], termBefore: number): void;
  /** A snapshot received from the leader replaced the state machine. */
  restored(node: SimNode<R>, snap: Snapshot, stateHash: number): void;
  /** A restarting node loaded its state machine from the stored snapshot. */
  loaded(node: SimNode<R>, snap: Snapshot, stateHash: number): void;
  applied(node: SimNode<R>, entry: Entry, stateHash: number): void;
  /** After every event the node handled: role, term and commit. */
  observe(node: SimNode<R>, status: RaftStatus): void;
  coreError(node: SimNode<R>, where: string, err: unknown): void;
  fail(invariant: string, detail: string): void;
  // Workload notifications, after the Ready cycle is finished.
  onApplied(node: NodeId, entry: Entry, result: R): void;
  onReadState(node: NodeId, rs: ReadState): void;
  onReadFailure(node: NodeId, rf: ReadFailure): void;
}

export interface NodeTiming {
  /** Ms between ticks on this node's (possibly skewed) clock. */
  readonly tickMs: number;
  /** This node's wall clock minus simulated time, ms (at start; a scenario may set the clock later). */
  readonly clockOffset: number;
  /** Compact the log every this many applied entries. */
  readonly compactEvery: number;
  /**
   * Compact from the tick rather than right after advance: the compaction may then wait behind
   * an in-flight write, and meet a snapshot from the leader in the same Ready.
   */
  readonly compactOnTick: boolean;
  /**
   * Overlap the write as the production driver does: send the messages that acknowledge nothing
   * and apply committed entries before it completes, and write a commit-index-only change without
   * fsync and without waiting for it (see commitOnly). Off: strictly persist, send, apply.
   */
  readonly overlap: boolean;
}

/**
 * Drives one RaftNode as the production driver (src/node/driver.ts) does, following the Ready
 * contract in types.ts: at most one synced write in flight; messages that depend on it leave,
 * and the core advances, only once it is durable; ticks and messages keep going into the core
 * meanwhile. Crash and pause are modelled here: a crash loses the in-flight write
 * and all memory; a pause parks every event until resume.
 */
export class SimNode<R> {
  readonly disk = new SimDisk();
  raft: RaftNode | null = null;
  sm: StateMachine<R> | null = null;
  /** Bumped on crash and restart so that events of a dead incarnation fall on the floor. */
  incarnation = 0;
  paused = false;
  applied = 0;
  private inflight: Ready | null = null;
  /** The hard state last handed to the disk this incarnation (commitOnly's `prev`). */
  private written: HardState | null = null;
  /**
   * The newest commit-only hard state written without fsync: it reaches the disk with the next
   * synced write, and a crash before that loses it (as a power failure would).
   */
  private unsynced: HardState | null = null;
  private parked: (() => void)[] = [];
  private lastCompact = 0;
  /** Wall clock minus simulated time, ms: timing.clockOffset until someone sets the clock. */
  private clockOffset: number;
  private pending: (() => void)[] = [];

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnv<R>,
    readonly timing: NodeTiming,
  ) {
    this.clockOffset = timing.clockOffset;
  }

  /** The node's clock is set (a clock jump): from now on it reads simulated time + `offset`. */
  setClockOffset(offset: number): void {
    this.clockOffset = offset;
  }

  get up(): boolean {
    return this.raft !== null;
  }

  get available(): boolean {
    return this.raft !== null && !this.paused;
  }

  localNow(): number {
    return this.env.queue.now + this.clockOffset;
  }

  /** Start (or restart) from whatever the disk holds. `tickPhase` staggers the first tick. */
  start(tickPhase: number): void {
    if (this.raft) throw new Error(`${this.id} is already running`);
    this.incarnation++;
    this.paused = false;
    const restored = this.disk.load();
    const sm = this.env.makeStateMachine(this.id);
    const snap = this.disk.snapshot;
    if (snap) {
      sm.restore(snap.data);
      this.env.loaded(this, snap, sm.stateHash());
    }
    this.sm = sm;
    this.applied = snap?.meta.index ?? 0;
    this.lastCompact = this.applied;
    try {
      this.raft = this.env.makeRaft(this.id, restored);
    } catch (err) {
      this.env.coreError(this, 'constructor', err);
      return;
    }
    const inc = this.incarnation;
    this.env.queue.after(tickPhase, () => this.tickLoop(inc));
    this.guard('restart', () => undefined);
  }

  crash(): void {
    this.raft = null;
    this.sm = null;
    this.inflight = null;
    this.written = null;
    this.unsynced = null;
    this.parked = [];
    this.pending = [];
    this.paused = false;
    this.incarnation++;
  }

  pause(): void {
    if (this.raft) this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const parked = this.parked;
    this.parked = [];
    for (const fn of parked) {
      if (!this.available) break;
      fn();
    }
  }

  /**
   * A frame from the network; `sender` is who put it on the wire, as the production transport
   * authenticates it. A frame claiming another sender goes to the core as the transport hands it
   * (RaftNode.stepEncoded), which drops and counts it.
   */
  deliver(w: Wire, sender: NodeId): void {
    if (!this.raft) return;
    if (this.paused) {
      this.parked.push(() => this.deliver(w, sender));
      return;
    }
    const d = fromWire(w);
    if (!d.ok) {
      this.env.fail('codec round trip', `${this.id} could not decode a message another node encoded: ${d.error}`);
      return;
    }
    let m = d.value;
    const claimed = this.env.rewriteFrom?.(this, m, sender) ?? null;
    if (claimed !== null) {
      // A planted bug (the transport trusts what a frame says): a stranger's frame passes as a member's.
      m = { ...m, from: claimed };
      sender = claimed;
    }
    if (m.from !== sender) {
      this.env.trace.add(this.env.queue.now, () => `drop(sent by ${sender}) ${describeMessage(m)}`);
      this.guard('stepEncoded', (r) => r.stepEncoded(w, sender));
      return;
    }
    this.env.trace.add(this.env.queue.now, () => `recv ${describeMessage(m)}`, isRoutine(m));
    this.guard('step', (r) => r.step(m));
  }

  /**
   * Run `fn` against the core, then drive the Ready loop and report what the node looks like.
   * Returns fn's result, or undefined when the node is unavailable or the core threw.
   */
  guard<T>(where: string, fn: (r: RaftNode) => T): T | undefined {
    const r = this.raft;
    if (!r || this.paused) return undefined;
    let out: T | undefined;
    try {
      // As the production driver does: whatever the core is fed (a message, a proposal, a tick)
      // comes with the node's wall clock, so a leader that was paused stamps what it appends now
      // with the current time, not the time of its last tick before the pause.
      r.observeTime(this.localNow());
      out = fn(r);
      this.pump();
      if (this.raft) this.env.observe(this, this.raft.status());
    } catch (err) {
      this.env.coreError(this, where, err);
      return undefined;
    }
    this.flushNotifications();
    return out;
  }

  private tickLoop(inc: number): void {
    if (inc !== this.incarnation) return;
    // A paused process's timers do not fire; it picks up ticking where it left off.
    if (!this.paused) {
      this.guard('tick', (r) => {
        r.tick(this.localNow());
        if (this.timing.compactOnTick) this.maybeCompact(r);
      });
    }
    if (inc === this.incarnation) this.env.queue.after(this.timing.tickMs, () => this.tickLoop(inc));
  }

  private pump(): void {
    for (;;) {
      const r = this.raft;
      if (!r || this.inflight || this.paused || !r.hasReady()) return;
      const rd = r.ready();
      if (!hasWrite(rd)) {
        this.sendAndApply(rd, 'all');
        this.complete(rd);
        continue;
      }
      if (this.timing.overlap && commitOnly(rd, this.written)) {
        this.written = rd.hardState;
        this.unsynced = rd.hardState;
        this.sendAndApply(rd, 'all');
        this.complete(rd);
        continue;
      }
      if (rd.hardState) this.written = rd.hardState;
      this.inflight = rd;
      // The production driver's overlaps (see Ready): replication traffic leaves and committed
      // entries are applied while the write is under way.
      if (this.timing.overlap) this.sendAndApply(rd, 'early');
      const inc = this.incarnation;
      this.env.queue.after(this.env.fsyncDelay(), () => this.writeDone(inc));
      return;
    }
  }

  private writeDone(inc: number): void {
    if (inc !== this.incarnation || !this.inflight) return;
    // Durable the moment fsync returns, whether or not the process gets to run afterwards.
    const rd = this.inflight;
    if (this.unsynced) {
      // Written before this batch, made durable by its fsync.
      const early = { hardState: this.unsynced, entries: [], snapshot: null, compaction: null, membership: null };
      this.unsynced = null;
      const before = this.disk.storedTerm;
      this.env.persisted(this, early, this.disk.write(early), before);
    }
    const termBefore = this.disk.storedTerm;
    const problems = this.disk.write(rd);
    this.env.persisted(this, rd, problems, termBefore);
    const proceed = (): void => {
      if (inc !== this.incarnation) return;
      this.guard('ready', () => {
        this.inflight = null;
        this.sendAndApply(rd, this.timing.overlap ? 'late' : 'all');
        this.complete(rd);
      });
    };
    if (this.paused) this.parked.push(proceed);
    else proceed();
  }

  /**
   * Steps 2 and 3 of the Ready contract. 'early' is what may overlap the write (messages that
   * acknowledge nothing, restoring and applying); 'late' the rest of the messages; 'all' both.
   */
  private sendAndApply(rd: Ready, part: 'early' | 'late' | 'all'): void {
    for (const m of rd.messages) {
      if (part === 'all' || (part === 'early') === sendableBeforePersist(m)) this.env.send(m);
    }
    if (part === 'late') return;
    const sm = this.sm as StateMachine<R>;
    if (rd.snapshot) {
      sm.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      this.lastCompact = this.applied;
      this.env.restored(this, rd.snapshot, sm.stateHash());
    }
    if (rd.committed.length > 0) {
      const first = (rd.committed[0] as Entry).index;
      this.env.trace.add(this.env.queue.now, () => `${this.id} applies ${first}..${first + rd.committed.length - 1}`);
    }
    for (const e of rd.committed) {
      if (e.index !== this.applied + 1) {
        throw new Error(`committed entry ${e.index} handed out after applied index ${this.applied}`);
      }
      const result = sm.apply(e);
      this.applied = e.index;
      this.env.applied(this, e, sm.stateHash());
      this.pending.push(() => this.env.onApplied(this.id, e, result));
    }
  }

  /** Step 4, after the write: read answers, advance, and compaction now and then. */
  private complete(rd: Ready): void {
    const r = this.raft as RaftNode;
    for (const rs of rd.readStates) this.pending.push(() => this.env.onReadState(this.id, rs));
    for (const rf of rd.readFailures) this.pending.push(() => this.env.onReadFailure(this.id, rf));
    r.advance(rd);
    if (!this.timing.compactOnTick) this.maybeCompact(r);
  }

  private maybeCompact(r: RaftNode): void {
    // As the production Compactor: the first snapshot as soon as anything is applied, so a node
    // that starts from nothing (a wiped disk) is sent a snapshot, whose metadata carries the
    // membership (the bootstrap membership is in no log entry); then every compactEvery entries.
    const due = this.lastCompact === 0 ? this.applied >= 1 : this.applied - this.lastCompact >= this.timing.compactEvery;
    if (!due) return;
    // The core compacts only at its applied index, which lags ours while an overlapped write runs.
    if (r.status().applied !== this.applied) return;
    if (r.compact(this.applied, (this.sm as StateMachine<R>).snapshot())) this.lastCompact = this.applied;
  }

  private flushNotifications(): void {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (const fn of batch) fn();
    }
  }
}
