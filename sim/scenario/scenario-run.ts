// `meshrun sim SCENARIO.yaml`: one deterministic run of a user's scenario on the real Raft core and
// driver, scheduler state machine, time keeper, worker and claim policy, with the production node's
// timings (50 ms ticks, elections after 0.5-1 s, 5 s leases, 1 s load gossip, the time keeper every
// 100 ms). Faults come from the scenario's schedule; at its end whatever is still broken heals and
// every job must finish within a bound.
// The result holds the timeline, the checkers' verdict and every job's end state.
import { known } from '../../src/invariant.js';
import { RaftNode } from '../../src/raft/raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import { defaultMembershipPolicy } from '../../src/node/membership.js';
import { NODE_TIMINGS } from '../../src/node/timings.js';
import { defaultRaftConfig, type NodeId } from '../../src/raft/types.js';
import type { JobId, TaskState } from '../../src/scheduler/types.js';
import { WORKER_DEFAULTS } from '../../src/worker/worker.js';
import type { Violation } from '../checkers.js';
import { Cluster, type ClusterSetup } from '../cluster.js';
import { Liveness } from '../liveness.js';
import { SimMembership } from '../membership.js';
import { stateHashStride } from '../scale.js';
import type { NodeTiming } from '../node.js';
import { SchedulerWorkload, type NodeConfig } from '../scheduler-workload.js';
import type { SchedulerFactory } from '../../src/node/scheduler-host.js';
import { SchedulerStateMachine, type SchedulerApplied } from '../scheduler-sm.js';
import { Trace } from '../trace.js';
import type { Scenario } from './scenario-file.js';
import { planScenarioJob } from './scenario-plans.js';
import { ScriptedFaults } from './scripted-faults.js';
import type { TimelineEvent } from './timeline.js';
import { TimelineRecorder, type RunStats } from './timeline-recorder.js';
import { verdictOf, type VerdictRow } from './verdict.js';

const {
  tickMs: TICK_MS,
  electionTicks: ELECTION_TICKS,
  heartbeatTicks: HEARTBEAT_TICKS,
  gossipMs: GOSSIP_MS,
  timeKeeperMs: TIME_KEEPER_MS,
} = NODE_TIMINGS;
/** A LAN: about a millisecond each way. */
const BASE_DELAY_MS = 1;
/** Simulated wall clocks start here, so entry times look like real ones. */
const EPOCH = 1_700_000_000_000;
/** A run that executes this many events is stuck in a loop somewhere. */
const MAX_EVENTS = 20_000_000;
/** Trace lines kept to show with a violation. */
const TRACE_LINES = 30;

export interface TaskEnd {
  readonly task: string;
  readonly state: TaskState;
  readonly node: string | null;
  readonly attempt: number;
  readonly exitCode: number | null;
  readonly reason: string | null;
}

