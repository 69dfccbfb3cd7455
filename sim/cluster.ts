import type { RaftNode, RaftStatus } from '../src/raft/raft.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { EntryBuilder, ProposeOptions } from '../src/node/driver.js';
import type { Committed, Reply } from '../src/node/proposal.js';
import type {
  ConfState,
  Entry,
  Membership,
  Message,
  NodeId,
  PersistedState,
  PersistUpdate,
  ProposeResult,
  RaftConfig,
} from '../src/raft/types.js';
import { SafetyChecker, type Violation } from './checkers.js';
import { EventQueue } from './events.js';
import { ForgeryChecker } from './forgery.js';
import { SimNetwork, type NetParams } from './network.js';
import type { NemesisTarget } from './nemesis.js';
import { SimNode, type NodeEnv, type NodeTiming } from './node.js';
import type { LineSource, Trace } from './trace.js';
import type { ClusterApi, StateMachine, Workload } from './workload.js';
import type { Wire } from './wire.js';

export interface ClusterSetup<R> {
  readonly ids: readonly NodeId[];
  /** Raft settings shared by every node (id and rng are filled in per node). */
  readonly raft: Omit<RaftConfig, 'id' | 'rng'>;
  readonly timing: ReadonlyMap<NodeId, NodeTiming>;
  readonly net: NetParams;
  /** Mean simulated fsync latency, ms. */
  readonly fsyncMean: number;
  readonly workload: Workload<R>;
  readonly trace: Trace;
  readonly rngs: { readonly net: SeededRng; readonly disk: SeededRng; readonly raft: SeededRng; readonly timing: SeededRng };
  /** Builds each node's core; tests substitute a deliberately broken one to see the checkers fire. */
  readonly makeRaft: RaftFactory;
  /** The initial membership (default: every node a voter). */
  readonly bootstrap?: ConfState;
  /**
   * A planted bug in the wiring (the `trust-forger` plant): frames from a stranger reach the core
   * as if the receiver's leader (or a voter it knows) had sent them.
   */
  readonly trustForger?: boolean;
  /**
   * Compare the replicas' whole state after every this many entries (default 1: after each).
   * Entries themselves are compared at every index whatever this is.
   */
  readonly stateHashEvery?: number;
}

/** `bootstrap` is undefined for a node that starts from a lost disk: it joins, as a new node would. */
export type RaftFactory = (config: RaftConfig, restored: PersistedState | null, bootstrap?: ConfState) => RaftNode;

/**
 * One simulated cluster: the nodes, the network between them, the checkers listening to both,
 * and the surfaces the workload (ClusterApi) and the nemesis (NemesisTarget) act through.
 */
export class Cluster<R> implements ClusterApi<R>, NemesisTarget {
  readonly queue = new EventQueue();
  readonly checker = new SafetyChecker();
  /** Nothing the adversary forged is stored or applied (forgery.ts). */
  readonly forgery = new ForgeryChecker({ fail: (i, d) => this.fail(i, d), leaderOf: (t) => this.checker.leaderOf(t) });
  readonly net: SimNetwork;
  readonly nodes: readonly NodeId[];
  readonly sims = new Map<NodeId, SimNode<R>>();
  /** Told about every completed write (the nemesis crashes nodes at such moments). */
  onSynced: ((id: NodeId, termOrVote: boolean) => void) | null = null;
  /** Told when a node's role or term changes (a scenario's timeline). */
  onRole: ((id: NodeId, role: string, term: number) => void) | null = null;
  /** Told when a node's process has started (its services start with it: membership.ts). */
  onStart: ((id: NodeId) => void) | null = null;
  /**
   * Told when a node that lost its disk starts and its store does not list it as a member: it
   * must join (ask the leader to let it in) before it hears anyone (see membership.ts).
   */
  onJoin: ((id: NodeId) => void) | null = null;
  /** Nodes that lost their disk once: from then on they start as a new node would, without the bootstrap membership. */
  private readonly joiners = new Set<NodeId>();
  /** The first violation, from the checkers or anywhere else; the run stops on it. */
  violation: Violation | null = null;
  readonly counts = {
    crashes: 0,
    restarts: 0,
    pauses: 0,
    leaderChanges: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    wipes: 0,
    clockJumps: 0,
  };
  private readonly last = new Map<NodeId, { role: string; term: number }>();
  private readonly bootstrap: ConfState;

