// The scheduler workload: every simulated node runs, beside its Raft core, a process with the real
// Worker (claim policy, leases, fenced finishes) on the node's own skewed clock, the simulated
// executor and the simulated load gossip; the real Scheduler is applied on every node from its
// committed log (and from snapshots) inside the node's real ClusterState. A client submits a few
// random DAGs (dag-gen.ts) through random nodes, retrying with the idempotency key. Each process
// also runs the node's real TimeKeeper, which appends `tick` entries when it leads and something is due.
//
// Process model: a node's process is created with its state machine (SimNode.start calls
// createStateMachine on every start and restart) and dies with the node (onCrash): its timers stop
// (ProcessClock), its executions end at once (the orphan guard), its gossip table is lost. A
// restart is a new process with a new boot number. A paused node's process is frozen with it: its
// timers wait and its executions stand still until it resumes.
//
// The checkers are in scheduler-checkers.ts; the bound on finishing after the heal (check e) is
// here: once the faults heal, every job must reach a final state within a bound computed from the
// DAGs' worst cases, and the run goes on (WorkloadExtras.settled) until they all have.
import { known } from '../src/invariant.js';
import { errorMessage } from '../src/errors.js';
import type { ScheduleOutcome, SubmitOutcome } from '../src/api/outcomes.js';
import type { EntryBuilder, ProposeOptions } from '../src/node/driver.js';
import { encodeNodeEntry } from '../src/node/entry-envelope.js';
import { commandProposer, JobService } from '../src/node/job-service.js';
import { ScheduleService } from '../src/node/schedule-service.js';
import type { NodeOutcome } from '../src/node/node-driver.js';
import { ProposalError, type Committed, type Reply } from '../src/node/proposal.js';
import { realScheduler, type SchedulerFactory } from '../src/node/scheduler-host.js';
import { TimeKeeper } from '../src/node/time-keeper.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { Entry, NodeId, ProposeResult } from '../src/raft/types.js';
import type { ScheduleSpec } from '../src/scheduler/schedule-types.js';
import type { Command, Effect, JobId, Labels } from '../src/scheduler/types.js';
import { formatLabels } from '../src/scheduler/placement.js';
import type { PeerLoad } from '../src/worker/types.js';
import { Worker } from '../src/worker/worker.js';
import { criticalPath, drawJob, SIM_HANDLERS, worstCaseWork, type PlacementDraw, type PlannedJob, type PlannedTask } from './dag-gen.js';
import { ByteMap, FORGER } from './forgery.js';
import { lieProblem, SchedulerChecker, type Lie } from './scheduler-checkers.js';
import { commandEntry, probeEntry, SchedulerStateMachine, type SchedulerApplied } from './scheduler-sm.js';
import { LAG_BOUND_MS, ScheduleChecker } from './schedule-checkers.js';
import { drawSchedule, type PlannedSchedule } from './schedule-gen.js';
import { ProcessClock } from './sim-clock.js';
import { SimExecutor, type ExecRecord, type ExecWorld } from './sim-executor.js';
import { SimGossip } from './sim-gossip.js';
import type { ClusterApi, SimHooks, Workload, WorkloadExtras } from './workload.js';

/**
 * Worker lease. The worker gives up a lease a fifth of it before it runs out by its own clock,
 * counted from when it proposed the heartbeat; the scheduler expires it by the leaders' clocks,
 * counted from when the heartbeat was appended. Two clocks apart by up to twice the skew: the
 * margin must cover that, so the simulated skew stays within leaseMs / 10.
 */
export const LEASE_MS = 2500;
export const MAX_SKEW_MS = LEASE_MS / 10;
const GOSSIP_MS = 300;
const STEAL_AFTER_MS = 2 * GOSSIP_MS + 100;
/** How often the time keeper looks whether a tick is due (its period; the node's is longer, the sim is faster). */
const TIME_KEEPER_MS = 50;
/** JobService's wait here (a node's is 10 s): a submit not applied within it is answered `unavailable`, and sent again. */
const SUBMIT_TIMEOUT_MS = 1500;
/** Committed claims and finishes kept for replay. */
const MAX_REPLAYABLE = 64;
/** Per attempt, in the bound on finishing: a claim and a finish to commit (plus a steal delay). */
const ATTEMPT_COMMITS_MS = 600;
/** Schedules keep firing this long after the heal (their ticks are checked), then the client removes them. */
const SCHEDULE_HOLD_MS = 8000;
/**
 * Drawn workloads submit DAGs of more specs than this in parts (docs/architecture.md §3; a node's
 * slice is 2,000 specs): the drawn DAGs have 1 to 9, so some cross it. A user's scenario keeps
 * the node's slice.
 */
const SIM_SLICE_SPECS = 3;
/** ScheduleService's wait here: a change not applied within it is made again, through another node. */
const CHANGE_TIMEOUT_MS = 1500;

export interface SchedulerWorkloadOptions {
  /** Builds each replica's Scheduler (default: the real one); tests plant faults through it. */
  readonly scheduler?: SchedulerFactory;
  /** A given cluster and set of jobs (a user's scenario) instead of drawn ones; no zombie. */
  readonly fixed?: FixedWorkload;
  /** Told what happens, for a scenario's timeline. */
  readonly observer?: SchedulerObserver;
}

/** The nodes and jobs of a scenario, and when each job is submitted (simulated ms). */
export interface FixedWorkload {
  readonly nodes: ReadonlyMap<NodeId, NodeConfig>;
  readonly jobs: readonly { readonly plan: PlannedJob; readonly submitAt: number }[];
  /** Worker lease, ms (a scenario uses the production node's). */
  readonly leaseMs: number;
  /** A ready task nobody claimed is anyone's after this long, ms. */
  readonly stealAfterMs: number;
  /** Load gossip period, ms. */
  readonly gossipMs: number;
  /** The time keeper's period, ms. */
  readonly timeKeeperMs: number;
  /** Schedules put at these simulated times (a scenario's `schedules:`); none when absent. */
  readonly schedules?: readonly { readonly planned: PlannedSchedule; readonly putAt: number }[];
}

/** What a scenario's timeline is made of; every call comes at the simulated time it happened. */
export interface SchedulerObserver {
  execStarted(rec: ExecRecord): void;
  execEnded(rec: ExecRecord): void;
  /** The effects of the entry at `index`, once per index (the first replica to apply it). */
  committed(index: number, cmd: Command | null, effects: readonly Effect[]): void;
  acknowledged(plan: PlannedJob, job: JobId, node: NodeId): void;
}

export interface NodeConfig {
  readonly slots: number;
  /** Executor handlers: `noop` plus some of SIM_HANDLERS. */
  readonly handlers: readonly string[];
  /** Its `--label`s; absent: none. */
  readonly labels?: Labels;
}

/** The label `on:` asks for in drawn jobs, held by enough nodes with two slots (see drawLabels). */
const SIM_LABELS: Labels = { gpu: 'a100' };

