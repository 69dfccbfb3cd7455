// The node's Prometheus metrics (GET /metrics): one prom-client registry per node (several nodes
// may share a process in tests and benchmarks), fed from what the node already has: the scheduler's
// effects and counters, the Raft core's status and counters, the driver's Readies, the gossip
// counters. Nothing here scans tasks on a scrape: tasks by state are kept up to date from the
// effects, and recounted from the jobs' per-state counts only after a change the effects do not
// describe task by task (a submit, a removal, a snapshot restore).
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RaftStatus } from '../raft/raft.js';
import type { ProposeResult, RaftStats, Ready } from '../raft/types.js';
import type { Effect, JobSummary, Ms, SchedulerStats, TaskState } from '../scheduler/types.js';

const TASK_STATES: readonly TaskState[] = ['waiting', 'ready', 'running', 'succeeded', 'failed', 'skipped'];
/** Proposals waiting for their entry to be applied here, for the latency histogram; beyond it, new ones are not timed. */
const MAX_TIMED_PROPOSALS = 10_000;
/** Running tasks whose start is remembered for the duration histogram. */
const MAX_TIMED_TASKS = 200_000;

/** Where the metrics read the values that already exist elsewhere (read on each scrape). */
export interface MetricSources {
  readonly raftStatus: () => Pick<RaftStatus, 'term' | 'commit' | 'applied' | 'role'>;
  readonly raftStats: () => Readonly<RaftStats>;
  readonly schedulerStats: () => Readonly<SchedulerStats>;
  /** Scheduler time (ms): the clock task durations are measured with. */
  readonly schedulerNow: () => Ms;
  /** Every job's per-state counts (O(jobs), no task scan); read only after a submit, removal or restore. */
  readonly jobs: () => readonly Pick<JobSummary, 'counts'>[];
  /** Gossip counters by kind (published, accepted, rejectedInvalid, ...). */
  readonly gossipStats?: () => Readonly<Record<string, number>>;
}

export interface NodeMetrics {
  readonly registry: Registry;
  /** Every applied batch of scheduler effects (SchedulerHost.onEffects). */
  onEffects(effects: readonly Effect[]): void;
  /** The scheduler state was replaced by a snapshot. */
  onRestore(): void;
  /** A proposal handed to the Raft core, with its immediate result. */
  onPropose(r: ProposeResult): void;
  /** An entry at `index` was applied on this node. */
  onApplied(index: number): void;
  /** After each driver cycle: snapshots taken (compaction) and received. */
  onReady(rd: Pick<Ready, 'snapshot' | 'compaction'>): void;
  /** The Prometheus text exposition of this node's metrics and the process's default ones. */
  text(): Promise<string>;
  readonly contentType: string;
}

