import { at } from '../src/invariant.js';
import { RaftNode } from '../src/raft/raft.js';
import { SeededRng } from '../src/raft/rng.js';
import { defaultRaftConfig, type Membership, type NodeId } from '../src/raft/types.js';
import { Admin } from './admin.js';
import { Adversary, WIRING_PLANTS } from './adversary.js';
import type { Violation } from './checkers.js';
import { Cluster, type ClusterSetup, type RaftFactory } from './cluster.js';
import { KvWorkload } from './kv-workload.js';
import { Liveness } from './liveness.js';
import { SimMembership, sweepPolicy } from './membership.js';
import { describeMix, drawFaultMix, FAULT_KINDS, Nemesis, type FaultKind, type NemesisTarget } from './nemesis.js';
import type { NodeTiming } from './node.js';
import { plantedScheduler } from './scheduler-plants.js';
import { ALL_VOTERS_UP_TO, DEFAULT_BIG_VOTERS, maxVoters, stateHashStride } from './scale.js';
import { SchedulerWorkload } from './scheduler-workload.js';
import { Trace } from './trace.js';
import type { Workload, WorkloadExtras } from './workload.js';

export const WORKLOADS = ['kv', 'scheduler'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface SimOptions {
  readonly seed: number;
  /** Default 'kv'. */
  readonly workload?: WorkloadName;
  /**
   * Run with a planted bug: a broken state machine (scheduler workload only, scheduler-plants.ts),
   * or broken wiring (any workload, WIRING_PLANTS in adversary.ts).
   */
  readonly plant?: string;
  /** Default 5. */
  readonly nodes?: number;
  /** Voters at the start, the rest learners (default: every node up to 9 nodes, else 5; sim/scale.ts). */
  readonly voters?: number;
  /** Simulated length of the safety phase (faults on), ms. */
  readonly durationMs?: number;
  /** How long after the heal the cluster has to converge, ms. Default: 20 maximal election timeouts. */
  readonly liveBoundMs?: number;
  /** Fault kinds a seed may draw from (default: all). */
  readonly faults?: readonly FaultKind[];
  /** Lines kept for a violation report (default 40). */
  readonly traceCapacity?: number;
  /** Every trace line, as it happens. */
  readonly traceSink?: (line: string) => void;
  /** Hash the whole trace (the determinism check). */
  readonly hashTrace?: boolean;
  /** Build each node's Raft core (default: the real RaftNode). */
  readonly makeRaft?: RaftFactory;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly ok: boolean;
  readonly violation: Violation | null;
  readonly events: number;
  readonly simTimeMs: number;
  /** The last trace lines, oldest first. */
  readonly recent: readonly string[];
  readonly traceHash: number;
  /** The command that replays this run. */
  readonly replay: string;
  /** A few deterministic lines describing the run. */
  readonly summary: readonly string[];
}

export const DEFAULT_NODES = 5;
export const DEFAULT_DURATION_MS = 20_000;
const TICK_MS = 10;
/** Simulated wall clocks start here, so entry times look like real ones. */
const EPOCH = 1_700_000_000_000;
/** A run that executes this many events is stuck in a loop somewhere. */
const MAX_EVENTS = 20_000_000;

export function replayCommand(
  seed: number,
  nodes: number,
  durationMs: number,
  workload: WorkloadName = 'kv',
  plant?: string,
  voters?: number,
): string {
  const v = voters === undefined ? '' : ` --voters ${voters}`;
  const d = durationMs === DEFAULT_DURATION_MS ? '' : ` --duration ${durationMs}`;
  const w = workload === 'kv' ? '' : ` --workload ${workload}`;
  const p = plant === undefined ? '' : ` --plant ${plant}`;
  return `npm run sim -- --seed ${seed} --nodes ${nodes}${v}${d}${w}${p}`;
}

/** One deterministic run of the chosen workload (default KV): everything follows from `seed`. */
export function runSimulation(o: SimOptions): SimResult {
  const wiring = o.plant !== undefined && o.plant in WIRING_PLANTS;
  if (o.workload !== 'scheduler') {
    if (o.plant !== undefined && !wiring) throw new Error('a planted fault in the state machine needs the scheduler workload');
    return runWorkload(o, new KvWorkload());
  }
  const scheduler = o.plant === undefined || wiring ? undefined : plantedScheduler(o.plant);
  return runWorkload(o, new SchedulerWorkload(scheduler ? { scheduler } : {}));
}

export function runWorkload<R>(o: SimOptions, workload: Workload<R> & WorkloadExtras): SimResult {
  const nodeCount = o.nodes ?? DEFAULT_NODES;
  const durationMs = o.durationMs ?? DEFAULT_DURATION_MS;
  const voterCount = Math.min(o.voters ?? (nodeCount <= ALL_VOTERS_UP_TO ? nodeCount : DEFAULT_BIG_VOTERS), maxVoters(nodeCount));
  const root = new SeededRng(o.seed);
  // Every subsystem draws from its own stream: a new draw in one never reshuffles another.
  const rngs = {
    config: root.fork('config'),
    net: root.fork('net'),
    disk: root.fork('disk'),
    nemesis: root.fork('nemesis'),
    workload: root.fork('workload'),
    admin: root.fork('admin'),
    raft: root.fork('raft'),
    timing: root.fork('timing'),
    adversary: root.fork('adversary'),
    join: root.fork('join'),
  };
  const trace = new Trace({ capacity: o.traceCapacity ?? 40, sink: o.traceSink, hashAll: o.hashTrace });
  const ids: NodeId[] = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);

  const c = rngs.config;
  const raft = {
    ...defaultRaftConfig,
    maxInflight: c.pick([1, 4, 16, 64]),
    maxMsgBytes: c.pick([128, 1024, 64 << 10]),
    // Small enough that a snapshot of the KV state takes several chunks.
    snapshotChunkBytes: c.range(64, 256),
    maxUncommittedBytes: c.pick([2048, 64 << 20]),
    // Production runs both; safety must not depend on either, and without CheckQuorum a deposed
    // leader lingers, which is what a ReadIndex bug needs to show.
    preVote: c.chance(0.8),
    checkQuorum: c.chance(0.8),
  };
  const trustForger = o.plant === 'trust-forger';
  const drawn = drawFaultMix(rngs.nemesis, o.faults ?? FAULT_KINDS);
  // The trust-forger plant needs a forger to trust.
  const mix = trustForger && !drawn.kinds.includes('forger') ? { ...drawn, kinds: [...drawn.kinds, 'forger' as const] } : drawn;
  const skew = mix.kinds.includes('skew');
  const maxSkew = workload.maxSkewMs ?? 500;
  const timing = new Map<NodeId, NodeTiming>();
  for (const id of ids) {
    timing.set(id, {
      tickMs: skew ? TICK_MS + c.range(-2, 2) : TICK_MS,
      clockOffset: EPOCH + (skew ? c.range(-maxSkew, maxSkew) : 0),
      compactEvery: c.range(30, 150),
    });
  }
  const maxElectionMs = 2 * raft.electionTicks * (TICK_MS + 2);
  const liveBoundMs = o.liveBoundMs ?? 20 * maxElectionMs;
  const setup: ClusterSetup<R> = {
    ids,
    raft,
    timing,
    workload,
    trace,
    net: { delayMean: mix.delayMean, reorder: mix.kinds.includes('reorder'), loss: mix.loss, dup: mix.dup },
    fsyncMean: c.range(1, 4),
    rngs,
    makeRaft: o.makeRaft ?? ((config, restored, bootstrap) => new RaftNode(config, restored, bootstrap)),
    trustForger,
    // Up to 9 nodes every node votes, as the simulator always ran; a big cluster's rest are learners.
    ...(voterCount < nodeCount ? { bootstrap: { voters: ids.slice(0, voterCount), learners: ids.slice(voterCount) } } : {}),
    stateHashEvery: stateHashStride(nodeCount),
  };
  const cluster = new Cluster(setup);
  const membership = new SimMembership(cluster, rngs.join, sweepPolicy(voterCount));
  const changeAt = membership.change.bind(membership);
  const admin = new Admin(cluster, changeAt, rngs.admin, nodeCount > 3 && c.chance(0.7), c.chance(0.5), () => membership.rejoining());
  cluster.onStart = (id) => membership.started(id);
  cluster.onJoin = (id) => membership.join(id);
  const nemesis = new Nemesis(nemesisTarget(cluster, workload, membership), rngs.nemesis, mix);
  cluster.onSynced = (id, termOrVote) => nemesis.synced(id, termOrVote);
  const adversary = new Adversary(cluster, rngs.adversary, workload, mix.kinds.includes('forger'), mix.kinds.includes('liar'));
  const summary = [
    `seed ${o.seed}: ${nodeCount} nodes${voterCount < nodeCount ? ` (${voterCount} voters)` : ''}, ${durationMs}ms of faults, ${describeMix(mix)}`,
    `raft: maxInflight ${raft.maxInflight}, maxMsgBytes ${raft.maxMsgBytes}, snapshot chunks of ${raft.snapshotChunkBytes} bytes, ` +
      `maxUncommittedBytes ${raft.maxUncommittedBytes}, preVote ${raft.preVote}, checkQuorum ${raft.checkQuorum}, fsync ~${setup.fsyncMean}ms`,
  ];

  trace.add(0, at(summary, 0, 'a summary has a first line'));
  workload.attach?.({
    durationMs,
    clockOffset: (id) => (timing.get(id) as NodeTiming).clockOffset,
    linkBlocked: (from, to) => cluster.net.isBlocked(from, to),
    isLeader: (id) => cluster.available(id) && cluster.status(id)?.role === 'leader',
    clusterTime: (id) => cluster.clusterTime(id) ?? 0,
  });
  cluster.startAll();
  workload.start(cluster, rngs.workload);
  admin.start();
  nemesis.start();
  adversary.start();

  const liveness = new Liveness(cluster, workload);
  cluster.queue.at(durationMs, () => {
    admin.stop();
    adversary.stop();
    nemesis.heal();
    // A second after the heal, once restarted nodes have read their logs back.
    if (!raft.preVote && !raft.checkQuorum) cluster.queue.at(durationMs + 1000, () => stopRemovedMembers(cluster));
    workload.onHeal();
    liveness.start(liveBoundMs);
  });

  let error: Violation | null = null;
  try {
    const done = (): boolean => liveness.converged !== null && (workload.settled?.() ?? true);
    while (!cluster.firstViolation() && !done() && !liveness.failure && cluster.queue.step()) {
      if (cluster.queue.executed >= MAX_EVENTS) {
        cluster.fail('runaway', `${MAX_EVENTS} events without converging`);
      }
    }
  } catch (err) {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    error = { invariant: 'simulator error', detail: text.split('\n').slice(0, 8).join('\n    ') };
  }
  const violation = error ?? cluster.firstViolation() ?? liveness.failure;
  const now = cluster.queue.now;
  if (violation) trace.add(now, `VIOLATION ${violation.invariant}: ${violation.detail}`);
  const conv = liveness.converged;
  summary.push(
    conv ? `converged ${conv.at - durationMs}ms after the heal: every member applied the probe at index ${conv.index}` : 'did not converge',
    `${cluster.queue.executed} events, ${now}ms simulated; ${cluster.counts.leaderChanges} leader elections, ` +
      `${cluster.counts.crashes} crashes, ${cluster.counts.pauses} pauses, ${cluster.counts.compactions} compactions, ` +
      `${cluster.counts.snapshotsInstalled} snapshots installed; network: ${JSON.stringify(cluster.net.stats)}`,
    `${workload.summary()}; admin: ${JSON.stringify(admin.counts)}`,
    `membership: ${JSON.stringify(membership.counts)}; adversary: ${JSON.stringify({ ...adversary.counts, liar: adversary.liar })}, ` +
      `${cluster.counts.wipes} disks wiped, ${cluster.counts.clockJumps} clock jumps`,
  );
  return {
    seed: o.seed,
    nodes: nodeCount,
    ok: violation === null,
    violation,
    events: cluster.queue.executed,
    simTimeMs: now,
    recent: trace.recent(),
    traceHash: trace.hash,
    replay: replayCommand(o.seed, nodeCount, durationMs, workload.name === 'scheduler' ? 'scheduler' : 'kv', o.plant, o.voters),
    summary,
  };
}

