import { Compactor, type CompactableState } from '../src/node/compactor.js';
import { RaftDriver, type DriverTimers } from '../src/node/driver.js';
import type { Reply } from '../src/node/proposal.js';
import type { Clock } from '../src/worker/types.js';
import type { RaftNode } from '../src/raft/raft.js';
import type { RaftStatus } from '../src/raft/raft.js';
import type { Entry, Message, NodeId, PersistedState, PersistUpdate, Snapshot } from '../src/raft/types.js';
import { describeMessage, isRoutine } from './describe.js';
import { SimDisk, SimStore } from './disk.js';
import type { EventQueue } from './events.js';
import { ProcessClock } from './sim-clock.js';
import type { Trace } from './trace.js';
import type { StateMachine } from './workload.js';
import { fromWire, toWire, type Wire } from './wire.js';

/** What a node needs from its cluster; checkers and workload listen through it. */
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
  /** A node of the simulated cluster (not the adversary's forger). */
  isMember(id: NodeId): boolean;
  // Observations, in the order they happen.
  /** `termBefore`: the stored term before this batch. */
  persisted(node: SimNode<R>, batch: PersistUpdate, problems: readonly string[], termBefore: number): void;
  /** A snapshot received from the leader replaced the state machine. */
  restored(node: SimNode<R>, snap: Snapshot, stateHash: number): void;
  /** A restarting node loaded its state machine from the stored snapshot. */
  loaded(node: SimNode<R>, snap: Snapshot, stateHash: number): void;
  /** `stateHash` is null at an index the checker does not compare states at (`hashesStateAt`). */
  applied(node: SimNode<R>, entry: Entry, stateHash: number | null): void;
  /**
   * Whether the replicas' whole state is hashed after applying `index` (default: after every
   * entry). Big clusters hash at a stride (ClusterSetup.stateHashEvery): hashing the whole state
   * on every node after every entry is what made a 30-node run spend half its time in the checker.
   */
  hashesStateAt?: ((index: number) => boolean) | undefined;
  /** After every event the node handled: role, term and commit. */
  observe(node: SimNode<R>, status: RaftStatus): void;
  /** The core or the driver threw (the driver's fatal path included). */
  coreError(node: SimNode<R>, where: string, err: unknown): void;
  fail(invariant: string, detail: string): void;
  /** Workload notification, once the event that applied the entry is over. */
  onApplied(node: NodeId, entry: Entry, result: R): void;
}

export interface NodeTiming {
  /** Ms between ticks on this node's (possibly skewed) clock. */
  readonly tickMs: number;
  /** This node's wall clock minus simulated time, ms (at start; a scenario may set the clock later). */
  readonly clockOffset: number;
  /** Compact the log every this many applied entries (the Compactor's `every`). */
  readonly compactEvery: number;
}

/** The Compactor does not log in the simulator (the trace shows compactions as they reach the disk). */
const QUIET = { info: () => undefined };

/**
 * One simulated meshrun node: the production RaftDriver (src/node/driver.ts) and Compactor
 * driving a RaftNode, wired to simulated ports: its timers are a process clock on the
 * simulator's agenda (ProcessClock), its persistence a SimStore over the node's SimDisk, its
 * transport the simulated network (every frame through the real codec). What is modelled here is
 * only the process: a crash kills its timers and loses the write in flight and all memory; a
 * pause parks every timer, delivery and write completion until resume, in order.
 *
 * After every event the node handles (a timer, a delivery, a completed write, a call from the
 * workload) the checkers observe it, and the workload hears of the entries it applied: what a
 * promise continuation would be in a process (the simulator runs no microtasks).
 */