  constructor(private readonly s: ClusterSetup<R>) {
    this.nodes = s.ids;
    this.bootstrap = s.bootstrap ?? { voters: [...s.ids], learners: [] };
    this.net = new SimNetwork(this.queue, s.rngs.net, s.net, s.trace, (w, to, sender) => this.deliver(w, to, sender));
    const env = this.nodeEnv();
    for (const id of s.ids) this.sims.set(id, new SimNode(id, env, s.timing.get(id) as NodeTiming));
  }

  startAll(): void {
    for (const id of this.nodes) this.startNode(id);
  }

  private sim(id: NodeId): SimNode<R> {
    const n = this.sims.get(id);
    if (!n) throw new Error(`unknown node ${id}`);
    return n;
  }

  private startNode(id: NodeId): void {
    const n = this.sim(id);
    this.checker.restarted(id, n.disk);
    n.start(this.s.rngs.timing.int(n.timing.tickMs) + 1);
    if (n.up) this.onStart?.(id);
    // As the node does (src/node/node.ts): one whose store does not list it asks to be let in.
    if (this.joiners.has(id) && n.up && !n.disk.lists(id)) this.onJoin?.(id);
  }

  private deliver(w: Wire, to: NodeId, sender: NodeId): void {
    this.sims.get(to)?.deliver(w, sender);
  }

  /** The trust-forger plant: a stranger's frame is taken for one from the receiver's leader, or a voter it knows. */
  private plantedSender(node: SimNode<R>, sender: NodeId): NodeId | null {
    if (this.sims.has(sender)) return null;
    const st = node.driver?.status();
    if (!st) return null;
    return st.leader ?? st.membership.conf.voters.find((v) => v !== node.id) ?? null;
  }

  private nodeEnv(): NodeEnv<R> {
    const s = this.s;
    return {
      queue: this.queue,
      trace: s.trace,
      makeRaft: (id, restored) => {
        const n = this.sim(id);
        // tickMs: the node's own tick period, which bounds how far a clock report ages per tick.
        const config: RaftConfig = { ...s.raft, tickMs: n.timing.tickMs, id, rng: s.rngs.raft.fork(`${id}#${n.incarnation}`) };
        return this.joiners.has(id) ? s.makeRaft(config, restored) : s.makeRaft(config, restored, this.bootstrap);
      },
      makeStateMachine: (id) => s.workload.createStateMachine(id),
      fsyncDelay: () => s.rngs.disk.range(Math.max(1, s.fsyncMean - 1), s.fsyncMean + 2),
      send: (m: Message) => this.net.send(m),
      rewriteFrom: s.trustForger ? (node, _m, sender) => this.plantedSender(node, sender) : undefined,
      isMember: (id) => this.sims.has(id),
      persisted: (node, batch, problems, termBefore) => this.persisted(node, batch, problems, termBefore),
      restored: (node, snap, hash) => {
        this.counts.snapshotsInstalled++;
        this.trace(`${node.id} installed snapshot ${snap.meta.index}/t${snap.meta.term} (${snap.data.length} bytes)`);
        this.checker.restored(node.id, snap.meta, hash);
        this.forgery.restored(node.id, snap);
      },
      loaded: (node, snap, hash) => this.checker.restored(node.id, snap.meta, hash),
      hashesStateAt: (index) => index % (s.stateHashEvery ?? 1) === 0,
      applied: (node, e, hash) => {
        this.checker.applied(node.id, e, hash);
        this.forgery.applied(node.id, e);
      },
      observe: (node, st) => this.observe(node, st),
      coreError: (node, where, err) => {
        const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
        this.fail('core error', `${node.id} threw in ${where}: ${text.split('\n').slice(0, 6).join('\n    ')}`);
      },
      fail: (invariant, detail) => this.fail(invariant, detail),
      onApplied: (id: NodeId, e: Entry, r: R) => s.workload.onApplied(id, e, r),
    };
  }