/** One incarnation of a node's process. */
interface Proc {
  readonly node: NodeId;
  readonly boot: number;
  readonly sm: SchedulerStateMachine;
  readonly clock: ProcessClock;
  executor: SimExecutor | null;
  worker: Worker | null;
  keeper: TimeKeeper | null;
  /** The API's jobs service of this process, which the client submits through. */
  readonly jobs: JobService;
  /** The API's schedules service of this process, which the client changes schedules through. */
  readonly schedules: ScheduleService;
  /** Effects applied on this replica, not yet handed to the worker. */
  pending: Effect[];
  restored: boolean;
  flushing: boolean;
  lastLoad: string;
}

/** A schedule change the client makes through a node's API, retried until a node answers that it applied it. */
interface Change {
  readonly what: { readonly put: ScheduleSpec } | { readonly delete: string };
  /** The node the latest try went to (null: none in flight); `tries` numbers the tries. */
  node: NodeId | null;
  done: boolean;
  tries: number;
}

interface Submission {
  readonly plan: PlannedJob;
  /** The node the latest attempt went to (null: none in flight); `tries` numbers the attempts. */
  node: NodeId | null;
  tries: number;
  acked: { readonly job: JobId; readonly index: number; readonly node: NodeId } | null;
}

export class SchedulerWorkload implements Workload<SchedulerApplied>, WorkloadExtras {
  readonly name = 'scheduler';
  private api!: ClusterApi<SchedulerApplied>;
  private hooks!: SimHooks;
  private rngs!: { exec: SeededRng; gossip: SeededRng; boot: SeededRng; client: SeededRng };
  private gossip!: SimGossip;
  private checker!: SchedulerChecker;
  private readonly factory: SchedulerFactory;
  private readonly config = new Map<NodeId, NodeConfig>();
  private readonly procs = new Map<NodeId, Proc>();
  /** State machines created before start (the first boot of every node). */
  private readonly early = new Map<NodeId, SchedulerStateMachine>();
  private plans: PlannedJob[] = [];
  private schedules: PlannedSchedule[] = [];
  private scheduleChecker!: ScheduleChecker;
  private readonly changes: Change[] = [];
  /** Pools the workload creates, with their sizes; a name leaves `poolsToSet` once a replica applied it. */
  private readonly pools = new Map<string, number>();
  private readonly poolsToSet = new Set<string>();
  private changeSeq = 0;
  private readonly submissions: Submission[] = [];
  /** Committed claims and finishes (their entries' data), the newest last, for the zombie to replay. */
  private readonly replayable: Uint8Array[] = [];
  /** Commands the liar proposed in other nodes' names (adversary.ts), by their entry data. */
  private readonly lies = new ByteMap<Lie>();
  private replaying = false;
  private execSeq = 0;
  private healedAt: number | null = null;
  private boundMs = 0;
  private settledAt: number | null = null;
  /** The members when Raft converged after the heal (admin changes stop at the heal). */
  private members: readonly NodeId[] = [];
  private readonly stats = {
    boots: 0,
    submits: 0,
    submitRetries: 0,
    proposalsRefused: 0,
    replays: 0,
    reruns: 0,
    rerunsApplied: 0,
    /** Parts of big submits staged (docs/architecture.md §3): each committed part but the last. */
    partsStaged: 0,
  };
  /** Re-runs: drawn from a stream of their own; the chance that a job that ends before the heal is re-run (0: none in this run). */
  private rerunRng!: SeededRng;
  private rerunChance = 0;
  /** Jobs a re-run was proposed for (once each), with their plans, for the bound on finishing. */
  private readonly reruns = new Map<JobId, PlannedJob>();
  /** Ticks proposed by time keepers of processes that ended. */
  private ticks = 0;
  /** Totals of the workers' counters, over every process that ever ran. */
  private readonly workerTotals = {
    claimsProposed: 0,
    claimsExpired: 0,
    leaseLosses: 0,
    tasksStopped: 0,
    attemptsAbandoned: 0,
    resultsResent: 0,
  };
  private readonly fixed: FixedWorkload | null;
  private readonly observer: SchedulerObserver | null;
  private readonly leaseMs: number;
  private readonly stealAfterMs: number;
  private readonly gossipMs: number;
  private readonly timeKeeperMs: number;

  constructor(opts: SchedulerWorkloadOptions = {}) {
    this.factory = opts.scheduler ?? realScheduler;
    this.fixed = opts.fixed ?? null;
    this.observer = opts.observer ?? null;
    this.leaseMs = this.fixed?.leaseMs ?? LEASE_MS;
    this.gossipMs = this.fixed?.gossipMs ?? GOSSIP_MS;
    this.stealAfterMs = this.fixed?.stealAfterMs ?? STEAL_AFTER_MS;
    this.timeKeeperMs = this.fixed?.timeKeeperMs ?? TIME_KEEPER_MS;
  }

  /** The widest skew the lease margin covers (see LEASE_MS). */
  get maxSkewMs(): number {
    return this.leaseMs / 10;
  }

  attach(hooks: SimHooks): void {
    this.hooks = hooks;
  }

  createStateMachine(node: NodeId): SchedulerStateMachine {
    const sm = new SchedulerStateMachine(this.factory);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- nodes built before the checker is (see `early`)
    if (this.checker === undefined) this.early.set(node, sm);
    else this.spawn(node, sm);
    return sm;
  }