export class SimNode<R> {
  readonly disk = new SimDisk();
  /** This incarnation's core: only its driver calls it (docs/architecture.md §15). */
  private raft: RaftNode | null = null;
  driver: RaftDriver | null = null;
  sm: StateMachine<R> | null = null;
  /**
   * This incarnation's clock for the node's services (conf changer, maintenance, join): monotonic
   * (simulated time, as a process's performance.now), its timers events of this process.
   */
  clock: Clock | null = null;
  /** When this incarnation last took a frame from each peer (on `clock`), as node.ts records for maintenance. */
  lastHeard = new Map<NodeId, number>();
  /** Bumped on crash and restart. */
  incarnation = 0;
  /** Index of the last entry applied to (or snapshot restored into) the state machine. */
  applied = 0;
  /** This incarnation's process: its timers and everything it is handed run on it. */
  private process: ProcessClock | null = null;
  private store: SimStore | null = null;
  /** Wall clock minus simulated time, ms: timing.clockOffset until someone sets the clock. */
  private clockOffset: number;
  private pending: (() => void)[] = [];
  /** Entries applied in the current event, for one trace line. */
  private applying: { first: number; last: number } | null = null;

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

  get paused(): boolean {
    return this.process?.isPaused ?? false;
  }

  get available(): boolean {
    return this.raft !== null && !this.paused;
  }

  /** The wall clock the driver feeds the core (RaftDriver's `now`). */
  localNow(): number {
    return this.env.queue.now + this.clockOffset;
  }

  /** Start (or restart) from whatever the disk holds. `tickPhase` staggers the first tick. */
  start(tickPhase: number): void {
    if (this.raft) throw new Error(`${this.id} is already running`);
    this.incarnation++;
    const env = this.env;
    const process = new ProcessClock({ now: () => env.queue.now, after: (ms, fn) => env.queue.after(ms, fn) }, 0);
    const restored = this.disk.load();
    const sm = env.makeStateMachine(this.id);
    const snap = this.disk.snapshot;
    if (snap) {
      sm.restore(snap);
      env.loaded(this, snap, sm.stateHash());
    }
    this.sm = sm;
    this.applied = snap?.meta.index ?? 0;
    let raft: RaftNode;
    try {
      raft = env.makeRaft(this.id, restored);
    } catch (err) {
      env.coreError(this, 'constructor', err);
      return;
    }
    const store = new SimStore(this.disk, {
      after: (ms, fn) => env.queue.after(ms, fn),
      fsyncDelay: () => env.fsyncDelay(),
      persisted: (b, problems, termBefore) => env.persisted(this, b, problems, termBefore),
      inProcess: (fn) => process.run(() => this.event('write', fn)),
    });
    // Its way into the core is the driver below, which calls it only from onAdvance.
    const compactor: Compactor = new Compactor(
      { compact: (index, data): boolean => driver.compact(index, data) },
      this.compactable(sm),
      this.timing.compactEvery,
      QUIET,
      snap,
    );
    const timers: DriverTimers = { after: (ms, fn) => process.after(ms, () => this.event('timer', fn)) };
    const driver = new RaftDriver({
      raft,
      storage: store,
      send: (msgs) => {
        for (const m of msgs) env.send(m);
      },
      machine: compactor.machine(),
      now: () => this.localNow(),
      timers,
      // Deterministic, and unique to this incarnation as a random one is in a process.
      readTag: `i${this.incarnation}`,
      onFatal: (err) => env.coreError(this, 'the driver', err),
      onAdvance: () => compactor.afterAdvance(),
    });
    this.process = process;
    this.clock = { now: () => env.queue.now, after: (ms, fn) => process.after(ms, () => this.event('timer', fn)) };
    this.lastHeard = new Map();
    this.store = store;
    this.raft = raft;
    this.driver = driver;
    timers.after(tickPhase, () => driver.start(this.timing.tickMs));
    this.event('restart', () => driver.kick());
  }

  crash(): void {
    this.process?.kill();
    this.store?.crash();
    this.process = null;
    this.clock = null;
    this.store = null;
    this.raft = null;
    this.driver = null;
    this.sm = null;
    this.pending = [];
    this.applying = null;
    this.incarnation++;
  }

  pause(): void {
    if (this.raft) this.process?.pause();
  }

  resume(): void {
    this.process?.resume();
  }

  /**
   * A frame from the network; `sender` is who put it on the wire, as the production transport
   * authenticates it. It goes to the driver as the transport hands it (RaftDriver.receiveEncoded),
   * whose core drops and counts a frame claiming another sender.
   */
  deliver(w: Wire, sender: NodeId): void {
    this.run('recv', () => this.receive(w, sender));
  }

