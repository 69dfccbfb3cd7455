// An in-process network of Raft nodes for the Raft core's tests, in the spirit of etcd's test
// `network`, with every node driven by the production RaftDriver (src/node/driver.ts) over ports the
// harness controls, as the simulator does (sim/node.ts): its timers run when the test says so
// (processReady, stabilize), its writes go to an in-memory disk that can hold them back
// (holdWrites), its messages go to a router that can cut links, isolate nodes, hold, rewrite or drop
// them. So the tests exercise the core through the one driver a node runs, with its write ordering,
// its apply-while-writing, its read serving and its waits. The harness checks the safety
// properties it can see on every step:
//   - no two nodes ever apply different entries at the same index (State Machine Safety);
//   - at most one leader per term (Election Safety);
//   - a node's persisted term never decreases and its vote never changes within a term;
//   - a node's persisted commit index never decreases, and committed entries arrive in order;
//   - a leader holds every entry committed in an earlier term (Leader Completeness).
// A violation throws a SafetyViolation at once, so any test that drives the network checks them.

import { ReadIndexError, RaftDriver, type RaftPersistence, type ReadIndexEnding } from '../../src/node/driver.js';
import { RaftNode } from '../../src/raft/raft.js';
import type { RaftStatus } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultRaftConfig } from '../../src/raft/types.js';
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
  PersistUpdate,
  ProposeResult,
  RaftConfig,
  ReadState,
  Rng,
  Snapshot,
  VoteRequest,
  VoteResponse,
} from '../../src/raft/types.js';
import type { Timer } from '../../src/worker/types.js';
import { SimWrite } from '../../sim/disk.js';

export type ConfigOverrides = Partial<Omit<RaftConfig, 'id' | 'rng'>>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const bytes = (s: string): Uint8Array => encoder.encode(s);
export const text = (b: Uint8Array): string => decoder.decode(b);

/** An Rng that always answers `v` (clamped): with 0 every election timeout is exactly electionTicks. */
export function fixedRng(v = 0): Rng {
  return { int: (maxExclusive: number) => Math.max(0, Math.min(v, maxExclusive - 1)) };
}

export class SafetyViolation extends Error {
  override readonly name = 'SafetyViolation';
}

// ---------------------------------------------------------------------------------------------
// Builders for crafted logs and messages.

/** Entries with the given terms, starting at `start`; data is "index/term" so entries are distinguishable. */
export function makeEntries(terms: readonly number[], start = 1): Entry[] {
  return terms.map((term, k) => ({
    index: start + k,
    term,
    type: 'normal',
    time: 0,
    proposer: 'n1',
    data: bytes(`${start + k}/${term}`),
  }));
}

/** A PersistedState holding a log with the given terms (index 1..n), as a crafted restart point. */
export function persistedLog(terms: readonly number[], conf: ConfState, hard: Partial<HardState> = {}): PersistedState {
  const last = terms.at(-1) ?? 0;
  return {
    hardState: { term: hard.term ?? last, vote: hard.vote ?? null, commit: hard.commit ?? 0 },
    membership: { conf, index: 0 },
    snapshot: null,
    entries: makeEntries(terms),
  };
}

export const msg = {
  vote(
    from: NodeId,
    to: NodeId,
    term: number,
    lastIndex: number,
    lastTerm: number,
    opts: { pre?: boolean; transfer?: boolean } = {},
  ): VoteRequest {
    return { type: 'vote', from, to, term, lastIndex, lastTerm, pre: opts.pre ?? false, transfer: opts.transfer ?? false };
  },
  voteResp(from: NodeId, to: NodeId, term: number, reject: boolean, pre = false, leader = ''): VoteResponse {
    return { type: 'voteResp', from, to, term, reject, pre, leader };
  },
  app(
    from: NodeId,
    to: NodeId,
    term: number,
    prevIndex: number,
    prevTerm: number,
    entries: readonly Entry[],
    commit: number,
  ): AppendRequest {
    return { type: 'app', from, to, term, prevIndex, prevTerm, entries, commit };
  },
  appResp(
    from: NodeId,
    to: NodeId,
    term: number,
    index: number,
    opts: { reject?: boolean; hintIndex?: number; hintTerm?: number } = {},
  ): AppendResponse {
    return {
      type: 'appResp',
      from,
      to,
      term,
      index,
      reject: opts.reject ?? false,
      hintIndex: opts.hintIndex ?? 0,
      hintTerm: opts.hintTerm ?? 0,
    };
  },
  heartbeat(from: NodeId, to: NodeId, term: number, commit = 0, ctx = ''): HeartbeatRequest {
    return { type: 'heartbeat', from, to, term, commit, ctx, transferee: '' };
  },
  heartbeatResp(from: NodeId, to: NodeId, term: number, ctx = '', clock = 0): HeartbeatResponse {
    return { type: 'heartbeatResp', from, to, term, ctx, clock };
  },
};