  start(api: ClusterApi<SchedulerApplied>, rng: SeededRng): void {
    this.api = api;
    const setup = rng.fork('setup');
    this.rngs = { exec: rng.fork('exec'), gossip: rng.fork('gossip'), boot: rng.fork('boot'), client: rng.fork('client') };
    // Drawn last, from a fork of their own, so a seed without schedules runs as it did before them.
    const scheduleRng = rng.fork('schedules');
    // Re-runs too (docs/dag-file.md §13): a seed whose draw says none runs as it did before them.
    this.rerunRng = rng.fork('reruns');
    this.rerunChance = this.fixed === null && this.rerunRng.chance(0.35) ? 0.6 : 0;
    let schedulePuts: { planned: PlannedSchedule; putAt: number }[];
    if (this.fixed) {
      for (const [n, c] of this.fixed.nodes) this.config.set(n, c);
      this.plans = this.fixed.jobs.map((j) => j.plan);
      schedulePuts = [...(this.fixed.schedules ?? [])];
    } else {
      this.drawNodes(setup);
      const handlers = SIM_HANDLERS.filter((h) => [...this.config.values()].some((c) => c.handlers.includes(h)));
      const placement = this.drawPlacement(rng.fork('placement'));
      const count = setup.range(2, 5);
      for (let n = 1; n <= count; n++) this.plans.push(drawJob(setup, n, handlers, placement));
      const schedules = scheduleRng.chance(0.6) ? scheduleRng.range(1, 3) : 0;
      const window = Math.max(1, Math.floor(this.hooks.durationMs * 0.3));
      schedulePuts = Array.from({ length: schedules }, (_, k) => ({
        planned: drawSchedule(scheduleRng, k + 1),
        putAt: scheduleRng.int(window),
      }));
    }
    this.schedules = schedulePuts.map((p) => p.planned);
    const world = { fail: (i: string, d: string) => api.fail(i, d), trace: (l: string | (() => string)) => api.trace(l) };
    this.checker = new SchedulerChecker(
      world,
      new Map([...this.plans, ...this.schedules.map((p) => p.plan)].map((p) => [p.name, p])),
      new Map(this.schedules.map((p) => [p.spec.name, p.plan.name])),
      { pools: this.pools, labelsOf: (node) => this.config.get(node)?.labels ?? {} },
    );
    this.scheduleChecker = new ScheduleChecker(world, new Map(this.schedules.map((p) => [p.spec.name, p.spec])));
    for (const { planned, putAt } of schedulePuts) {
      const sp = planned.spec;
      const cadence = sp.cadence.kind === 'cron' ? `cron ${sp.cadence.expr} (${sp.timezone})` : `every ${sp.cadence.everyMs}ms`;
      api.trace(
        `scheduler: schedule ${sp.name}: ${cadence}, overlap ${sp.overlap}, catchup ${sp.catchup}, runs ${planned.plan.tasks[0]?.minMs}-${planned.plan.tasks[0]?.maxMs}ms, put at ${putAt}ms`,
      );
      api.after(putAt, () => this.change({ put: sp }));
    }
    this.gossip = new SimGossip(
      {
        now: () => api.now(),
        after: (ms, fn) => api.after(ms, fn),
        linkBlocked: (a, b) => this.hooks.linkBlocked(a, b),
        rng: this.rngs.gossip,
      },
      this.fixed
        ? { periodMs: this.gossipMs, loss: 0, delayMean: 2, expireMs: 3 * this.gossipMs + 100 }
        : { periodMs: GOSSIP_MS, loss: setup.float() * 0.1, delayMean: setup.range(1, 20), expireMs: 3 * GOSSIP_MS + 100 },
      api.nodes,
    );
    for (const [node, c] of this.config) {
      const labels = c.labels === undefined ? '' : `, labels ${formatLabels(c.labels)}`;
      api.trace(`scheduler: ${node} has ${c.slots} slot(s), handlers ${c.handlers.join(',')}${labels}`);
    }
    for (const [name, size] of this.pools) api.trace(`scheduler: pool ${name} of size ${size}`);
    for (const p of this.plans) {
      api.trace(
        `scheduler: plan ${p.name}: ${p.tasks.length} tasks, ${p.tasks.map(describeTask).join(' ')}${p.key ? `, key ${p.key}` : ''}` +
          (p.concurrency === undefined ? '' : `, concurrency ${p.concurrency}`),
      );
    }
    for (const [node, sm] of this.early) this.spawn(node, sm);
    this.early.clear();
    if (this.fixed) {
      for (const j of this.fixed.jobs) {
        const s: Submission = { plan: j.plan, node: null, tries: 0, acked: null };
        this.submissions.push(s);
        api.after(j.submitAt, () => this.submit(s));
      }
      return;
    }
    if (setup.chance(0.6)) {
      this.replaying = true;
      const gap = setup.range(100, 800);
      api.trace(`scheduler: a zombie replays old claims and finishes every ~${gap}ms until the heal`);
      this.replayLoop(gap);
    }
    // Submissions spread over the first part of the fault phase.
    const window = Math.max(1, Math.floor(this.hooks.durationMs * 0.6));
    for (const plan of this.plans) {
      const s: Submission = { plan, node: null, tries: 0, acked: null };
      this.submissions.push(s);
      api.after(this.rngs.client.int(window), () => this.submit(s));
    }
  }

  /**
   * Slots 1-4 per node and a random subset of the handlers. The operator (admin.ts) may leave up to
   * nodes - 3 nodes outside the membership for good, so every handler is on enough nodes with two
   * slots (some tasks take two) that one of them is always a member: otherwise a task could wait
   * forever for a node that can run it, which is right, but not what the liveness check is about.
   */
  /**
   * Half the seeds draw placement (docs/dag-file.md §14), from a stream of their own so the others
   * run as before it: the label SIM_LABELS on as many nodes with two slots as every handler is on
   * (so one of them is always a member), pools of 1 to 3 slots that the client creates early in
   * the fault phase, and in the jobs `on:`, `pool:` and `concurrency:`.
   */
  private drawPlacement(rng: SeededRng): PlacementDraw | null {
    if (!rng.chance(0.5)) return null;
    const nodes = this.api.nodes;
    const need = nodes.length > 3 ? nodes.length - 2 : 1;
    const wide = nodes.filter((n) => (this.config.get(n)?.slots ?? 0) >= 2);
    const labelled = new Set<NodeId>();
    while (labelled.size < need) labelled.add(rng.pick(wide));
    for (const n of nodes) if (rng.chance(0.2)) labelled.add(n);
    for (const n of labelled) {
      const c = this.config.get(n) as NodeConfig;
      this.config.set(n, { ...c, labels: { ...SIM_LABELS, zone: rng.pick(['eu', 'us']) } });
    }
    const poolCount = rng.range(0, 2);
    for (let k = 1; k <= poolCount; k++) this.pools.set(`pool${k}`, rng.range(1, 2));
    const window = Math.max(1, Math.floor(this.hooks.durationMs * 0.3));
    for (const name of this.pools.keys()) {
      this.poolsToSet.add(name);
      this.api.after(rng.int(window), () => this.setPool(name));
    }
    return { rng, on: [SIM_LABELS], pools: [...this.pools.keys()] };
  }

  /** Creates a pool through a random node, proposed again until a replica has applied it. */
  private setPool(name: string): void {
    if (!this.poolsToSet.has(name)) return;
    const api = this.api;
    const rng = this.rngs.client;
    const node = rng.pick(api.nodes);
    const size = known(this.pools.get(name), 'a drawn pool');
    const r = api.available(node) ? api.propose(node, commandEntry({ type: 'pool-set', name, size })) : null;
    api.trace(`client: pool ${name} size ${size} via ${node}${r?.ok === true ? '' : ' (refused)'}`);
    api.after(r?.ok === true ? CHANGE_TIMEOUT_MS : rng.range(20, 200), () => this.setPool(name));
  }