export interface JobEnd {
  readonly name: string;
  readonly id: string | null;
  readonly state: string;
  readonly tasks: readonly TaskEnd[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly source: string;
  readonly seed: number;
  readonly nodes: readonly { readonly name: string; readonly role: 'voter' | 'learner'; readonly slots: number; readonly skewMs: number }[];
  readonly dags: readonly { readonly name: string; readonly file: string; readonly tasks: number; readonly at: number }[];
  readonly ok: boolean;
  readonly verdict: readonly VerdictRow[];
  /** The violation's last trace lines (empty when the run passed). */
  readonly trace: readonly string[];
  readonly timeline: readonly TimelineEvent[];
  readonly jobs: readonly JobEnd[];
  readonly healAt: number;
  readonly endedAt: number;
  readonly stats: Readonly<RunStats>;
}

export interface ScenarioOptions {
  /** Builds each replica's Scheduler (default: the real one); tests plant a bug to see the verdict catch it. */
  readonly scheduler?: SchedulerFactory;
  /** Compare the replicas' whole state after every this many entries (default: stateHashStride of the cluster's size). */
  readonly stateHashEvery?: number;
  /** Handed the cluster and the workload before they start (the sim-scale benchmark counts through it). */
  readonly observe?: (run: { readonly cluster: Cluster<SchedulerApplied>; readonly workload: SchedulerWorkload }) => void;
}

export function runScenario(s: Scenario, seed: number, o: ScenarioOptions = {}): ScenarioResult {
  const root = new SeededRng(seed);
  const rngs = {
    net: root.fork('net'),
    disk: root.fork('disk'),
    raft: root.fork('raft'),
    timing: root.fork('timing'),
    plans: root.fork('plans'),
    workload: root.fork('workload'),
    join: root.fork('join'),
  };
  const trace = new Trace({ capacity: TRACE_LINES });
  const plans = s.dags.map((d) => ({ plan: planScenarioJob(s, d, rngs.plans), submitAt: d.at }));
  const schedules = s.schedules.map((x) => ({
    planned: { spec: x.spec, plan: planScenarioJob(s, { file: x.file, spec: x.spec.dag, at: x.at }, rngs.plans) },
    putAt: x.at,
  }));
  const rec = new TimelineRecorder(plans.map((p) => p.plan));
  const nodeConfig = new Map<NodeId, NodeConfig>(s.nodes.map((n) => [n, { slots: s.slots.get(n) ?? 1, handlers: ['noop', 'sleep'] }]));
  const workload = new SchedulerWorkload({
    ...(o.scheduler ? { scheduler: o.scheduler } : {}),
    fixed: {
      nodes: nodeConfig,
      jobs: plans,
      leaseMs: WORKER_DEFAULTS.leaseMs,
      stealAfterMs: WORKER_DEFAULTS.stealAfterMs,
      gossipMs: GOSSIP_MS,
      timeKeeperMs: TIME_KEEPER_MS,
      schedules,
    },
    observer: rec,
  });
  const timing = new Map<NodeId, NodeTiming>(
    s.nodes.map((n) => [
      n,
      {
        tickMs: TICK_MS,
        clockOffset: EPOCH + (s.skew.get(n) ?? 0),
        compactEvery: 10_000,
      },
    ]),
  );
  /** Each node's clock minus simulated time, as set now (a restarted process reads it). */
  const offsets = new Map<NodeId, number>(s.nodes.map((n) => [n, (timing.get(n) as NodeTiming).clockOffset]));
  const setup: ClusterSetup<SchedulerApplied> = {
    ids: s.nodes,
    raft: { ...defaultRaftConfig, electionTicks: ELECTION_TICKS, heartbeatTicks: HEARTBEAT_TICKS },
    timing,
    net: { delayMean: BASE_DELAY_MS, reorder: false, loss: 0, dup: 0 },
    fsyncMean: 1,
    workload,
    trace,
    rngs: { net: rngs.net, disk: rngs.disk, raft: rngs.raft, timing: rngs.timing },
    makeRaft: (config, restored, bootstrap) => new RaftNode(config, restored, bootstrap),
    bootstrap: { voters: [...s.voters], learners: [...s.learners] },
    stateHashEvery: o.stateHashEvery ?? stateHashStride(s.nodes.length),
  };
  const cluster = new Cluster(setup);
  // Every node runs the node's membership services (sim/membership.ts) with the node's own policy:
  // as many voters as the scenario names (the node's --voters), a silent one replaced after 30 s.
  const membership = new SimMembership(cluster, rngs.join, { ...defaultMembershipPolicy, targetVoters: s.voters.length });
  cluster.onStart = (id) => membership.started(id);
  cluster.onJoin = (id) => membership.join(id);
  rec.now = () => cluster.now();
  cluster.onRole = (id, role, term) => rec.role(id, role, term);
  const target = {
    nodes: cluster.nodes,
    net: cluster.net,
    now: () => cluster.now(),
    after: (ms: number, fn: () => void) => cluster.after(ms, fn),
    isUp: (id: NodeId) => cluster.isUp(id),
    isPaused: (id: NodeId) => cluster.isPaused(id),
    crash: (id: NodeId) => {
      rec.crashed(id);
      cluster.crash(id);
    },
    restart: (id: NodeId) => {
      rec.emit({ kind: 'note', text: `${id} restarts from its disk` });
      cluster.restart(id);
    },
    pause: (id: NodeId) => {
      cluster.pause(id);
      workload.onPause(id);
    },
    resume: (id: NodeId) => {
      const was = cluster.isPaused(id);
      cluster.resume(id);
      if (was) workload.onResume(id);
    },
    leader: () => cluster.leader(),
    trace: (line: string) => cluster.trace(line),
    setClock: (id: NodeId, skewMs: number) => {
      const offset = EPOCH + skewMs;
      offsets.set(id, offset);
      cluster.setClockOffset(id, offset);
      workload.onClockSet(id, offset);
    },
  };
  const faults = new ScriptedFaults(target, BASE_DELAY_MS, (e) => rec.emit(e));

  workload.attach({
    durationMs: s.healAt,
    clockOffset: (id) => known(offsets.get(id), 'every node has a clock offset'),
    linkBlocked: (from, to) => cluster.net.isBlocked(from, to),
    isLeader: (id) => cluster.available(id) && cluster.status(id)?.role === 'leader',
    clusterTime: (id) => cluster.clusterTime(id) ?? 0,
  });
  o.observe?.({ cluster, workload });
  cluster.startAll();
  workload.start(cluster, rngs.workload);
  faults.schedule(s.faults);
  const liveness = new Liveness(cluster, workload);
  cluster.queue.at(s.healAt, () => {
    faults.healAll();
    workload.onHeal();
    liveness.start(20 * 2 * ELECTION_TICKS * TICK_MS);
  });

  let error: Violation | null = null;
  try {
    const done = (): boolean => liveness.converged !== null && workload.settled();
    while (!cluster.firstViolation() && !done() && !liveness.failure && cluster.queue.step()) {
      if (cluster.queue.executed >= MAX_EVENTS) cluster.fail('runaway', `${MAX_EVENTS} events without every job finishing`);
    }
  } catch (err) {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    error = { invariant: 'simulator error', detail: text.split('\n').slice(0, 8).join('\n    ') };
  }
  const violation = error ?? cluster.firstViolation() ?? liveness.failure;
  return {
    scenario: s.name,
    source: s.source,
    seed,
    nodes: s.nodes.map((n) => ({
      name: n,
      role: s.voters.includes(n) ? 'voter' : 'learner',
      slots: s.slots.get(n) ?? 1,
      skewMs: s.skew.get(n) ?? 0,
    })),
    dags: plans.map((p, i) => ({ name: p.plan.name, file: s.dags[i]?.file ?? '', tasks: p.plan.tasks.length, at: p.submitAt })),
    ok: violation === null,
    verdict: verdictOf(violation),
    trace: violation ? trace.recent() : [],
    timeline: rec.timeline,
    jobs: jobEnds(cluster, s, rec.names),
    healAt: s.healAt,
    endedAt: cluster.now(),
    stats: rec.stats,
  };
}

/** Every DAG's job as the replicas hold it at the end (any up member: they agree, or the verdict says so). */
function jobEnds(c: Cluster<SchedulerApplied>, s: Scenario, names: ReadonlyMap<JobId, string>): JobEnd[] {
  const view = c.nodes.map((n) => c.stateMachine(n)).find((sm): sm is SchedulerStateMachine => sm instanceof SchedulerStateMachine)?.view;
  return s.dags.map((d) => {
    const id = [...names].find(([, name]) => name === d.spec.name)?.[0] ?? null;
    const job = id === null ? undefined : view?.job(id);
    if (!job) return { name: d.spec.name, id, state: id === null ? 'never submitted' : 'unknown', tasks: [] };
    const tasks = Object.entries(job.tasks).map(([task, t]) => ({
      task,
      state: t.state,
      node: t.node,
      attempt: t.attempt,
      exitCode: t.exitCode,
      reason: t.reason,
    }));
    return { name: d.spec.name, id, state: job.state, tasks };
  });
}