  private persisted(node: SimNode<R>, b: PersistUpdate, problems: readonly string[], termBefore: number): void {
    for (const p of problems) this.fail('storage contract', `${node.id}: ${p}`);
    if (b.compaction) this.counts.compactions++;
    this.s.trace.add(this.queue.now, () => {
      const parts: string[] = [];
      if (b.hardState) parts.push(`term=${b.hardState.term} vote=${b.hardState.vote ?? '-'} commit=${b.hardState.commit}`);
      if (b.entries.length > 0) parts.push(`entries ${b.entries[0]?.index}..${b.entries[b.entries.length - 1]?.index}`);
      if (b.snapshot) parts.push(`snapshot ${b.snapshot.meta.index}`);
      if (b.compaction) parts.push(`compaction ${b.compaction.meta.index}`);
      if (b.membership) parts.push(`membership ${describeMembership(b.membership)}`);
      return `${node.id} synced ${parts.join(', ')}`;
    });
    this.checker.persisted(node.id, b.entries, node.disk);
    this.forgery.persisted(node.id, b.entries, b.snapshot);
    this.onSynced?.(node.id, b.hardState !== null && (b.hardState.vote !== null || b.hardState.term !== termBefore));
  }

  private observe(node: SimNode<R>, st: RaftStatus): void {
    this.checker.observe(node.id, st.role, st.term, st.commit);
    const prev = this.last.get(node.id);
    if (!prev || prev.role !== st.role || prev.term !== st.term) {
      if (st.role === 'leader') this.counts.leaderChanges++;
      this.last.set(node.id, { role: st.role, term: st.term });
      this.trace(`${node.id} is ${st.role} in term ${st.term} (commit ${st.commit}, last ${st.lastIndex})`);
      this.onRole?.(node.id, st.role, st.term);
    }
  }

  fail(invariant: string, detail: string): void {
    this.violation ??= { invariant, detail };
  }

  /** The first violation from the cluster or its checkers. */
  firstViolation(): Violation | null {
    return this.violation ?? this.checker.violation;
  }

  // ----- ClusterApi and NemesisTarget -----

  now(): number {
    return this.queue.now;
  }

  after(ms: number, fn: () => void): void {
    this.queue.after(ms, fn);
  }

  trace(line: LineSource): void {
    this.s.trace.add(this.queue.now, line);
  }

  available(id: NodeId): boolean {
    return this.sim(id).available;
  }

  isUp(id: NodeId): boolean {
    return this.sim(id).up;
  }

  isPaused(id: NodeId): boolean {
    return this.sim(id).paused;
  }

  /** As the node's worker proposes (RaftDriver.proposeAndForget): a follower's core forwards it. */
  propose(id: NodeId, data: Uint8Array): ProposeResult | null {
    return this.sim(id).call('propose', (driver) => driver.proposeAndForget(data)) ?? null;
  }

  /** A proposal whose answer is waited for (RaftDriver.requestPropose); the answer comes once that event is over. */
  requestPropose(id: NodeId, build: EntryBuilder, opts: ProposeOptions, reply: Reply<Committed<unknown>>): boolean {
    const n = this.sim(id);
    return (
      n.call('requestPropose', (driver) => {
        driver.requestPropose(build, opts, n.deferred(reply));
        return true;
      }) ?? false
    );
  }

  transferLeadership(id: NodeId, to: NodeId): boolean {
    return this.sim(id).call('transferLeadership', (driver) => driver.transferLeadership(to)) ?? false;
  }

  /** A linearizable read through the node's driver (RaftDriver.readIndex); the answer comes once that event is over. */
  readIndex(id: NodeId, timeoutMs: number, reply: Reply<number>): boolean {
    const n = this.sim(id);
    return (
      n.call('readIndex', (driver) => {
        driver.requestReadIndex(n.deferred(reply), timeoutMs);
        return true;
      }) ?? false
    );
  }

  /** The cluster time the node's core would stamp an entry with now (what its time keeper reads). */
  clusterTime(id: NodeId): number | null {
    return this.sim(id).driver?.clusterTime() ?? null;
  }