  private drawNodes(rng: SeededRng): void {
    const nodes = this.api.nodes;
    const need = nodes.length > 3 ? nodes.length - 2 : 1;
    const slots = new Map(nodes.map((n) => [n, rng.range(1, 4)]));
    const handlers = new Map(nodes.map((n) => [n, new Set(SIM_HANDLERS.filter(() => rng.chance(0.5)))]));
    const wide = (): NodeId[] => nodes.filter((n) => known(slots.get(n), 'every node has slots') >= 2);
    for (let narrow = nodes.filter((n) => slots.get(n) === 1); wide().length < need; narrow = narrow.filter((n) => slots.get(n) === 1)) {
      slots.set(rng.pick(narrow), 2);
    }
    for (const h of SIM_HANDLERS) {
      for (;;) {
        const without = wide().filter((n) => !handlers.get(n)?.has(h));
        if (wide().length - without.length >= need) break;
        handlers.get(rng.pick(without))?.add(h);
      }
    }
    for (const n of nodes) {
      const hs = handlers.get(n) as Set<string>;
      this.config.set(n, {
        slots: known(slots.get(n), 'every node has slots'),
        handlers: ['noop', ...SIM_HANDLERS.filter((h) => hs.has(h))],
      });
    }
  }

  // ----- processes -----------------------------------------------------------------------------

  private spawn(node: NodeId, sm: SchedulerStateMachine): void {
    const api = this.api;
    const cfg = this.config.get(node) as NodeConfig;
    const boot = this.rngs.boot.range(1, 0x7fffffff);
    const clock = new ProcessClock({ now: () => api.now(), after: (ms, fn) => api.after(ms, fn) }, this.hooks.clockOffset(node));
    const p: Proc = {
      node,
      boot,
      sm,
      clock,
      executor: null,
      worker: null,
      keeper: null,
      schedules: new ScheduleService({
        propose: commandProposer((build, opts, reply) => this.requestPropose(node, build, opts, reply)),
        now: () => clock.now(),
        timeoutMs: CHANGE_TIMEOUT_MS,
        newRequestId: () => `change-${++this.changeSeq}`,
        newJobId: () => newJobId(this.rngs.client),
      }),
      jobs: new JobService({
        view: sm.view,
        propose: commandProposer((build, opts, reply) => this.requestPropose(node, build, opts, reply)),
        timeoutMs: SUBMIT_TIMEOUT_MS,
        newJobId: () => newJobId(this.rngs.client),
        ...(this.fixed === null ? { sliceSpecs: SIM_SLICE_SPECS } : {}),
        defer: (fn) => api.after(0, fn),
      }),
      pending: [],
      restored: false,
      flushing: false,
      lastLoad: '',
    };
    this.procs.set(node, p);
    this.stats.boots++;
    sm.host.onRestore(() => {
      p.restored = true;
      this.flushSoon(p);
    });
    const executor = new SimExecutor(this.execWorld(), node, boot, cfg.handlers, clock);
    const worker: Worker = new Worker({
      self: node,
      boot,
      slots: cfg.slots,
      leaseMs: this.leaseMs,
      heartbeatMs: this.leaseMs / 5,
      stealAfterMs: this.stealAfterMs,
      view: sm.view,
      executor,
      clock,
      propose: (cmd) => this.propose(p, cmd),
      peers: (): PeerLoad[] => this.gossip.peers(node, { node, ...worker.load() }),
      ...(cfg.labels === undefined ? {} : { labels: cfg.labels }),
    });
    // The node's TimeKeeper on this process: cluster time; its ticks are `app` entries nobody waits for (src/node/node.ts, startWork).
    const keeper = new TimeKeeper(
      {
        isLeader: () => this.hooks.isLeader(node),
        view: sm.view,
        now: () => this.hooks.clusterTime(node),
        propose: (data) => this.proposeEntry(p, encodeNodeEntry({ kind: 'app', data })),
        timers: clock,
        localNow: () => clock.now(),
      },
      { periodMs: this.timeKeeperMs },
    );
    p.executor = executor;
    p.worker = worker;
    p.keeper = keeper;
    api.trace(`scheduler: ${node} process starts, boot ${boot}`);
    // After the node's start has finished (its Raft core exists).
    clock.after(0, () => {
      worker.start();
      keeper.start();
      this.gossipLoop(p);
    });
  }

  private propose(p: Proc, cmd: Command): boolean {
    let data: Uint8Array;
    try {
      data = commandEntry(cmd);
    } catch (err) {
      this.api.fail('command encoding', `${p.node} could not encode a ${cmd.type}: ${errorMessage(err)}`);
      return false;
    }
    return this.proposeEntry(p, data).ok;
  }

  /**
   * A command nobody waits for (RaftDriver.proposeAndForget): the core's answer, refusals counted
   * (the process runs only while its node is available).
   */
  private proposeEntry(p: Proc, data: Uint8Array): ProposeResult {
    const r = this.api.propose(p.node, data) ?? { ok: false, reason: 'no-leader' };
    if (!r.ok) this.stats.proposalsRefused++;
    return r;
  }

  /**
   * The node's driver's one entry, for the API's services of its process (commandProposer): the
   * answer is the node's own decision (the SchedulerStateMachine's, a NodeOutcome).
   */
  private requestPropose(node: NodeId, build: EntryBuilder, opts: ProposeOptions, reply: Reply<Committed<NodeOutcome>>): void {
    const asked = this.api.requestPropose(node, build, opts, {
      resolve: ({ index, result }) => reply.resolve({ index, result: nodeOutcome(result) }),
      reject: (err) => reply.reject(err),
    });
    // The process runs only while its node is up: a paused node's call waits (never, here) as a request to it would.
    if (!asked) reply.reject(new ProposalError('stopped'));
  }

  /** Effects reach the worker in its own process, after the Ready cycle that applied them. */
  private flushSoon(p: Proc): void {
    if (p.flushing) return;
    p.flushing = true;
    p.clock.after(0, () => {
      p.flushing = false;
      const w = p.worker;
      if (!w) return;
      const effects = p.pending;
      p.pending = [];
      if (p.restored) {
        p.restored = false;
        w.onEffects([]);
      }
      if (effects.length > 0) w.onEffects(effects);
      this.publishIfChanged(p);
    });
  }

  private gossipLoop(p: Proc): void {
    this.publish(p);
    p.clock.after(Math.floor(this.gossipMs * (0.8 + 0.4 * this.rngs.gossip.float())), () => this.gossipLoop(p));
  }

  private publishIfChanged(p: Proc): void {
    const w = p.worker;
    if (!w) return;
    const l = w.load();
    if (`${l.free}/${l.running}` !== p.lastLoad) this.publish(p);
  }

  private publish(p: Proc): void {
    const w = p.worker;
    if (!w) return;
    const l = w.load();
    p.lastLoad = `${l.free}/${l.running}`;
    this.gossip.publish(p.node, { node: p.node, slots: l.slots, free: l.free, handlers: l.handlers });
  }