// ---------------------------------------------------------------------------------------------
// Per-node durable storage and state machine.

/** What one node has durably written: the completed writes of its driver, checked against the storage contract. */
export class MemStorage {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  membership: Membership | null = null;
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** Number of synced writes. */
  writes = 0;

  constructor(initial: PersistedState | null = null) {
    if (initial) {
      this.hardState = { ...initial.hardState };
      this.membership = initial.membership;
      this.snapshot = initial.snapshot;
      this.entries = initial.entries.slice();
    }
  }

  snapshotIndex(): number {
    return this.snapshot ? this.snapshot.meta.index : 0;
  }

  lastIndex(): number {
    return this.entries.at(-1)?.index ?? this.snapshotIndex();
  }

  /** One completed write of the driver. Throws a SafetyViolation on what a correct core never asks for. */
  write(id: NodeId, rd: PersistUpdate, synced: boolean): void {
    if (rd.hardState) {
      const prev = this.hardState;
      const next = rd.hardState;
      if (next.term < prev.term) throw new SafetyViolation(`${id}: persisted term went back from ${prev.term} to ${next.term}`);
      if (next.term === prev.term && prev.vote !== null && next.vote !== prev.vote) {
        throw new SafetyViolation(`${id}: vote changed within term ${next.term} from ${prev.vote} to ${String(next.vote)}`);
      }
      if (next.commit < prev.commit) throw new SafetyViolation(`${id}: persisted commit went back from ${prev.commit} to ${next.commit}`);
      this.hardState = { ...next };
    }
    if (rd.snapshot) {
      this.snapshot = rd.snapshot;
      this.entries = [];
    }
    const first = rd.entries[0]?.index;
    if (first !== undefined) {
      if (first <= this.snapshotIndex()) {
        throw new SafetyViolation(`${id}: asked to write entry ${first} at or below its snapshot ${this.snapshotIndex()}`);
      }
      if (first > this.lastIndex() + 1) {
        throw new SafetyViolation(`${id}: asked to write entry ${first} after last index ${this.lastIndex()} (a gap)`);
      }
      let expect = first;
      for (const e of rd.entries) {
        if (e.index !== expect) throw new SafetyViolation(`${id}: non-contiguous entries in a Ready (${e.index}, expected ${expect})`);
        expect++;
      }
      this.entries = this.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    // A compaction not newer than the stored snapshot is ignored, as the real store does (a
    // leader's snapshot may arrive between compact() and the Ready that carries the compaction).
    const c = rd.compaction;
    if (c && c.meta.index > this.snapshotIndex()) {
      this.snapshot = c;
      this.entries = this.entries.filter((e) => e.index > c.meta.index);
    }
    if (rd.membership) this.membership = rd.membership;
    if (synced) this.writes++;
  }

  /** What a restart would load; null when nothing was ever written (an empty data directory). */
  persisted(): PersistedState | null {
    const hs = this.hardState;
    if (hs.term === 0 && hs.vote === null && hs.commit === 0 && !this.membership && !this.snapshot && this.entries.length === 0) {
      return null;
    }
    return { hardState: { ...hs }, membership: this.membership, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}

export function encodeItems(items: readonly string[]): Uint8Array {
  return bytes(JSON.stringify(items));
}

export function decodeItems(data: Uint8Array): string[] {
  const v: unknown = JSON.parse(text(data));
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) throw new Error('snapshot data is not a list of strings');
  return v;
}

/** The application: the list of non-empty normal entries' data, in log order. */
export class StateMachine {
  appliedIndex = 0;
  items: string[] = [];
  /** Every entry applied since the last restore (including no-ops and conf changes). */
  applied: Entry[] = [];

  static fromSnapshot(snap: Snapshot | null): StateMachine {
    const sm = new StateMachine();
    if (snap) sm.restore(snap);
    return sm;
  }

  restore(snap: Snapshot): void {
    this.items = decodeItems(snap.data);
    this.appliedIndex = snap.meta.index;
    this.applied = [];
  }

  apply(id: NodeId, e: Entry): void {
    if (e.index !== this.appliedIndex + 1) {
      throw new SafetyViolation(`${id}: applied entry ${e.index} after ${this.appliedIndex}`);
    }
    this.appliedIndex = e.index;
    this.applied.push(e);
    if (e.type === 'normal' && e.data.length > 0) this.items.push(text(e.data));
  }

  encode(): Uint8Array {
    return encodeItems(this.items);
  }
}

// ---------------------------------------------------------------------------------------------
// The driver's ports: timers the test runs, and a disk whose writes it can hold back.

/**
 * One incarnation's timers (the driver's DriverTimers): they run only from runDue, when the
 * network's clock has reached them, so a test decides when the driver's Ready cycles happen. A
 * crash kills them.
 */
class ManualTimers {
  private timers: { readonly at: number; readonly seq: number; readonly fn: () => void; cancelled: boolean }[] = [];
  private seq = 0;
  private dead = false;

  constructor(private readonly now: () => number) {}

  after(ms: number, fn: () => void): Timer {
    const t = { at: this.now() + ms, seq: this.seq++, fn, cancelled: false };
    if (!this.dead) this.timers.push(t);
    return { cancel: () => (t.cancelled = true) };
  }

  /** Runs the timers due now that were set before the call (not those they set), oldest first. */
  runDue(): void {
    const now = this.now();
    const due = this.timers.filter((t) => t.at <= now).sort((x, y) => x.at - y.at || x.seq - y.seq);
    this.timers = this.timers.filter((t) => t.at > now);
    for (const t of due) if (!t.cancelled && !this.dead) t.fn();
  }

  kill(): void {
    this.dead = true;
    this.timers = [];
  }
}

/**
 * One incarnation's persistence port over the node's MemStorage: a write completes at once, or,
 * while the test holds writes, when it releases them; a crash loses the writes still held.
 */
class HeldStore implements RaftPersistence {
  private held: (() => void)[] | null = null;
  private dead = false;

  constructor(
    private readonly peer: Peer,
    private readonly written: (rd: PersistUpdate) => void,
  ) {}

  save(update: PersistUpdate, opts?: { readonly sync?: boolean }): PromiseLike<void> {
    const w = new SimWrite();
    const synced = opts?.sync !== false;
    const complete = (): void => {
      if (this.dead) return;
      this.peer.storage.write(this.peer.id, update, synced);
      this.written(update);
      w.complete();
    };
    if (this.held && synced) this.held.push(complete);
    else complete();
    return w;
  }

  hold(): void {
    this.held ??= [];
  }

  /** Completes the held writes in order, and stops holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const complete of held) complete();
  }

  kill(): void {
    this.dead = true;
    this.held = null;
  }
}

// ---------------------------------------------------------------------------------------------
// The network.

export interface NetworkOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /**
   * Nodes created with the same bootstrap membership but not in it (they join later). Like a node
   * that joined through a member, they hear every node of the network as an introducer.
   */
  readonly others?: readonly NodeId[];
  /**
   * Nodes that join with an empty data directory and no configuration at all: they hear only the
   * voters (their introducers) until their log names the members.
   */
  readonly joiners?: readonly NodeId[];
  readonly config?: ConfigOverrides;
  readonly nodeConfig?: Readonly<Partial<Record<NodeId, ConfigOverrides>>>;
  /** Seed of the per-node SeededRngs (default 1). */
  readonly seed?: number;
  /** Replace the seeded rngs, e.g. `() => fixedRng(0)`. */
  readonly rng?: (id: NodeId, k: number) => Rng;
  /** Crafted restart points: the node starts from this instead of an empty data directory. */
  readonly initial?: Readonly<Partial<Record<NodeId, PersistedState>>>;
}

export interface Peer {
  readonly id: NodeId;
  /** The running node's driver; null while it is down. */
  driver: RaftDriver | null;
  config: RaftConfig;
  storage: MemStorage;
  app: StateMachine;
  /** Reads (Network.read) the driver answered with an index, by the name the test gave them, in answer order. */
  readonly readStates: ReadState[];
  /** Reads the driver refused, with the core's reason (`no-leader`, `not-leader`) or its own (`timeout`). */
  readonly readFailures: { readonly ctx: string; readonly reason: ReadIndexEnding }[];
  /** Bumped whenever the driver hands storage a write or advances the core: a Ready cycle ran. */
  cycles: number;
  /** This node's wall clock, when a test set it (setClock); else the network's. */
  clock: number | null;
  /** This incarnation's ports. */
  timers: ManualTimers;
  store: HeldStore | null;
  /** The core's answer to the last proposal handed to it (the driver's onPropose). */
  lastPropose: ProposeResult | null;
}

/** Rewrites a message in transit; null drops it. */
export type Interceptor = (m: Message) => Message | null;

export interface Hold {
  /** Stop holding and put the held messages back in the queue (in the order they were held). */
  release(): void;
  readonly messages: Message[];
}

interface CommittedRecord {
  readonly term: number;
  readonly type: EntryType;
  readonly data: string;
  readonly by: NodeId;
  /**
   * The lowest current term of a node when it applied the entry: the entry was committed in this
   * term or earlier, so every leader of a later term must hold it.
   */
  knownBy: number;
}

/** Reads and membership changes wait this long (simulated ms) for their answers: longer than any test runs. */
const WAIT_MS = 3_600_000;
const IGNORED = { resolve: (): void => undefined, reject: (): void => undefined };

export class Network {
  readonly bootstrap: ConfState;
  readonly peers = new Map<NodeId, Peer>();
  /** Messages sent and not yet delivered, in send order. Tests may inspect and edit it. */
  queue: Message[] = [];
  /** Every message handed to the router, every one stepped into a node, every one dropped. */
  readonly sent: Message[] = [];
  readonly delivered: Message[] = [];
  readonly dropped: Message[] = [];
  /** The wall clock the drivers feed their cores, and their timers' clock; advanced 10 ms per tickAll round. */
  now = 1_000;
  readonly committed = new Map<number, CommittedRecord>();
  readonly leaderOfTerm = new Map<number, NodeId>();

  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<NodeId>();
  private interceptors: Interceptor[] = [];
  private holds: { pred: (m: Message) => boolean; held: Message[] }[] = [];
  private readonly opts: NetworkOptions;
  private readonly rngs = new Map<NodeId, Rng>();

  constructor(opts: NetworkOptions) {
    this.opts = opts;
    this.bootstrap = { voters: opts.voters.slice(), learners: (opts.learners ?? []).slice() };
    const all = [...opts.voters, ...(opts.learners ?? []), ...(opts.others ?? []), ...(opts.joiners ?? [])];
    all.forEach((id) => {
      this.addNode(id, opts.nodeConfig?.[id] ?? {}, opts.initial?.[id] ?? null);
    });
  }

  /** Create a node (for a joining node: an empty data directory and the cluster's bootstrap membership). */
  addNode(id: NodeId, overrides: ConfigOverrides = {}, initial: PersistedState | null = null): RaftDriver {
    if (this.peers.has(id)) throw new Error(`node ${id} exists`);
    const k = this.peers.size;
    const rng = this.opts.rng ? this.opts.rng(id, k) : new SeededRng(((this.opts.seed ?? 1) * 7919 + k * 104729) >>> 0);
    this.rngs.set(id, rng);
    const config: RaftConfig = { ...defaultRaftConfig, ...this.opts.config, ...overrides, id, rng };
    const storage = new MemStorage(initial);
    const peer: Peer = {
      id,
      driver: null,
      config,
      storage,
      app: StateMachine.fromSnapshot(storage.snapshot),
      readStates: [],
      readFailures: [],
      cycles: 0,
      clock: null,
      timers: new ManualTimers(() => this.now),
      store: null,
      lastPropose: null,
    };
    this.peers.set(id, peer);
    return this.boot(peer);
  }

  /**
   * Starts a process for `p` from what it persisted: a core over the stored state, the production
   * driver over this incarnation's ports, its state machine from the stored snapshot.
   */
  private boot(p: Peer): RaftDriver {
    const joiner = this.opts.joiners?.includes(p.id) ?? false;
    const raft = new RaftNode(p.config, p.storage.persisted(), joiner ? undefined : this.bootstrap);
    p.app = StateMachine.fromSnapshot(p.storage.snapshot);
    p.timers = new ManualTimers(() => this.now);
    const store = new HeldStore(p, () => this.afterWrite(p));
    p.store = store;
    const driver = new RaftDriver({
      raft,
      storage: {
        save: (rd, opts) => {
          p.cycles++;
          return store.save(rd, opts);
        },
      },
      send: (msgs) => this.send(p.id, msgs),
      machine: {
        restore: (snap) => p.app.restore(snap),
        apply: (e) => {
          p.app.apply(p.id, e);
          this.recordCommitted(p, e);
        },
      },
      now: () => p.clock ?? this.now,
      timers: p.timers,
      readTag: p.id,
      onFatal: (err) => {
        throw err;
      },
      onPropose: (r) => (p.lastPropose = r),
      onAdvance: () => {
        p.cycles++;
        this.observe(p);
      },
    });
    p.driver = driver;
    this.introduce(p.id, driver);
    // What RaftDriver.start does besides ticking (the tests tick): a first cycle hands over what the store holds.
    driver.kick();
    this.observe(p);
    return driver;
  }

  get ids(): NodeId[] {
    return [...this.peers.keys()];
  }

  peer(id: NodeId): Peer {
    const p = this.peers.get(id);
    if (!p) throw new Error(`no node ${id}`);
    return p;
  }

  /** The running node's driver: the one way into its core. */
  node(id: NodeId): RaftDriver {
    const n = this.peer(id).driver;
    if (!n) throw new Error(`node ${id} is down`);
    return n;
  }

  status(id: NodeId): RaftStatus {
    return this.node(id).status();
  }

  isUp(id: NodeId): boolean {
    return this.peer(id).driver !== null;
  }

  upIds(): NodeId[] {
    return this.ids.filter((id) => this.isUp(id));
  }

  // --- driving -------------------------------------------------------------------------------

  /**
   * Lets `id`'s driver run what is due: its pending Ready cycle (persist, send, apply, advance, as
   * the driver does it) and any timeout. True when a cycle began.
   */
  processReady(id: NodeId): boolean {
    const p = this.peer(id);
    if (!p.driver) return false;
    const before = p.cycles;
    p.timers.runDue();
    this.observe(p);
    return p.cycles !== before;
  }

  /** Drain every ready of `id` and take the messages it sent out of the queue (they are not delivered). */
  collect(id: NodeId): Message[] {
    const before = this.queue.length;
    while (this.processReady(id)) {
      /* drain */
    }
    return this.queue.splice(before);
  }

  /** From now on `id`'s writes wait for releaseWrites: the driver has handed them over, the disk has not finished them. */
  holdWrites(id: NodeId): void {
    this.peer(id).store?.hold();
  }

  /** `id`'s held writes complete (the driver goes on with each: the messages that waited, then advance). */
  releaseWrites(id: NodeId): void {
    this.peer(id).store?.release();
  }

  /** Deliver one message through the router. True when it reached a node. */
  deliver(m0: Message): boolean {
    let m: Message | null = m0;
    const to = this.peers.get(m.to);
    if (!to?.driver || this.isolated.has(m.to) || this.isolated.has(m.from) || this.cuts.has(`${m.from}>${m.to}`)) {
      this.dropped.push(m);
      return false;
    }
    for (const f of this.interceptors) {
      m = f(m);
      if (m === null) {
        this.dropped.push(m0);
        return false;
      }
    }
    for (const h of this.holds) {
      if (h.pred(m)) {
        h.held.push(m);
        return false;
      }
    }
    to.driver.receive(m);
    this.delivered.push(m);
    this.observe(to);
    return true;
  }

  /** Deliver everything queued now (messages sent meanwhile wait for the next call). */
  deliverAll(): number {
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) this.deliver(m);
    return batch.length;
  }

  /** Process readies and deliver messages until nothing is left. Throws after `maxRounds`. */
  stabilize(maxRounds = 1_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.ids) {
        while (this.processReady(id)) busy = true;
      }
      if (this.queue.length > 0) {
        this.deliverAll();
        busy = true;
      }
      if (!busy) return;
    }
    throw new Error(`network did not stabilize within ${maxRounds} rounds`);
  }

  /** `n` ticks of `id`'s driver (each feeds the core its clock, RaftDriver.tick). */
  tick(id: NodeId, n = 1): void {
    const p = this.peer(id);
    for (let i = 0; i < n; i++) {
      this.node(id).tick();
      this.observe(p);
    }
  }

  /** `id`'s wall clock reads `ms` from now on (null: the network's again): what its driver feeds the core. */
  setClock(id: NodeId, ms: number | null): void {
    this.peer(id).clock = ms;
  }

  /** `n` rounds: every live node ticks once, then (by default) the network stabilizes. */
  tickAll(n = 1, opts: { stabilize?: boolean; only?: readonly NodeId[] } = {}): void {
    for (let i = 0; i < n; i++) {
      this.now += 10;
      for (const id of opts.only ?? this.upIds()) {
        if (this.isUp(id)) this.tick(id);
      }
      if (opts.stabilize ?? true) this.stabilize();
    }
  }

  /** Tick (and stabilize) until `pred` holds; the number of rounds it took. Throws after `max`. */
  tickUntil(pred: () => boolean, max: number, opts: { only?: readonly NodeId[] } = {}): number {
    for (let i = 0; i <= max; i++) {
      if (pred()) return i;
      if (i < max) this.tickAll(1, opts);
    }
    throw new Error(`condition not reached within ${max} ticks`);
  }

  /** Tick until some node among `among` (default: all live nodes) is leader; returns its id. */
  tickUntilLeader(max = 200, among?: readonly NodeId[]): NodeId {
    this.tickUntil(() => this.leader(among) !== null, max);
    const found = this.leader(among);
    if (found === null) throw new Error('no leader');
    return found;
  }

  /** campaign() on `id` and stabilize; returns whether it became leader. */
  campaign(id: NodeId): boolean {
    this.node(id).campaign();
    this.stabilize();
    return this.isUp(id) && this.status(id).role === 'leader';
  }

  /** campaign() and stabilize, requiring that `id` wins. */
  elect(id: NodeId): void {
    if (!this.campaign(id)) throw new Error(`${id} did not win its election (role ${this.status(id).role}, term ${this.status(id).term})`);
  }

  /** The live leader with the highest term among `among`, or null. */
  leader(among?: readonly NodeId[]): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const id of among ?? this.upIds()) {
      if (!this.isUp(id)) continue;
      const s = this.status(id);
      if (s.role === 'leader' && s.term > bestTerm) {
        best = id;
        bestTerm = s.term;
      }
    }
    return best;
  }

  leaders(): NodeId[] {
    return this.upIds().filter((id) => this.status(id).role === 'leader');
  }

  /** A proposal nobody waits for (RaftDriver.proposeAndForget): the core's immediate answer. */
  propose(id: NodeId, data: string): ProposeResult {
    return this.node(id).proposeAndForget(bytes(data));
  }

  /** A membership change through the driver (RaftDriver.requestConfChange): the core's immediate answer. */
  proposeConfChange(id: NodeId, cc: ConfChange): ProposeResult {
    const p = this.peer(id);
    p.lastPropose = null;
    this.node(id).requestConfChange(cc, { timeoutMs: WAIT_MS }, IGNORED);
    // Set by the driver's onPropose during the call, which the compiler cannot see; a stopped driver refuses before the core sees anything.
    const answer = (): ProposeResult | null => p.lastPropose;
    return answer() ?? { ok: false, reason: 'no-leader' };
  }

  /**
   * A linearizable read on `id` through its driver (RaftDriver.requestReadIndex): its answer lands
   * in the peer's readStates (`{ ctx: name, index }`) or readFailures (`{ ctx: name, reason }`).
   */
  read(id: NodeId, name: string): void {
    const p = this.peer(id);
    this.node(id).requestReadIndex(
      {
        resolve: (index) => p.readStates.push({ ctx: name, index }),
        reject: (err) => p.readFailures.push({ ctx: name, reason: err instanceof ReadIndexError ? err.reason : 'stopped' }),
      },
      WAIT_MS,
    );
  }

  /** Compact `id`'s log at what it has applied, with its state machine as the snapshot data (RaftDriver.compact). */
  compact(id: NodeId): void {
    const p = this.peer(id);
    if (p.app.appliedIndex <= p.storage.snapshotIndex()) return;
    this.node(id).compact(p.app.appliedIndex, p.app.encode());
  }

  // --- faults --------------------------------------------------------------------------------

  /** Drop every message between `a` and `b`, both ways. */
  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(`${a}>${b}`);
    this.cuts.add(`${b}>${a}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Cut every link between different groups. Nodes named in no group are isolated. */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    const groupOf = new Map<NodeId, number>();
    groups.forEach((g, k) => {
      g.forEach((id) => groupOf.set(id, k));
    });
    for (const a of this.ids) {
      if (!groupOf.has(a)) this.isolate(a);
      for (const b of this.ids) {
        if (a !== b && groupOf.get(a) !== groupOf.get(b)) this.cutOneWay(a, b);
      }
    }
  }

  /** Remove every cut and isolation (interceptors and holds stay). */
  heal(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  /** Add an interceptor; returns a function that removes it. */
  intercept(f: Interceptor): () => void {
    this.interceptors.push(f);
    return () => {
      this.interceptors = this.interceptors.filter((g) => g !== f);
    };
  }

  /** Drop every message matching `pred`; returns a function that stops dropping. */
  dropIf(pred: (m: Message) => boolean): () => void {
    return this.intercept((m) => (pred(m) ? null : m));
  }

  /** Hold back (delay) every message matching `pred` until release(). */
  hold(pred: (m: Message) => boolean): Hold {
    const h = { pred, held: [] as Message[] };
    this.holds.push(h);
    return {
      messages: h.held,
      release: () => {
        this.holds = this.holds.filter((x) => x !== h);
        this.queue.push(...h.held.splice(0));
      },
    };
  }

  /**
   * The process dies: its timers, its writes in flight and everything it did not persist are gone.
   * Messages to it are dropped while it is down.
   */
  crash(id: NodeId): void {
    const p = this.peer(id);
    p.timers.kill();
    p.store?.kill();
    p.store = null;
    p.driver = null;
  }

  /** A node outside the bootstrap membership hears the whole network, as a join answer would allow. */
  private introduce(id: NodeId, driver: RaftDriver): void {
    if (this.bootstrap.voters.includes(id) || this.bootstrap.learners.includes(id)) return;
    if (this.opts.joiners?.includes(id)) return driver.admitIntroducers(this.opts.voters);
    driver.admitIntroducers([...this.opts.voters, ...(this.opts.learners ?? []), ...(this.opts.others ?? [])]);
  }

  /** Restart from exactly what the node persisted (its state machine restarts from its snapshot). */
  restart(id: NodeId, overrides: ConfigOverrides = {}): RaftDriver {
    const p = this.peer(id);
    if (p.driver) throw new Error(`node ${id} is up`);
    const rng = this.rngs.get(id);
    if (!rng) throw new Error(`node ${id} has no rng`);
    p.config = { ...p.config, ...overrides, id, rng };
    return this.boot(p);
  }

  clearTrace(): void {
    this.sent.length = 0;
    this.delivered.length = 0;
    this.dropped.length = 0;
  }

  // --- reading -------------------------------------------------------------------------------

  /** The non-empty normal entries `id` has applied, as strings. */
  items(id: NodeId): string[] {
    return this.peer(id).app.items.slice();
  }

  appliedIndex(id: NodeId): number {
    return this.peer(id).app.appliedIndex;
  }

  /** `id`'s persisted log (entries after its snapshot). */
  log(id: NodeId): Entry[] {
    return this.peer(id).storage.entries.slice();
  }

  /** Terms of `id`'s persisted log entries, in index order. */
  logTerms(id: NodeId): number[] {
    return this.peer(id).storage.entries.map((e) => e.term);
  }

  /** `id`'s persisted entry at `index`, if it holds it. */
  entryAt(id: NodeId, index: number): Entry | undefined {
    return this.peer(id).storage.entries.find((e) => e.index === index);
  }

  /** Messages in the queue matching `pred`. */
  queued<M extends Message = Message>(pred: ((m: Message) => m is M) | ((m: Message) => boolean) = () => true): M[] {
    return this.queue.filter(pred) as M[];
  }

  // --- the driver's ports and the invariants ---------------------------------------------------

  private send(id: NodeId, msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (m.from !== id) throw new SafetyViolation(`${id} sent a message claiming to be from ${m.from}`);
      this.sent.push(m);
      this.queue.push(m);
    }
  }

  /** A write of `p` completed: a leader's persisted log now equals its log in memory. */
  private afterWrite(p: Peer): void {
    const driver = p.driver;
    if (!driver) return;
    const st = driver.status();
    if (st.role === 'leader') this.checkLeaderCompleteness(p, st.term);
  }

  private recordCommitted(p: Peer, e: Entry): void {
    const prev = this.committed.get(e.index);
    const data = text(e.data);
    const term = p.driver?.status().term ?? 0;
    if (!prev) {
      this.committed.set(e.index, { term: e.term, type: e.type, data, by: p.id, knownBy: term });
      return;
    }
    if (prev.term !== e.term || prev.type !== e.type || prev.data !== data) {
      throw new SafetyViolation(
        `${p.id} applied ${e.index}:${e.term}:${JSON.stringify(data)} but ${prev.by} applied ${e.index}:${prev.term}:${JSON.stringify(prev.data)}`,
      );
    }
    prev.knownBy = Math.min(prev.knownBy, term);
  }

  /**
   * Leader Completeness: a leader holds every entry committed in an earlier term. Checked on the
   * leader's persisted log right after a write completed, when it equals the in-memory log.
   */
  private checkLeaderCompleteness(p: Peer, term: number): void {
    const snapIndex = p.storage.snapshotIndex();
    const first = p.storage.entries[0]?.index ?? snapIndex + 1;
    for (const [index, rec] of this.committed) {
      if (index <= snapIndex || term <= rec.knownBy) continue;
      const e = p.storage.entries[index - first];
      if (!e || e.index !== index || e.term !== rec.term) {
        throw new SafetyViolation(
          `leader ${p.id} lacks committed entry ${index}:${rec.term} (has ${e ? `${e.index}:${e.term}` : 'nothing'})`,
        );
      }
    }
  }

  private observe(p: Peer): void {
    if (!p.driver) return;
    const s = p.driver.status();
    if (s.role !== 'leader') return;
    const other = this.leaderOfTerm.get(s.term);
    if (other !== undefined && other !== p.id) {
      throw new SafetyViolation(`two leaders in term ${s.term}: ${other} and ${p.id}`);
    }
    this.leaderOfTerm.set(s.term, p.id);
  }
}

/** Shorthand for the usual three-voter cluster. */
export function cluster(n: number, opts: Omit<NetworkOptions, 'voters'> & { learners?: readonly NodeId[] } = {}): Network {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].slice(0, n);
  return new Network({ ...opts, voters: names });
}

export const isType =
  <T extends Message['type']>(t: T) =>
  (m: Message): m is Extract<Message, { type: T }> =>
    m.type === t;