let processRegistry: Registry | null = null;
/** Process metrics (CPU, memory, event loop, GC) are the process's, not a node's: collected once per process. */
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A counter whose value is a monotonic counter kept elsewhere (re-read on each scrape). */
function mirrorCounter(registry: Registry, name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function createNodeMetrics(src: MetricSources, opts: { readonly defaultMetrics?: boolean } = {}): NodeMetrics {
  const registry = new Registry();
  const reg = [registry];

  new Gauge({
    name: 'meshrun_raft_term',
    help: 'Current Raft term',
    registers: reg,
    collect() {
      this.set(src.raftStatus().term);
    },
  });
  new Gauge({
    name: 'meshrun_raft_commit_index',
    help: 'Raft commit index known to this node',
    registers: reg,
    collect() {
      this.set(src.raftStatus().commit);
    },
  });
  new Gauge({
    name: 'meshrun_raft_applied_index',
    help: 'Raft index applied to the state machine on this node',
    registers: reg,
    collect() {
      this.set(src.raftStatus().applied);
    },
  });
  new Gauge({
    name: 'meshrun_raft_is_leader',
    help: '1 when this node is the Raft leader',
    registers: reg,
    collect() {
      this.set(src.raftStatus().role === 'leader' ? 1 : 0);
    },
  });
  mirrorCounter(registry, 'meshrun_raft_leader_changes_total', 'Leader changes this node observed', () => src.raftStats().leaderChanges);
  mirrorCounter(
    registry,
    'meshrun_raft_snapshots_sent_total',
    'Snapshots this node sent to followers',
    () => src.raftStats().snapshotsSent,
  );
  mirrorCounter(
    registry,
    'meshrun_raft_snapshots_installed_total',
    'Snapshots from the leader this node installed',
    () => src.raftStats().snapshotsInstalled,
  );
  // What the trust boundary refused: a rising count means a peer is misbehaving (or attacking).
  new Counter({
    name: 'meshrun_raft_refused_total',
    help: 'Raft messages and proposals refused, by reason (unknown node, rival leader, forwarded conf change, oversize snapshot, malformed, stale term)',
    labelNames: ['reason'],
    registers: reg,
    collect() {
      const s = src.raftStats();
      this.reset();
      this.inc({ reason: 'unknown_node' }, s.droppedUnknownNode);
      this.inc({ reason: 'rival_leader' }, s.droppedRivalLeader);
      this.inc({ reason: 'forwarded_conf' }, s.refusedForwardedConf);
      this.inc({ reason: 'oversize_snapshot' }, s.refusedSnapshots);
      this.inc({ reason: 'malformed' }, s.droppedMalformed);
      this.inc({ reason: 'stale_term' }, s.droppedStaleTerm);
    },
  });
  mirrorCounter(
    registry,
    'meshrun_raft_lost_acknowledged_total',
    'Followers found holding less of the log than they acknowledged (lost or restored disk)',
    () => src.raftStats().lostAcknowledged,
  );

  const proposals = new Counter({
    name: 'meshrun_raft_proposals_total',
    help: 'Proposals this node handed to Raft, by result (appended, forwarded to the leader, or the refusal reason)',
    labelNames: ['result'],
    registers: reg,
  });
  const proposalLatency = new Histogram({
    name: 'meshrun_raft_proposal_latency_seconds',
    help: 'From a proposal on the leader to its entry being applied on this node',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: reg,
  });
  const snapshots = new Counter({
    name: 'meshrun_snapshots_total',
    help: 'State snapshots on this node: taken (log compaction) or received from the leader',
    labelNames: ['kind'],
    registers: reg,
  });
  const snapshotBytes = new Gauge({
    name: 'meshrun_snapshot_size_bytes',
    help: 'Size of the newest snapshot on this node',
    registers: reg,
  });

  const taskGauge = new Gauge({
    name: 'meshrun_tasks',
    help: 'Tasks in the scheduler state, by state',
    labelNames: ['state'],
    registers: reg,
    collect: () => refreshTasks(),
  });
  const taskDuration = new Histogram({
    name: 'meshrun_task_duration_seconds',
    help: 'Running time of task attempts (scheduler time, claim to finish), by outcome',
    labelNames: ['outcome'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: reg,
  });
  const jobEvents = new Counter({
    name: 'meshrun_jobs_finished_total',
    help: 'Jobs that ended, by final state',
    labelNames: ['state'],
    registers: reg,
  });
  // Schedules (docs/schedules.md): ticks by how they were decided, and the fire lag in cluster time.
  const scheduleTicks = new Counter({
    name: 'meshrun_schedule_ticks_total',
    help: 'Schedule ticks decided: fired, skipped (overlap forbid) or missed (catchup)',
    labelNames: ['outcome'],
    registers: reg,
  });
  const fireLag = new Histogram({
    name: 'meshrun_schedule_fire_lag_seconds',
    help: 'From a fired tick to the cluster time of the entry that fired it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: reg,
  });
  mirrorCounter(registry, 'meshrun_claims_accepted_total', 'Task claims the scheduler accepted', () => src.schedulerStats().claimsAccepted);
  mirrorCounter(
    registry,
    'meshrun_claims_rejected_total',
    'Claimed tasks the scheduler refused (conflicts: taken, not ready, no capacity)',
    () => src.schedulerStats().claimsRejected,
  );
  mirrorCounter(
    registry,
    'meshrun_lease_expiries_total',
    'Node leases that expired (their tasks were retried)',
    () => src.schedulerStats().leaseExpiries,
  );
  mirrorCounter(registry, 'meshrun_task_retries_total', 'Task attempts retried', () => src.schedulerStats().retries);
  mirrorCounter(
    registry,
    'meshrun_finishes_stale_total',
    'Task results refused as stale (fencing)',
    () => src.schedulerStats().finishesStale,
  );

  const gossip = src.gossipStats;
  if (gossip) {
    new Counter({
      name: 'meshrun_gossip_messages_total',
      help: 'Load gossip messages, by kind (published, accepted, rejected*, dropped*)',
      labelNames: ['kind'],
      registers: reg,
      collect() {
        this.reset();
        for (const [kind, n] of Object.entries(gossip())) if (kind !== 'expired') this.inc({ kind }, n);
      },
    });
  }

  // Tasks by state: deltas from task effects, a recount from the jobs' counts when structure changed.
  const counts = new Map<TaskState, number>(TASK_STATES.map((s) => [s, 0]));
  let recount = true;
  const refreshTasks = (): void => {
    if (recount) {
      for (const s of TASK_STATES) counts.set(s, 0);
      for (const j of src.jobs()) for (const s of TASK_STATES) counts.set(s, (counts.get(s) ?? 0) + j.counts[s]);
      recount = false;
    }
    for (const s of TASK_STATES) taskGauge.set({ state: s }, counts.get(s) ?? 0);
  };
  const move = (from: TaskState, to: TaskState, n: number): void => {
    if (recount) return;
    counts.set(from, (counts.get(from) ?? 0) - n);
    counts.set(to, (counts.get(to) ?? 0) + n);
  };

  /**
   * Scheduler time each running task started at, by job then task index; `timedTasks` counts them
   * all. Nested maps rather than one keyed by a `job/task` string, and one histogram child per
   * outcome rather than `observe(labels, value)`, which builds a closure on every call (a child
   * still validates and hashes its labels each time, inside prom-client): every node sees every
   * task start and end, tens of thousands a second in the benchmark.
   */
  const started = new Map<string, Map<number, Ms>>();
  let timedTasks = 0;
  const durationBy = new Map<string, { observe(seconds: number): void }>();
  const observeDuration = (outcome: 'succeeded' | 'failed', seconds: number): void => {
    let child = durationBy.get(outcome);
    if (child === undefined) {
      child = taskDuration.labels({ outcome });
      durationBy.set(outcome, child);
    }
    child.observe(seconds);
  };
  /** Proposals appended on this node (the leader), by log index: when they were proposed. */
  const timed = new Map<number, number>();

  const metrics: NodeMetrics = {
    registry,
    contentType: registry.contentType,
    onEffects(effects) {
      for (const e of effects) {
        switch (e.type) {
          case 'task': {
            move(e.from, e.to, 1);
            if (e.to === 'running') {
              if (timedTasks < MAX_TIMED_TASKS) {
                let tasks = started.get(e.job);
                if (tasks === undefined) {
                  tasks = new Map();
                  started.set(e.job, tasks);
                }
                if (!tasks.has(e.task)) timedTasks++;
                tasks.set(e.task, src.schedulerNow());
              }
            } else if (e.from === 'running') {
              const tasks = started.get(e.job);
              const t0 = tasks?.get(e.task);
              if (tasks !== undefined && t0 !== undefined) {
                tasks.delete(e.task);
                timedTasks--;
                if (tasks.size === 0) started.delete(e.job);
              }
              if (t0 !== undefined && (e.to === 'succeeded' || e.to === 'failed'))
                observeDuration(e.to, Math.max(0, src.schedulerNow() - t0) / 1000);
            }
            break;
          }
          case 'tasks':
            move(e.from, e.to, e.end - e.start);
            break;
          case 'submitted':
            if (!e.existing) recount = true;
            break;
          case 'removed':
            recount = true;
            timedTasks -= started.get(e.job)?.size ?? 0;
            started.delete(e.job);
            break;
          case 'job':
            if (e.state !== 'running') jobEvents.inc({ state: e.state });
            break;
          case 'schedule-tick':
            scheduleTicks.inc({ outcome: e.outcome }, e.count);
            if (e.outcome === 'fired') fireLag.observe(Math.max(0, e.at - e.tick) / 1000);
            break;
          default:
            break;
        }
      }
    },
    onRestore() {
      recount = true;
      started.clear();
      timedTasks = 0;
    },
    onPropose(r) {
      if (!r.ok) {
        proposals.inc({ result: r.reason });
        return;
      }
      if (!('index' in r)) {
        proposals.inc({ result: 'forwarded' });
        return;
      }
      proposals.inc({ result: 'appended' });
      if (timed.size < MAX_TIMED_PROPOSALS) timed.set(r.index, performance.now());
    },
    onApplied(index) {
      if (timed.size === 0) return;
      const now = performance.now();
      for (const [i, t0] of timed) {
        // Map order is insertion order, which is index order for one leader; an index passed without
        // its own entry (overwritten after a leader change) is dropped too.
        if (i > index) break;
        timed.delete(i);
        if (i === index) proposalLatency.observe((now - t0) / 1000);
      }
    },
    onReady(rd) {
      if (rd.compaction) {
        snapshots.inc({ kind: 'taken' });
        snapshotBytes.set(rd.compaction.data.length);
      }
      if (rd.snapshot) {
        snapshots.inc({ kind: 'received' });
        snapshotBytes.set(rd.snapshot.data.length);
        timed.clear();
      }
    },
    async text() {
      const own = await registry.metrics();
      if (opts.defaultMetrics === false) return own;
      return `${own}\n${await processMetrics().metrics()}`;
    },
  };
  return metrics;
}