  private execWorld(): ExecWorld {
    const api = this.api;
    return {
      now: () => api.now(),
      after: (ms, fn) => api.after(ms, fn),
      rng: this.rngs.exec,
      nextExecId: () => ++this.execSeq,
      plan: (jobName, task) => this.planByName(jobName)?.tasks[task],
      started: (rec) => {
        api.trace(() => `${rec.node} starts ${rec.job}/${rec.name} attempt ${rec.attempt} (fence ${rec.fence}, planned ${rec.planned})`);
        this.checker.started(rec);
        this.observer?.execStarted(rec);
      },
      ended: (rec) => {
        api.trace(() => `${rec.node} ${describeEnd(rec)} ${rec.job}/${rec.name} attempt ${rec.attempt}`);
        this.observer?.execEnded(rec);
      },
      thawed: (rec) => this.checker.thawed(rec),
      fail: (i, d) => api.fail(i, d),
    };
  }

  private planByName(name: string): PlannedJob | undefined {
    return this.plans.find((p) => p.name === name) ?? this.schedules.find((p) => p.plan.name === name)?.plan;
  }

  onCrash(node: NodeId): void {
    const p = this.procs.get(node);
    if (p) {
      this.procs.delete(node);
      p.executor?.crash();
      p.clock.kill();
      if (p.worker) this.addTotals(p.worker);
      this.ticks += p.keeper?.ticks ?? 0;
      p.worker = null;
      p.executor = null;
      p.keeper = null;
      this.gossip.forget(node);
    }
    for (const c of this.changes) {
      if (!c.done && c.node === node) {
        // Its answer died with the process: the client makes the change again through another node.
        const tries = c.tries;
        c.node = null;
        this.api.after(this.rngs.client.range(5, 100), () => {
          if (!c.done && c.tries === tries) this.send(c);
        });
      }
    }
    for (const s of this.submissions) {
      if (s.acked === null && s.node === node) {
        // Its answer died with the process: the client gives up on it and tries again.
        const tries = s.tries;
        s.node = null;
        this.api.after(this.rngs.client.range(5, 100), () => {
          if (s.acked === null && s.tries === tries) this.resubmit(s);
        });
      }
    }
  }

  /** The node's clock was set: its running process reads the new time (a restart reads it from hooks). */
  onClockSet(node: NodeId, offset: number): void {
    this.procs.get(node)?.clock.setOffset(offset);
  }

  onPause(node: NodeId): void {
    const p = this.procs.get(node);
    if (!p) return;
    p.clock.pause();
    p.executor?.freeze();
  }

  onResume(node: NodeId): void {
    const p = this.procs.get(node);
    if (!p) return;
    // Overdue timers first (a lost lease kills what it must), then what is left of the attempts.
    p.clock.resume();
    p.executor?.thaw();
  }

  private addTotals(w: Worker): void {
    const t = this.workerTotals;
    t.claimsProposed += w.stats.claimsProposed;
    t.claimsExpired += w.stats.claimsExpired;
    t.leaseLosses += w.stats.leaseLosses;
    t.tasksStopped += w.stats.tasksStopped;
    t.attemptsAbandoned += w.stats.attemptsAbandoned;
    t.resultsResent += w.stats.resultsResent;
  }

  // ----- the zombie ----------------------------------------------------------------------------

  /**
   * Commands from the past: a proposal delayed in the network for long, or sent again by an
   * incarnation that is gone. Every one of them is stale by the time it comes back (a committed
   * finish ended its attempt; a committed claim's task has moved on or its boot is gone, or it is
   * a fresh valid claim, which the node's worker must then run), so fencing must make them harmless.
   */
  private replayLoop(gap: number): void {
    const rng = this.rngs.client;
    this.api.after(1 + rng.int(2 * gap), () => {
      if (!this.replaying) return;
      if (this.replayable.length > 0) {
        const data = rng.pick(this.replayable);
        const node = rng.pick(this.api.nodes);
        if (this.api.available(node) && this.api.propose(node, data)?.ok === true) this.stats.replays++;
      }
      this.replayLoop(gap);
    });
  }

  // ----- the client ----------------------------------------------------------------------------

  /**
   * A submit through a random node's API, as `meshrun submit` makes it: the production JobService
   * proposes it and answers once that replica applied it (the node's wait registry,
   * docs/architecture.md §15). An answer that says the job may not be there (`unavailable`, the
   * service's own time-out included) or none at all (the node died) sends it again, with the
   * same idempotency key, through another random node.
   */
  private submit(s: Submission): void {
    if (s.acked !== null) return;
    const api = this.api;
    const rng = this.rngs.client;
    const node = rng.pick(api.nodes);
    const p = this.procs.get(node);
    const tries = ++s.tries;
    this.stats.submits++;
    if (!p || !api.available(node)) {
      s.node = null;
      api.after(rng.range(20, 200), () => this.resubmit(s));
      return;
    }
    s.node = node;
    api.trace(`client: submit ${s.plan.name} via ${node}${tries > 1 ? ` (try ${tries})` : ''}`);
    p.jobs.requestSubmit(s.plan.spec, s.plan.key, {
      resolve: (outcome) => this.submitted(s, tries, node, outcome),
      reject: (err) => api.fail('job service', `${node}: submitting ${s.plan.name} threw: ${errorMessage(err)}`),
    });
  }

  /** The API's answer to try `tries` of `s` through `node`. */
  private submitted(s: Submission, tries: number, node: NodeId, outcome: SubmitOutcome): void {
    if (s.acked !== null || s.tries !== tries) return;
    const api = this.api;
    if (!outcome.ok) {
      if (outcome.reason !== 'unavailable') {
        api.fail(
          'submit refused',
          `${node}: the API refused ${s.plan.name}, a valid DAG with its own key (${outcome.reason}): ${outcome.error}`,
        );
        return;
      }
      api.trace(`client: ${s.plan.name} not acknowledged by ${node}: ${outcome.error}`);
      s.node = null;
      api.after(this.rngs.client.range(20, 200), () => this.resubmit(s));
      return;
    }
    // The node has applied the submit by now (the answer comes at apply): its applied index is at or past the entry.
    s.acked = { job: outcome.id, index: api.appliedIndex(node), node };
    this.observer?.acknowledged(s.plan, outcome.id, node);
    api.trace(
      `client: ${s.plan.name} acknowledged by ${node}: job ${outcome.id}${outcome.existing ? ' (an earlier try had created it)' : ''}`,
    );
  }

  /** A schedule change through a random node's API (the production ScheduleService), made again until a node answers that it applied it. */
  private change(what: Change['what']): void {
    const c: Change = { what, node: null, done: false, tries: 0 };
    this.changes.push(c);
    this.send(c);
  }

  private send(c: Change): void {
    if (c.done) return;
    const api = this.api;
    const rng = this.rngs.client;
    const node = rng.pick(api.nodes);
    const p = this.procs.get(node);
    const tries = ++c.tries;
    const what = 'put' in c.what ? `put ${c.what.put.name}` : `delete ${c.what.delete}`;
    if (!p || !api.available(node)) {
      c.node = null;
      api.trace(`client: schedule ${what} via ${node} (unavailable)`);
      api.after(rng.range(20, 200), () => this.send(c));
      return;
    }
    c.node = node;
    api.trace(`client: schedule ${what} via ${node}${tries > 1 ? ` (try ${tries})` : ''}`);
    const reply = {
      resolve: (o: ScheduleOutcome) => this.changed(c, tries, node, o),
      reject: (err: Error) => api.fail('schedule service', `${node}: the schedule ${what} threw: ${errorMessage(err)}`),
    };
    // A put carries the clock of the node that takes it (the service reads its process's clock).
    if ('put' in c.what) p.schedules.requestPut(c.what.put, reply);
    else p.schedules.requestAct('delete', c.what.delete, reply);
  }