/**
 * The cluster as the nemesis acts on it: telling the workload when it pauses and resumes a node,
 * and the membership logic when a disk is wiped.
 */
function nemesisTarget<R>(c: Cluster<R>, w: WorkloadExtras, membership: SimMembership<R>): NemesisTarget {
  return {
    nodes: c.nodes,
    net: c.net,
    now: () => c.now(),
    after: (ms, fn) => c.after(ms, fn),
    isUp: (id) => c.isUp(id),
    isPaused: (id) => c.isPaused(id),
    crash: (id) => c.crash(id),
    restart: (id) => c.restart(id),
    pause: (id) => {
      c.pause(id);
      w.onPause?.(id);
    },
    resume: (id) => {
      const was = c.isPaused(id);
      c.resume(id);
      if (was) w.onResume?.(id);
    },
    leader: () => c.leader(),
    trace: (line) => c.trace(line),
    wipe: (id) => {
      c.wipe(id);
      membership.wiped(id);
    },
    wipeable: () => membership.wipeable(),
    jumpClock: (id, ms) => c.jumpClock(id, ms),
  };
}

/**
 * With neither pre-vote nor check-quorum (drawn to test safety; a node runs both), Raft cannot
 * promise liveness while a removed member that never learned of its removal campaigns on: each of
 * its vote requests raises the term of the members whose older configuration still lists it, and
 * their answers end the others' elections (Raft thesis §4.2.3). So a second after the heal such a
 * member is stopped, as an operator stops a machine taken out of the cluster.
 */
function stopRemovedMembers<R>(cluster: Cluster<R>): void {
  // Out of both the newest membership some node has committed and the newest any node has appended:
  // an appended one may yet be cut from the log, and a committed one may be followed by an appended
  // one that takes the node back (as a learner); stopping it then would stop a member for good.
  let committed: Membership | null = null;
  for (const id of cluster.nodes) {
    const st = cluster.status(id);
    const mm = st?.membership;
    if (st && mm && mm.index <= st.commit && (!committed || mm.index > committed.index)) committed = mm;
  }
  const members = new Set<NodeId>();
  for (const m of [committed, cluster.newestMembership()]) {
    if (m === null) return;
    for (const id of [...m.conf.voters, ...m.conf.learners]) members.add(id);
  }
  for (const id of cluster.nodes) {
    if (members.has(id) || !cluster.isUp(id)) continue;
    cluster.trace(`heal: ${id} was removed and pre-vote and check-quorum are off: stopped`);
    cluster.crash(id);
  }
}