  appliedIndex(id: NodeId): number {
    return this.sim(id).applied;
  }

  stateMachine(id: NodeId): StateMachine<R> | null {
    return this.sim(id).sm;
  }

  status(id: NodeId): RaftStatus | null {
    return this.sim(id).driver?.status() ?? null;
  }

  leader(): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const id of this.nodes) {
      const l = this.last.get(id);
      if (l?.role === 'leader' && l.term > bestTerm && this.available(id)) {
        best = id;
        bestTerm = l.term;
      }
    }
    return best;
  }

  membership(id: NodeId): ConfState | null {
    return this.status(id)?.membership.conf ?? null;
  }

  /** The newest membership any running node knows. */
  newestMembership(): Membership | null {
    let best: Membership | null = null;
    for (const id of this.nodes) {
      const m = this.status(id)?.membership;
      if (m && (!best || m.index > best.index)) best = m;
    }
    return best;
  }

  crash(id: NodeId): void {
    this.sim(id).crash();
    this.last.delete(id);
    this.counts.crashes++;
    this.trace(`${id} CRASH (in-flight write and memory lost)`);
    this.s.workload.onCrash(id);
  }

  restart(id: NodeId): void {
    this.counts.restarts++;
    const d = this.sim(id).disk;
    this.trace(`${id} RESTART from disk: snapshot ${d.snapIndex()}, entries to ${d.lastIndex()}, commit ${d.commit}`);
    this.startNode(id);
  }

  /** Set a node's clock: from now on it reads simulated time + `offset` (its Raft core stamps entries with it). */
  setClockOffset(id: NodeId, offset: number): void {
    this.sim(id).setClockOffset(offset);
  }

  /**
   * The `clockjump` fault: the wall clock the node's Raft core reads (ticks, the clock it reports
   * in heartbeat responses, its own sample as leader) reads `jumpMs` off its usual setting; 0 sets
   * it back. The worker's clock is not touched: in production it is monotonic since the process
   * started (src/node/system-clock.ts), so a wall clock set mid-run does not move it.
   */
  jumpClock(id: NodeId, jumpMs: number): void {
    const n = this.sim(id);
    this.counts.clockJumps++;
    n.setClockOffset(n.timing.clockOffset + jumpMs);
    this.trace(`${id} CLOCK ${jumpMs === 0 ? 'set right again' : `jumps ${jumpMs > 0 ? '+' : ''}${jumpMs}ms`}`);
  }

  /**
   * The `wipe` fault: the node crashes and its disk is emptied (no hard state, no log, no
   * membership). Restarted (restart), it is a new node with the same identity: it starts without
   * the bootstrap membership and joins (onJoin).
   */
  wipe(id: NodeId): void {
    const n = this.sim(id);
    if (n.up) this.crash(id);
    n.disk.wipe();
    this.joiners.add(id);
    this.counts.wipes++;
    this.trace(`${id} DISK WIPED (no hard state, no log, no membership): it rejoins as a new node when restarted`);
  }

  /**
   * No membership change is in flight at the node: its whole log is on its disk, and none of the
   * entries it has not applied is a conf entry.
   */
  confSettled(id: NodeId): boolean {
    const st = this.status(id);
    const disk = this.sim(id).disk;
    if (!st || disk.lastIndex() < st.lastIndex) return false;
    for (let i = st.applied + 1; i <= st.lastIndex; i++) if (disk.entry(i)?.type !== 'normal') return false;
    return true;
  }

  /** The node's incarnation (bumped by every crash and restart). */
  incarnation(id: NodeId): number {
    return this.sim(id).incarnation;
  }

  pause(id: NodeId): void {
    this.counts.pauses++;
    this.sim(id).pause();
    this.trace(`${id} PAUSE`);
  }

  resume(id: NodeId): void {
    if (!this.sim(id).paused) return;
    this.trace(`${id} RESUME`);
    this.sim(id).resume();
  }
}

export function describeMembership(m: Membership): string {
  const l = m.conf.learners.length > 0 ? ` learners [${m.conf.learners.join(',')}]` : '';
  return `@${m.index} voters [${m.conf.voters.join(',')}]${l}`;
}
