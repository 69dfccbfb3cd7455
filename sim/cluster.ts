import type { RaftNode, RaftStatus } from '../src/raft/raft.js';
import type { SeededRng } from '../src/raft/rng.js';
import type {
  ConfChange, ConfState, Entry, Membership, Message, NodeId, PersistedState, ProposeResult, RaftConfig, ReadFailure,
  ReadState,
} from '../src/raft/types.js';
import { SafetyChecker, type Violation } from './checkers.js';
import type { DiskBatch } from './disk.js';
import { EventQueue } from './events.js';
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
}

export type RaftFactory = (config: RaftConfig, restored: PersistedState | null, bootstrap: ConfState) => RaftNode;

/**
 * One simulated cluster: the nodes, the network between them, the checkers listening to both,
 * and the surfaces the workload (ClusterApi) and the nemesis (NemesisTarget) act through.
 */
export class Cluster<R> implements ClusterApi<R>, NemesisTarget {
  readonly queue = new EventQueue();
  readonly checker = new SafetyChecker();
  readonly net: SimNetwork;
  readonly nodes: readonly NodeId[];
  readonly sims = new Map<NodeId, SimNode<R>>();
  /** Told about every completed write (the nemesis crashes nodes at such moments). */
  onSynced: ((id: NodeId, termOrVote: boolean) => void) | null = null;
  /** Told when a node's role or term changes (a scenario's timeline). */
  onRole: ((id: NodeId, role: string, term: number) => void) | null = null;
  /** The first violation, from the checkers or anywhere else; the run stops on it. */
  violation: Violation | null = null;
  readonly counts = { crashes: 0, restarts: 0, pauses: 0, leaderChanges: 0, snapshotsInstalled: 0, compactions: 0 };
  private readonly last = new Map<NodeId, { role: string; term: number }>();
  private readonly bootstrap: ConfState;

  constructor(private readonly s: ClusterSetup<R>) {
    this.nodes = s.ids;
    this.bootstrap = s.bootstrap ?? { voters: [...s.ids], learners: [] };
    this.net = new SimNetwork(this.queue, s.rngs.net, s.net, s.trace, (w, to) => this.deliver(w, to));
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
  }

  private deliver(w: Wire, to: NodeId): void {
    this.sims.get(to)?.deliver(w);
  }

  private nodeEnv(): NodeEnv<R> {
    const s = this.s;
    return {
      queue: this.queue,
      trace: s.trace,
      makeRaft: (id, restored) => {
        const n = this.sim(id);
        const config: RaftConfig = { ...s.raft, id, rng: s.rngs.raft.fork(`${id}#${n.incarnation}`) };
        return s.makeRaft(config, restored, this.bootstrap);
      },
      makeStateMachine: (id) => s.workload.createStateMachine(id),
      fsyncDelay: () => s.rngs.disk.range(Math.max(1, s.fsyncMean - 1), s.fsyncMean + 2),
      send: (m: Message) => this.net.send(m),
      persisted: (node, batch, problems, termBefore) => this.persisted(node, batch, problems, termBefore),
      restored: (node, snap, hash) => {
        this.counts.snapshotsInstalled++;
        this.trace(`${node.id} installed snapshot ${snap.meta.index}/t${snap.meta.term} (${snap.data.length} bytes)`);
        this.checker.restored(node.id, snap.meta, hash);
      },
      loaded: (node, snap, hash) => this.checker.restored(node.id, snap.meta, hash),
      applied: (node, e, hash) => this.checker.applied(node.id, e, hash),
      observe: (node, st) => this.observe(node, st),
      coreError: (node, where, err) => {
        const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
        this.fail('core error', `${node.id} threw in ${where}: ${text.split('\n').slice(0, 6).join('\n    ')}`);
      },
      fail: (invariant, detail) => this.fail(invariant, detail),
      onApplied: (id: NodeId, e: Entry, r: R) => s.workload.onApplied(id, e, r),
      onReadState: (id: NodeId, rs: ReadState) => s.workload.onReadState(id, rs),
      onReadFailure: (id: NodeId, rf: ReadFailure) => s.workload.onReadFailure(id, rf),
    };
  }

  private persisted(node: SimNode<R>, b: DiskBatch, problems: readonly string[], termBefore: number): void {
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

  propose(id: NodeId, data: Uint8Array): ProposeResult | null {
    return this.sim(id).guard('propose', (r) => r.propose(data)) ?? null;
  }

  proposeConfChange(id: NodeId, cc: ConfChange): ProposeResult | null {
    return this.sim(id).guard('proposeConfChange', (r) => r.proposeConfChange(cc)) ?? null;
  }

  transferLeadership(id: NodeId, to: NodeId): boolean {
    return this.sim(id).guard('transferLeadership', (r) => r.transferLeadership(to)) ?? false;
  }

  readIndex(id: NodeId, ctx: string): boolean {
    return this.sim(id).guard('readIndex', (r) => {
      r.readIndex(ctx);
      return true;
    }) ?? false;
  }

  appliedIndex(id: NodeId): number {
    return this.sim(id).applied;
  }

  stateMachine(id: NodeId): StateMachine<R> | null {
    return this.sim(id).sm;
  }

  status(id: NodeId): RaftStatus | null {
    return this.sim(id).raft?.status() ?? null;
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