  /** The API's answer to try `tries` of `c` through `node`. */
  private changed(c: Change, tries: number, node: NodeId, o: ScheduleOutcome): void {
    if (c.done || c.tries !== tries) return;
    c.node = null;
    if (o.ok) {
      c.done = true;
      return;
    }
    // A delete tried again after an earlier try was applied (its answer lost with its node) finds nothing left.
    if ('delete' in c.what && o.reason === 'not-found' && tries > 1) {
      c.done = true;
      return;
    }
    if (o.reason !== 'unavailable') {
      this.api.fail('schedule refused', `${node}: the API refused a valid schedule change (${o.reason}): ${o.error}`);
      return;
    }
    this.api.trace(`client: schedule change not applied via ${node}: ${o.error}`);
    this.api.after(this.rngs.client.range(20, 200), () => this.send(c));
  }

  private resubmit(s: Submission): void {
    if (s.acked !== null) return;
    this.stats.submitRetries++;
    this.submit(s);
  }

  // ----- applied entries -----------------------------------------------------------------------

  onApplied(node: NodeId, entry: Entry, r: SchedulerApplied): void {
    const lie = this.lies.get(entry.data);
    const lied = lie !== undefined && entry.proposer === lie.liar;
    if (lied) {
      const sm = this.api.stateMachine(node);
      const boot = sm instanceof SchedulerStateMachine ? sm.view.node(lie.cmd.node)?.boot : undefined;
      const problem = lieProblem(lie, entry.index, r.effects, boot);
      if (problem !== null) this.api.fail('forgery applied', `on ${node}: ${problem}`);
    }
    const cmd = this.checker.committed(entry, r.effects);
    if (cmd !== undefined) this.scheduleChecker.committed(entry, cmd, r.effects);
    if (cmd !== undefined) this.maybeRerun(r.effects);
    if (cmd !== undefined) for (const e of r.effects) if (e.type === 'submit-staged') this.stats.partsStaged++;
    if (cmd !== undefined && r.effects.length > 0) this.observer?.committed(entry.index, cmd, r.effects);
    // A lie is no command of the past for the zombie to replay (its victim proposing it would be no lie).
    if (cmd && !lied && (cmd.type === 'finish' || cmd.type === 'claim')) {
      this.replayable.push(entry.data);
      if (this.replayable.length > MAX_REPLAYABLE) this.replayable.shift();
    }
    if (r.effects.length === 0) return;
    const p = this.procs.get(node);
    if (p) {
      for (const e of r.effects) p.pending.push(e);
      this.flushSoon(p);
    }
    for (const e of r.effects) {
      if (e.type === 'pool') this.poolsToSet.delete(e.name);
      // A proposal can reach the log twice (a forwarded proposal duplicated on the way): the
      // second copy of a submit without a key is refused, the first one created the job.
      // A big submit refused for the moment (its staging full or dropped) is the machine's right: the client submits again.
      if (e.type === 'submit-rejected' && e.retry !== true && !this.checker.jobs.has(e.requested)) {
        this.api.fail('submit rejected', `${node}: the scheduler refused a valid DAG (request ${e.requested}): ${e.error}`);
      }
      if (e.type === 'rerun-rejected' && (e.why === 'unknown-job' || e.why === 'unknown-task')) {
        // Refused as still running (a proposal that reached the log twice) or as having nothing to
        // re-run is the machine's right; a job or task it does not know is the workload's mistake or the machine's.
        this.api.fail('re-run refused', `${node}: ${e.error}`);
      }
    }
  }

  // ----- re-runs (docs/dag-file.md §13) ---------------------------------------------------------------

  /**
   * A submitted job that ended before the heal may be re-run, once: its failed part, or a task
   * (and, at random, what follows it). Decided once per committed entry (its first report).
   */
  private maybeRerun(effects: readonly Effect[]): void {
    if (this.rerunChance === 0) return;
    for (const e of effects) {
      if (e.type === 'rerun') this.stats.rerunsApplied++;
      if (e.type !== 'job' || e.state === 'running' || this.healedAt !== null || this.reruns.has(e.job)) continue;
      const model = this.checker.jobs.get(e.job);
      if (model === undefined || model.scheduled || !this.rerunRng.chance(this.rerunChance)) continue;
      const names = model.plan.tasks.map((t) => t.name);
      const failed = e.state === 'failed' && this.rerunRng.chance(0.7);
      const tasks = failed ? [] : [this.rerunRng.pick(names)];
      const cmd: Command = { type: 'rerun', job: e.job, failed, tasks, downstream: !failed && this.rerunRng.chance(0.5) };
      this.reruns.set(e.job, model.plan);
      const delay = this.rerunRng.range(20, 400);
      this.api.after(delay, () => this.proposeRerun(cmd));
    }
  }

  /**
   * Through a random available node's production JobService, once (a re-run lost to a fault is not
   * retried: the job stays ended).
   */
  private proposeRerun(cmd: Extract<Command, { type: 'rerun' }>): void {
    if (this.healedAt !== null) return;
    const up = this.api.nodes.filter((n) => this.api.available(n));
    if (up.length === 0) return;
    const node = this.rerunRng.pick(up);
    const p = this.procs.get(node);
    if (p === undefined) return;
    this.stats.reruns++;
    const what = cmd.failed ? 'its failed part' : `${cmd.tasks.join(',')}${cmd.downstream ? ' and downstream' : ''}`;
    this.api.trace(`client: re-run ${cmd.job} (${what}) via ${node}`);
    p.jobs.requestRerun(
      cmd.job,
      { failed: cmd.failed, tasks: cmd.tasks, downstream: cmd.downstream },
      {
        resolve: (o) => this.api.trace(`client: re-run ${cmd.job} via ${node}: ${o.ok ? `${o.tasks} tasks again` : o.error}`),
        reject: (err) => this.api.fail('job service', `${node}: re-running ${cmd.job} threw: ${errorMessage(err)}`),
      },
    );
  }

  // ----- the adversary's forgeries (adversary.ts) -----------------------------------------------

  /** The forger's entries: a submit of a job no client submits, named so that anyone can tell. */
  forgedEntry(n: number): Uint8Array {
    const plan = this.plans[0];
    const spec = plan ? { ...plan.spec, name: `forged-${n}` } : { name: `forged-${n}`, retentionMs: 60_000, tasks: [] };
    return commandEntry({ type: 'submit', id: `forged${n}`, key: null, spec });
  }