  /** `fn` as an event of this process, once it runs (later, if it is paused; never, if it is down or dies). */
  run(where: string, fn: () => void): void {
    const process = this.process;
    if (!this.raft || !process) return;
    process.run(() => this.event(where, fn));
  }

  private receive(w: Wire, sender: NodeId): void {
    const driver = this.driver;
    if (!driver) return;
    const d = fromWire(w);
    if (!d.ok) {
      // A stranger's bytes may be anything: the driver drops them. A member's must decode.
      if (this.env.isMember(sender))
        this.env.fail('codec round trip', `${this.id} could not decode a message another node encoded: ${d.error}`);
      else {
        this.env.trace.add(this.env.queue.now, () => `drop(undecodable from ${sender}) ${d.error}`);
        driver.receiveEncoded(w, sender);
      }
      return;
    }
    let m = d.value;
    const claimed = this.env.rewriteFrom?.(this, m, sender) ?? null;
    if (claimed !== null) {
      // A planted bug (the transport trusts what a frame says): a stranger's frame passes as a member's.
      m = { ...m, from: claimed };
      sender = claimed;
      w = toWire(m);
    }
    if (m.from !== sender) this.env.trace.add(this.env.queue.now, () => `drop(sent by ${sender}) ${describeMessage(m)}`);
    else this.env.trace.add(this.env.queue.now, () => `recv ${describeMessage(m)}`, isRoutine(m));
    if (driver.receiveEncoded(w, sender)) this.lastHeard.set(sender, this.env.queue.now);
  }

  /**
   * A call into the running node from outside its timers (the workload, the operator, the
   * membership logic), handled as an event of its process. Undefined when the node is down or
   * paused, or the call threw.
   */
  call<T>(where: string, fn: (driver: RaftDriver) => T): T | undefined {
    const driver = this.driver;
    if (!this.raft || !driver || this.paused) return undefined;
    return this.event(where, () => fn(driver));
  }

  /** `reply`, answered once the event that settles it is over, as a promise's continuation would be. */
  deferred<T>(reply: Reply<T>): Reply<T> {
    return {
      resolve: (v) => this.pending.push(() => reply.resolve(v)),
      reject: (err) => this.pending.push(() => reply.reject(err)),
    };
  }

  /** Run one event of the process; then the checkers observe the node and the workload hears what was applied. */
  private event<T>(where: string, fn: () => T): T | undefined {
    let out: T | undefined;
    try {
      out = fn();
      this.traceApplies();
      if (this.raft) this.env.observe(this, this.raft.status());
    } catch (err) {
      this.env.coreError(this, where, err);
      return undefined;
    }
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      for (const f of batch) f();
    }
    return out;
  }

  /** The workload's state machine as the Compactor and the driver see it, with the checkers listening. */
  private compactable(sm: StateMachine<R>): CompactableState {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the returned object's methods have a `this` of their own
    const node = this;
    const env = this.env;
    return {
      get applied() {
        return node.applied;
      },
      encode: () => sm.snapshot(),
      restore: (snap) => {
        sm.restore(snap);
        node.applied = snap.meta.index;
        env.restored(node, snap, sm.stateHash());
      },
      apply: (e) => {
        if (e.index !== node.applied + 1) {
          throw new Error(`committed entry ${e.index} handed out after applied index ${node.applied}`);
        }
        const { result, decision } = sm.decide ? sm.decide(e) : { result: sm.apply(e), decision: null };
        node.applied = e.index;
        if (node.applying) node.applying.last = e.index;
        else node.applying = { first: e.index, last: e.index };
        env.applied(node, e, (env.hashesStateAt?.(e.index) ?? true) ? sm.stateHash() : null);
        node.pending.push(() => env.onApplied(node.id, e, result));
        // The driver answers the proposer's wait with the machine's decision (its request id, from the
        // entry envelope); a membership change's wait is answered by position (RaftDriver.requestConfChange).
        return decision ?? { request: null, result };
      },
    };
  }

  private traceApplies(): void {
    const a = this.applying;
    if (!a) return;
    this.applying = null;
    this.env.trace.add(this.env.queue.now, () => `${this.id} applies ${a.first}..${a.last}`);
  }
}
