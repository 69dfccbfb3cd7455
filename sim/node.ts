import type { RaftNode, RaftStatus } from '../src/raft/raft.js';
import type {
  Entry, Message, NodeId, PersistedState, ReadFailure, ReadState, Ready, Snapshot,
} from '../src/raft/types.js';
import { describeMessage } from './describe.js';
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
  // Workload notifications, after the Ready cycle is finished.
  onApplied(node: NodeId, entry: Entry, result: R): void;
  onReadState(node: NodeId, rs: ReadState): void;
  onReadFailure(node: NodeId, rf: ReadFailure): void;
}

export interface NodeTiming {
  /** Ms between ticks on this node's (possibly skewed) clock. */
  readonly tickMs: number;
  /** This node's wall clock minus simulated time, ms. */
  readonly clockOffset: number;
  /** Compact the log every this many applied entries. */
  readonly compactEvery: number;
}

/**
 * Drives one RaftNode exactly as the production driver will (see the Ready contract in types.ts):
 * at most one synced write in flight; the Ready's messages leave, its snapshot is restored and
 * its committed entries applied only once that write is durable; ticks and messages keep going
 * into the core meanwhile. Crash and pause are modelled here: a crash loses the in-flight write
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
  private parked: (() => void)[] = [];
  private lastCompact = 0;
  private pending: (() => void)[] = [];

  constructor(
    readonly id: NodeId,
    private readonly env: NodeEnv<R>,
    readonly timing: NodeTiming,
  ) {}

  get up(): boolean {
    return this.raft !== null;
  }

  get available(): boolean {
    return this.raft !== null && !this.paused;
  }

  localNow(): number {
    return this.env.queue.now + this.timing.clockOffset;
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

  deliver(w: Wire): void {
    if (!this.raft) return;
    if (this.paused) {
      this.parked.push(() => this.deliver(w));
      return;
    }
    const d = fromWire(w);
    if (!d.ok) {
      this.env.trace.add(this.env.queue.now, `${this.id} undecodable message: ${d.error}`);
      return;
    }
    const m = d.value;
    this.env.trace.add(this.env.queue.now, () => `recv ${describeMessage(m)}`);
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
    if (!this.paused) this.guard('tick', (r) => r.tick(this.localNow()));
    if (inc === this.incarnation) this.env.queue.after(this.timing.tickMs, () => this.tickLoop(inc));
  }

  private pump(): void {
    for (;;) {
      const r = this.raft;
      if (!r || this.inflight || this.paused || !r.hasReady()) return;
      const rd = r.ready();
      if (hasWrite(rd)) {
        this.inflight = rd;
        const inc = this.incarnation;
        this.env.queue.after(this.env.fsyncDelay(), () => this.writeDone(inc));
        return;
      }
      this.finish(rd);
    }
  }

  private writeDone(inc: number): void {
    if (inc !== this.incarnation || !this.inflight) return;
    // Durable the moment fsync returns, whether or not the process gets to run afterwards.
    const rd = this.inflight;
    const termBefore = this.disk.storedTerm;
    const problems = this.disk.write(rd);
    this.env.persisted(this, rd, problems, termBefore);
    const proceed = (): void => {
      if (inc !== this.incarnation) return;
      this.guard('ready', () => {
        this.inflight = null;
        this.finish(rd);
      });
    };
    if (this.paused) this.parked.push(proceed);
    else proceed();
  }

  /** Steps 2-4 of the Ready contract; the write (step 1) is already durable. */
  private finish(rd: Ready): void {
    const r = this.raft as RaftNode;
    const sm = this.sm as StateMachine<R>;
    for (const m of rd.messages) this.env.send(m);
    if (rd.snapshot) {
      sm.restore(rd.snapshot.data);
      this.applied = rd.snapshot.meta.index;
      this.lastCompact = this.applied;
      this.env.restored(this, rd.snapshot, sm.stateHash());
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
    for (const rs of rd.readStates) this.pending.push(() => this.env.onReadState(this.id, rs));
    for (const rf of rd.readFailures) this.pending.push(() => this.env.onReadFailure(this.id, rf));
    r.advance(rd);
    if (this.applied - this.lastCompact >= this.timing.compactEvery) {
      this.lastCompact = this.applied;
      r.compact(this.applied, sm.snapshot());
    }
  }

  private flushNotifications(): void {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (const fn of batch) fn();
    }
  }
}