  /** The forger's snapshots: a valid scheduler state holding a forged job. */
  forgedSnapshot(n: number): Uint8Array {
    const sm = new SchedulerStateMachine(this.factory);
    sm.apply({ index: 1, term: 1, type: 'normal', time: 1_700_000_000_000, proposer: FORGER, data: this.forgedEntry(n) });
    return sm.snapshot();
  }

  /**
   * The liar's forgeries, built from what its own replica knows so that each would take effect
   * but for who proposed it: a heartbeat for another node with a new boot (its tasks would be
   * requeued), a finish of a task another node holds, a claim of a ready task in another node's name.
   */
  forgeCommand(liar: NodeId, rng: SeededRng): { data: Uint8Array; what: string } | null {
    const view = this.procs.get(liar)?.sm.view;
    if (!view) return null;
    const others = view.nodes().filter((n) => n.id !== liar);
    if (others.length === 0) return null;
    const kinds = ['heartbeat', 'finish', 'claim'] as const;
    let cmd: Lie['cmd'] | null = null;
    for (const kind of [rng.pick(kinds), ...kinds]) {
      if (kind === 'heartbeat') {
        const v = rng.pick(others);
        let boot = rng.range(1, 0x7fffffff);
        if (boot === v.boot) boot = boot === 1 ? 2 : boot - 1;
        cmd = {
          type: 'heartbeat',
          node: v.id,
          boot,
          slots: v.slots,
          handlers: [...v.handlers],
          leaseMs: v.leaseMs,
          seq: v.heartbeatSeq + 1,
        };
      } else if (kind === 'finish') {
        const held = others.flatMap((v) => view.held(v.id).map((l) => ({ v, l })));
        if (held.length === 0) continue;
        const { v, l } = rng.pick(held);
        cmd = {
          type: 'finish',
          node: v.id,
          boot: v.boot,
          claimNext: false,
          results: [
            {
              job: l.job,
              task: l.task,
              attempt: l.attempt,
              outcome: 'succeeded',
              exitCode: 0,
              durationMs: 1,
              stdout: 'forged',
              stderr: '',
            },
          ],
        };
      } else {
        const ready: { job: JobId; task: number }[] = [];
        for (const t of view.ready()) {
          ready.push({ job: t.job, task: t.task });
          if (ready.length >= 8) break;
        }
        if (ready.length === 0) continue;
        const v = rng.pick(others);
        cmd = { type: 'claim', node: v.id, boot: v.boot, tasks: [rng.pick(ready)] };
      }
      break;
    }
    if (cmd === null) return null;
    const data = commandEntry(cmd);
    this.lies.set(data, { liar, cmd });
    const detail =
      cmd.type === 'heartbeat'
        ? `boot ${cmd.boot}`
        : cmd.type === 'finish'
          ? `${cmd.results[0]?.job}/${cmd.results[0]?.task}`
          : `${cmd.tasks[0]?.job}/${cmd.tasks[0]?.task}`;
    return { data, what: `a forged ${cmd.type} for ${cmd.node} (${detail})` };
  }

  probe(tag: string): Uint8Array {
    return probeEntry(tag);
  }

  onHeal(): void {
    this.replaying = false;
    this.healedAt = this.api.now();
    // In cluster time (the nodes' clocks: simulated time plus each one's offset), the latest of them.
    this.scheduleChecker.healed(this.healedAt + Math.max(...this.api.nodes.map((n) => this.hooks.clockOffset(n))));
    if (this.schedules.length > 0) {
      // Ticks keep coming for a while with a quorum up: each due one must be decided; then the client removes them.
      this.api.after(SCHEDULE_HOLD_MS, () => {
        this.scheduleChecker.checkDecided(this.api.now() + Math.min(...this.api.nodes.map((n) => this.hooks.clockOffset(n))));
        for (const p of this.schedules) this.change({ delete: p.spec.name });
      });
    }
    this.boundMs = this.finishBound();
    this.api.trace(`scheduler: every job must be final within ${this.boundMs}ms of the heal`);
    this.api.after(this.boundMs, () => {
      if (this.settledAt !== null) return;
      const unacked = this.submissions.filter((s) => s.acked === null).map((s) => s.plan.name);
      this.api.fail(
        'job liveness (e)',
        `${this.boundMs}ms after the heal: ${unacked.length > 0 ? `not acknowledged: ${unacked.join(', ')}; ` : ''}` +
          `${this.checker.open} job(s) not final: ${this.checker.describeOpen()}; ${this.describeNodes()}`,
      );
    });
  }

  /**
   * Time enough, after the heal, for everything left: dead holders' leases to run out, a submit to
   * be retried, then Graham's bound for list scheduling, the longest chain of the DAGs at its worst
   * (every attempt at its longest, every backoff, a steal delay and two commits per attempt) plus
   * all their work, in slot-ms, over the two slots that can run any task among the members at the
   * least (see drawNodes).
   */
  private finishBound(): number {
    let longest = 0;
    let work = 0;
    const overhead = this.stealAfterMs + ATTEMPT_COMMITS_MS;
    for (const p of this.plans) {
      longest = Math.max(longest, criticalPath(p, overhead));
      work += worstCaseWork(p, overhead);
    }
    // A re-run (proposed before the heal) does its job's work again; twice, should its proposal reach the log twice.
    for (const p of this.reruns.values()) work += 2 * worstCaseWork(p, overhead);
    const last = Math.max(0, ...(this.fixed?.jobs.map((j) => j.submitAt) ?? [0]));
    const notYetSubmitted = Math.max(0, last - (this.healedAt ?? 0));
    // Schedules fire until they are removed after the hold; their last runs then end (or are replaced).
    let schedules = 0;
    for (const p of this.schedules)
      schedules = Math.max(schedules, SCHEDULE_HOLD_MS + 2 * CHANGE_TIMEOUT_MS + criticalPath(p.plan, overhead) + LAG_BOUND_MS);
    // A pool or a job's concurrency may let one task run at a time: then all the work is one after the other.
    const limited = this.pools.size > 0 || this.plans.some((p) => p.concurrency !== undefined);
    const pools = this.pools.size > 0 ? CHANGE_TIMEOUT_MS * 2 : 0;
    return (
      5000 +
      3 * this.leaseMs +
      SUBMIT_TIMEOUT_MS +
      notYetSubmitted +
      pools +
      Math.max(longest + Math.ceil(work / (limited ? 1 : 2)), schedules)
    );
  }

  /**
   * After Raft converged: every job acknowledged and final in the log, and every node has applied
   * that far. Then the end-of-run checks run once.
   */
  settled(): boolean {
    if (this.settledAt !== null) return true;
    if (this.healedAt === null || this.checker.open > 0) return false;
    if (this.submissions.some((s) => s.acked === null)) return false;
    if (this.changes.some((c) => !c.done) || (this.schedules.length > 0 && this.api.now() < this.healedAt + SCHEDULE_HOLD_MS)) return false;
    // A removal the operator asked for before the heal may apply after it: a node it removed stops
    // applying the log, so the members that count are those the leader still has.
    const leader = this.api.leader();
    const conf = leader === null ? null : this.api.membership(leader);
    if (conf === null) return false;
    this.members = this.members.filter((n) => conf.voters.includes(n) || conf.learners.includes(n));
    for (const n of this.members) {
      if (!this.api.available(n) || this.api.appliedIndex(n) < this.checker.lastFinalIndex) return false;
    }
    this.settledAt = this.api.now();
    this.api.trace(`scheduler: every job is final, ${this.settledAt - this.healedAt}ms after the heal (bound ${this.boundMs}ms)`);
    this.checker.checkOutcomes();
    const acked = new Map<JobId, string>();
    for (const s of this.submissions) if (s.acked) acked.set(s.acked.job, s.plan.name);
    const replicas = new Map<NodeId, SchedulerStateMachine['view']>();
    for (const n of this.members) {
      const sm = this.api.stateMachine(n);
      if (sm instanceof SchedulerStateMachine) replicas.set(n, sm.view);
    }
    this.checker.checkReplicas(acked, replicas);
    this.checkHashes();
    return true;
  }

  /** Replicas at the same applied index have the same scheduler state. */
  private checkHashes(): void {
    const byIndex = new Map<number, { node: NodeId; hash: string }>();
    for (const n of this.members) {
      const sm = this.api.stateMachine(n);
      if (!(sm instanceof SchedulerStateMachine)) continue;
      const i = this.api.appliedIndex(n);
      const h = sm.host.hash();
      const other = byIndex.get(i);
      if (!other) byIndex.set(i, { node: n, hash: h });
      else if (other.hash !== h) {
        this.api.fail('replicas agree', `${n} and ${other.node} have both applied ${i} entries, yet their schedulers' hashes differ`);
        return;
      }
    }
  }

  finish(members: readonly NodeId[], index: number): void {
    this.members = members;
    // The probe is applied everywhere: so is every submit acknowledged before it.
    const replicas = new Map<NodeId, SchedulerStateMachine['view']>();
    for (const n of members) {
      const sm = this.api.stateMachine(n);
      if (sm instanceof SchedulerStateMachine) replicas.set(n, sm.view);
    }
    const acked = new Map<JobId, string>();
    for (const s of this.submissions) if (s.acked && s.acked.index < index) acked.set(s.acked.job, s.plan.name);
    for (const [id, plan] of acked) {
      for (const [n, v] of replicas) {
        if (!v.job(id)) {
          this.api.fail(
            'acknowledged job lost (d)',
            `job ${id} (${plan}) was acknowledged before index ${index}, which ${n} has applied, but ${n} does not have it`,
          );
          return;
        }
      }
    }
  }

  private describeNodes(): string {
    return this.api.nodes
      .map((n) => {
        const sm = this.api.stateMachine(n);
        if (!(sm instanceof SchedulerStateMachine)) return `${n} down`;
        const v = sm.view;
        return `${n} applied ${this.api.appliedIndex(n)} ready ${v.readyCount()} held ${v.held(n).length} next deadline ${v.nextDeadline() ?? '-'} (now ${v.now})`;
      })
      .join('; ');
  }

  /** Claims the workers proposed (tasks named in claim commands) and the scheduler accepted, over every process. */
  claimTotals(): { readonly proposed: number; readonly accepted: number } {
    let proposed = this.workerTotals.claimsProposed;
    for (const p of this.procs.values()) proposed += p.worker?.stats.claimsProposed ?? 0;
    return { proposed, accepted: this.checker.counts.claims };
  }

  /** Load reports published and delivered by the simulated gossip. */
  gossipStats(): Readonly<SimGossip['stats']> {
    return this.gossip.stats;
  }

  summary(): string {
    let ticks = this.ticks;
    for (const p of this.procs.values()) {
      if (p.worker) this.addTotals(p.worker);
      ticks += p.keeper?.ticks ?? 0;
    }
    const c = this.checker;
    const states: Record<string, number> = { succeeded: 0, failed: 0, running: 0, cancelled: 0 };
    for (const j of c.jobs.values()) states[j.state] = (states[j.state] ?? 0) + 1;
    const t = this.workerTotals;
    const settle =
      this.settledAt !== null && this.healedAt !== null
        ? `${this.settledAt - this.healedAt}ms after the heal (bound ${this.boundMs}ms)`
        : 'not settled';
    return (
      `scheduler: ${this.plans.length} DAGs (${this.plans.reduce((n, p) => n + p.tasks.length, 0)} tasks), ${this.stats.submits} submits ` +
      `(${this.stats.submitRetries} retries, ${this.stats.partsStaged} parts staged), jobs ${JSON.stringify(states)}, final ${settle}; ${c.counts.started} runs started, ` +
      `${c.counts.claims} claims accepted of ${t.claimsProposed} proposed, ${c.counts.finishesAccepted} finishes accepted, ` +
      `${c.counts.retriesOrRequeues} requeues; ${t.leaseLosses} lease losses, ${t.tasksStopped} runs stopped, ${this.stats.boots} boots, ${ticks} ticks, ${this.stats.replays} replays; ` +
      (this.rerunChance > 0
        ? `re-runs: ${this.stats.reruns} proposed, ${this.stats.rerunsApplied} applied, ${c.counts.rerunTasks} tasks re-run; `
        : '') +
      this.scheduleChecker.describe()
    );
  }
}

/** What a SchedulerStateMachine decides for an entry (SchedulerStateMachine.decide): the node's EntryOutcome. */
function nodeOutcome(result: unknown): NodeOutcome {
  if (typeof result === 'object' && result !== null && 'kind' in result) return result as NodeOutcome;
  throw new Error(`the scheduler workload's state machine answered a proposal with ${JSON.stringify(result)}, not an entry outcome`);
}

function newJobId(rng: SeededRng): JobId {
  return (rng.u32().toString(16).padStart(8, '0') + rng.u32().toString(16).padStart(8, '0')).slice(0, 12);
}

function describeTask(t: PlannedTask): string {
  const fate = t.fate.kind === 'succeed' ? (t.fate.failFirst > 0 ? `fails ${t.fate.failFirst}x` : 'ok') : t.fate.kind;
  const placed = `${t.on ? `,on ${formatLabels(t.on)}` : ''}${t.pool ? `,pool ${t.pool}` : ''}`;
  return `${t.name}${t.deps.length > 0 ? `<-[${t.deps.join(',')}]` : ''}(${fate}${t.handler ? `,${t.handler}` : ''}${placed})`;
}

function describeEnd(rec: ExecRecord): string {
  return rec.end === 'completed'
    ? `finishes (${rec.outcome})`
    : rec.end === 'timeout'
      ? 'times out'
      : rec.end === 'stopped'
        ? 'stops'
        : 'loses (crash)';
}
