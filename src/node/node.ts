// One meshrun node, wired: identity, Raft store, libp2p host, Raft transport, the Raft driver and
// the cluster state machine, join service, load gossip, HTTP API and the membership loop.
// `startNode` is what `meshrun node` runs, and what in-process tests and benchmarks call.
import '../net/polyfill.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PeerId } from '@libp2p/interface';
import { EventHub } from '../api/events.js';
import type { PartitionBackend } from '../api/partition-routes.js';
import { startApiServer, type ApiServer } from '../api/server.js';
import { errorMessage } from '../errors.js';
import { createNodeMetrics, type NodeMetrics } from '../metrics/metrics.js';
import { LogsServer } from '../net/logs.js';
import { hostAddrs } from '../net/addresses.js';
import { createHost, type MeshHost } from '../net/host.js';
import { loadOrCreateIdentity, type Identity } from '../net/identity.js';
import { JoinServer, requestJoin } from '../net/join.js';
import { LoadGossip } from '../net/load-gossip.js';
import { MAX_SLOTS } from '../net/load-report.js';
import { PartitionGate, rulesProblem } from '../net/partition-gate.js';
import { StreamTransport, type MeshRaftTransport } from '../net/raft-transport.js';
import { readSwarmKey } from '../net/swarm-key.js';
import type { JoinRequest, JoinResponse } from '../net/types.js';
import { newClusterId } from '../net/cluster-id.js';
import { encodeMessage } from '../raft/codec.js';
import { RaftNode } from '../raft/raft.js';
import { SeededRng } from '../raft/rng.js';
import { defaultRaftConfig, type Message, type NodeId, type PersistedState, type ProposeResult, type RaftConfig } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import type { Effect } from '../scheduler/types.js';
import { createExecutor } from '../worker/executor.js';
import type { PeerLoad } from '../worker/types.js';
import { Worker } from '../worker/worker.js';
import { LevelStorage } from '../storage/level-storage.js';
import { createApiBackend } from './api-backend.js';
import { ClusterState } from './cluster-state.js';
import { Compactor, SNAPSHOT_STEP_TASKS } from './compactor.js';
import { ConfChanger } from './conf-changer.js';
import { Connector } from './connector.js';
import { prepareDataDir } from './data-dir.js';
import { RaftDriver } from './driver.js';
import type { NodeDriver, NodeOutcome } from './node-driver.js';
import { createJoinHandler } from './join-handler.js';
import { introducersOf, joinCluster, WrongClusterError, type JoinSuccess } from './join-client.js';
import { announceThroughMembers } from './announce.js';
import { leaveCluster, serveLeaveRequests, type LeaveOutcome } from './leave.js';
import type { Logger } from './logger.js';
import { commandProposer, JobService } from './job-service.js';
import { LogJanitor } from './log-janitor.js';
import { advertisedApiUrl } from './advertise.js';
import { assertListenPortsFree, assertPortFree, listenFailure } from './ports.js';
import { decodeNodeEntry, encodeNodeEntry } from './entry-envelope.js';
import { EventLog } from './event-log.js';
import { Maintenance } from './maintenance.js';
import { PeerAddresses } from './peer-addresses.js';
import { defaultMembershipPolicy } from './membership.js';
import type { NodeOptions } from './options.js';
import { SchedulerHost } from './scheduler-host.js';
import { createSurfaceBackend } from './surface-backend.js';
import { readLocalLog } from './task-logs.js';
import { backgroundClock, systemClock } from './system-clock.js';
import { Teardown } from './teardown.js';
import { PoolService } from './pool-service.js';
import { ScheduleService } from './schedule-service.js';
import { TimeKeeper } from './time-keeper.js';
import { NODE_TIMINGS } from './timings.js';

const {
  tickMs: TICK_MS,
  electionTicks: ELECTION_TICKS,
  heartbeatTicks: HEARTBEAT_TICKS,
  gossipMs: GOSSIP_MS,
  timeKeeperMs: TIME_KEEPER_MS,
} = NODE_TIMINGS;
const MAINTENANCE_MS = 1000;
const JOIN_ANSWER_MS = 10_000;

/** Why a node could not start; the CLI exits with `exitCode` (2: bad input or data dir, 3: cluster unreachable). */
export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    message: string,
    readonly exitCode: 2 | 3,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RunningNode {
  readonly id: NodeId;
  /** Listen addresses, each ending in /p2p/<id>. */
  readonly listenAddrs: readonly string[];
  readonly apiUrl: string;
  readonly driver: NodeDriver;
  readonly state: ClusterState;
  readonly scheduler: SchedulerHost;
  /** Resolves with an error when the node had to stop on its own (a failed disk write). */
  readonly fatal: Promise<unknown>;
  /** Graceful leave (transfer leadership if leading, then removal), bounded; call before stop(). */
  leave(): Promise<LeaveOutcome>;
  /** Closes everything, in order. Idempotent. */
  stop(): Promise<void>;
}

/** startNode's signal aborted before the node had started (SIGTERM while joining, say); all it had started is stopped. */
export class StartCancelled extends Error {
  override readonly name = 'StartCancelled';
  constructor() {
    super('the node was stopped while starting');
  }
}

export interface StartControl {
  /** Aborting it stops a start in progress: startNode then stops what it started and rejects with StartCancelled. */
  readonly signal?: AbortSignal;
}

export async function startNode(opts: NodeOptions, log: Logger, control: StartControl = {}): Promise<RunningNode> {
  const teardown = new Teardown(log);
  const { signal } = control;
  try {
    if (signal?.aborted) throw new StartCancelled();
    const node = await start(opts, log, teardown, signal);
    if (signal?.aborted) throw new StartCancelled();
    return node;
  } catch (err) {
    await teardown.run();
    // Whatever failed after the abort (a dial cut short by the stopping host) is part of the cancellation.
    throw signal?.aborted ? new StartCancelled() : err;
  }
}

/**
 * A start, in phases (docs/architecture.md §2): each takes what the earlier ones built, adds its
 * parts to the teardown list (stopped in reverse) and returns them. `checkpoint` stops the start
 * between two steps when it was cancelled.
 */
interface Phase {
  readonly opts: NodeOptions;
  readonly log: Logger;
  readonly teardown: Teardown;
  readonly checkpoint: () => void;
}

async function start(opts: NodeOptions, log: Logger, teardown: Teardown, signal: AbortSignal | undefined): Promise<RunningNode> {
  const checkpoint = (): void => {
    if (signal?.aborted) throw new StartCancelled();
  };
  const inputs = await checkInputs(opts, log);
  const p: Phase = { opts, log: log.child({ self: short(inputs.identity.id) }), teardown, checkpoint };
  const store = await openStore(p, inputs.identity.id);
  const net = await startHost(p, inputs);
  const plan = await planMembership(p, store, net);
  const replica = startReplica(p, store, net, plan);
  const work = await startWork(p, net, plan, replica);
  const members = await startMembership(p, store, net, plan, replica);
  const api = await startApi(p, net, replica, work, members);
  if (plan.joining) await joinThroughBootstrap(p, store, net, plan, replica, members, signal);

  const { id, selfAddrs } = net;
  const { driver, state, scheduler } = replica;
  let stopping: Promise<void> | null = null;
  p.log.info(
    { name: opts.name, addrs: selfAddrs(), api: api.url, fresh: store.fresh, joining: plan.joining, cluster: store.storage.clusterId() },
    'node started',
  );
  return {
    id,
    listenAddrs: selfAddrs(),
    apiUrl: api.url,
    driver,
    state,
    scheduler,
    fatal: replica.fatal,
    leave: () => {
      members.maintenance.stop();
      return leaveCluster({ driver, conf: members.conf, log: p.log });
    },
    stop: () => {
      stopping ??= teardown.run();
      return stopping;
    },
  };
}

/**
 * Everything that can fail is checked before any cluster state is written: a failed first start
 * must not leave a one-node cluster behind in the data directory.
 */
async function checkInputs(
  opts: NodeOptions,
  log: Logger,
): Promise<{ readonly identity: Identity; readonly swarmKey: Uint8Array | undefined }> {
  // Peers refuse a load report claiming more (load-report.ts): this node would be left out of every claim ring.
  if (opts.slots > MAX_SLOTS) fail(new Error(`--slots ${opts.slots} is more than the most a node may offer (${MAX_SLOTS})`), 2);
  await assertPortFree(opts.api.host, opts.api.port).catch((err: unknown) =>
    fail(err, 2, `cannot serve the API on ${opts.api.host}:${opts.api.port}`),
  );
  await assertListenPortsFree(opts.listen).catch((err: unknown) => fail(err, 2));
  await prepareDataDir(opts.dataDir, { onTightened: (c) => log.info(c, `made ${c.path} private (mode ${c.was} -> ${c.now})`) }).catch(
    (err: unknown) => fail(err, 2),
  );
  const keyFile = opts.swarmKeyFile;
  const swarmKey = keyFile !== null ? attempt(() => readSwarmKey(keyFile), 2) : undefined;
  const identity = await loadOrCreateIdentity(opts.dataDir).catch((err: unknown) => fail(err, 2));
  return { identity, swarmKey };
}

interface Store {
  readonly storage: LevelStorage;
  readonly restored: PersistedState;
  /** The store has never held anything: a brand-new node. */
  readonly fresh: boolean;
  /** The store lists this node as a member. */
  readonly listed: boolean;
}

/** Phase 1, the store: the Raft store in `<data>/raft` and what it holds. */
async function openStore(p: Phase, id: NodeId): Promise<Store> {
  const storage = await LevelStorage.open(join(p.opts.dataDir, 'raft')).catch((err: unknown) => fail(err, 2));
  p.teardown.add('storage', () => storage.close());
  p.checkpoint();
  const restored = storage.load();
  // A node its own store does not list as a member (new, or never caught up before a restart)
  // asks the cluster to let it in: the answer names the members it may hear (introducers).
  const listed = restored.membership !== null && [...restored.membership.conf.voters, ...restored.membership.conf.learners].includes(id);
  return { storage, restored, fresh: isEmpty(restored), listed };
}

interface Net {
  readonly id: NodeId;
  readonly host: MeshHost;
  /** Test only (--test-partitions): a nemesis cuts this node's real connections through the API. */
  readonly gate: PartitionGate | null;
  readonly selfAddrs: () => string[];
}

/** Phase 2, the transport's ground: the libp2p host. */
async function startHost(p: Phase, inputs: { readonly identity: Identity; readonly swarmKey: Uint8Array | undefined }): Promise<Net> {
  const { opts } = p;
  const gate = opts.testPartitions ? new PartitionGate() : null;
  const host: MeshHost = await createHost({
    privateKey: inputs.identity.privateKey,
    listen: opts.listen,
    bootstrap: opts.bootstrap,
    ...(inputs.swarmKey ? { swarmKey: inputs.swarmKey } : {}),
    ...(gate ? { connectionGater: gate.connectionGater } : {}),
  }).catch((err: unknown) => fail(listenFailure(err) ?? err, 2));
  p.teardown.add('host', () => host.stop());
  p.checkpoint();
  return { id: inputs.identity.id, host, gate, selfAddrs: () => hostAddrs(host) };
}

interface Plan {
  readonly scheduler: SchedulerHost;
  readonly state: ClusterState<readonly Effect[]>;
  /** Asking the cluster to let this node in, through these addresses. */
  readonly joining: boolean;
  readonly joinVia: readonly string[];
  /** A new cluster of one: this node campaigns and records its seat. */
  readonly founding: boolean;
}

/** Phase 3, the replicated state as the store left it, and whether this node founds, joins or rejoins a cluster. */
async function planMembership(p: Phase, store: Store, net: Net): Promise<Plan> {
  const { opts, log } = p;
  const { storage, restored, fresh, listed } = store;
  const scheduler = new SchedulerHost();
  const state = new ClusterState(scheduler);
  const stored = restored.snapshot;
  if (stored) attempt(() => state.restore(stored), 2, `the snapshot in ${opts.dataDir}`);
  // A node that left (SIGTERM) or never caught up asks to join again: through --bootstrap, or else
  // through the members its store knows the addresses of.
  const joinVia = opts.bootstrap.length > 0 || listed ? opts.bootstrap : knownAddresses(state, restored, net.id);
  const joining = !listed && joinVia.length > 0;
  if (!fresh && !listed && !joining) {
    fail(
      new Error(
        `the data directory ${opts.dataDir} holds Raft state that does not list this node (it left the cluster) and knows no member's address: start it with --bootstrap <a member's address> to rejoin`,
      ),
      2,
    );
  }
  if (!fresh && joining) {
    log.info(
      { via: joinVia },
      'the data directory holds Raft state that does not list this node (it left, or never caught up): asking to join again',
    );
  } else if (!fresh && opts.bootstrap.length > 0) {
    log.info(
      { bootstrap: opts.bootstrap },
      'the data directory holds Raft state: rejoining as the same member; --bootstrap only tells where members can be dialled',
    );
    if (aloneIn(restored, net.id)) await refuseForeignBootstrap(net.host, opts.bootstrap, storage.clusterId(), net.id, log);
  }
  const founding = fresh && !joining;
  if (founding) {
    // A new cluster gets a new id, even if an earlier join left one in this (otherwise empty) store.
    await storage.setClusterId(newClusterId()).catch((err: unknown) => fail(err, 2, 'cannot record the new cluster id'));
  }
  p.checkpoint();
  return { scheduler, state, joining, joinVia, founding };
}

interface Replica {
  readonly scheduler: SchedulerHost;
  readonly state: ClusterState<readonly Effect[]>;
  readonly driver: NodeDriver;
  readonly transport: MeshRaftTransport;
  readonly book: PeerAddresses;
  readonly addressesOf: (peer: NodeId) => readonly string[] | undefined;
  /** Who may read task logs and be believed about load: members of the current configuration. */
  readonly isMember: (peer: NodeId) => boolean;
  readonly gossip: LoadGossip;
  readonly metrics: NodeMetrics;
  readonly events: EventHub;
  readonly eventLog: EventLog;
  readonly fatal: Promise<unknown>;
}

/** Phase 4, the replica: the Raft core behind its driver, the Raft transport, load gossip, metrics. */
function startReplica(p: Phase, store: Store, net: Net, plan: Plan): Replica {
  const { opts, log, teardown } = p;
  const { id, host, gate } = net;
  const { storage, restored, fresh } = store;
  const { state, scheduler } = plan;
  // Where members can be dialled: what they said over identify, --bootstrap and join answers, then
  // the log (see peer-addresses.ts). The transport, the connector and joins all use this book.
  const book = new PeerAddresses({ self: id, fromLog: (peer) => state.addressesOf(peer) });
  book.hint(opts.bootstrap);
  teardown.add('address book', book.watch(host));
  const addressesOf = (peer: NodeId): readonly string[] | undefined => book.lookup(peer);

  const raft = new RaftNode(raftConfig(id), fresh ? null : restored, plan.founding ? { voters: [id], learners: [] } : undefined);
  // A node that joined with nothing and restarted before catching up still holds its vote (docs/security.md §10).
  raft.holdVotingUntil(storage.votingHold());
  const transport = new StreamTransport(host, gate ? { accept: (from) => gate.accepts(from) } : {});
  transport.start();
  teardown.add('transport', () => transport.stop());
  transport.setAddressBook(addressesOf);

  let reportFatal: (err: unknown) => void = () => undefined;
  const fatal = new Promise<unknown>((resolve) => (reportFatal = resolve));
  // The driver below is the compactor's way into the core; it calls compact only from onAdvance, once both exist.
  const compactor: Compactor<NodeOutcome> = new Compactor(
    { compact: (index, data): boolean => driver.compact(index, data) },
    state,
    opts.snapshotEvery,
    log,
    restored.snapshot,
    { clock: () => performance.now(), slices: { stepTasks: SNAPSHOT_STEP_TASKS, defer: (fn) => setImmediate(fn) } },
  );
  // GET /metrics and GET /v1/events, fed from the driver's Readies and the scheduler's effects.
  const events = new EventHub();
  const metrics = createNodeMetrics({
    raftStatus: () => driver.status(),
    raftStats: () => driver.stats,
    schedulerStats: () => scheduler.view.stats,
    schedulerNow: () => scheduler.view.now,
    jobs: () => scheduler.view.jobs(),
    gossipStats: () => ({ ...gossip.stats }),
  });
  const eventLog = new EventLog(log);
  // From here on the core is the driver's (docs/architecture.md §15): nothing else calls it.
  const driver: NodeDriver = new RaftDriver<NodeOutcome>({
    raft,
    storage,
    timers: backgroundClock,
    machine: compactor.machine(),
    send: (msgs: readonly Message[]) => {
      for (const m of msgs) transport.send(m.to, encodeMessage(m));
    },
    onFatal: (err) => {
      log.fatal({ err }, 'the Raft driver failed (a store write or a cycle threw): this node stops; restart it to recover from its store');
      reportFatal(err);
    },
    onPropose: (r) => metrics.onPropose(r),
    onAdvance: (rd) => {
      metrics.onReady(rd);
      eventLog.onReady(rd);
      compactor.afterAdvance();
    },
  });
  teardown.add('driver', () => driver.stop());
  const isMember = (peer: NodeId): boolean => {
    const c = driver.status().membership.conf;
    return c.voters.includes(peer) || c.learners.includes(peer);
  };
  const gossip = new LoadGossip({ pubsub: host.services.pubsub }, { self: id, periodMs: GOSSIP_MS, isMember });
  gossip.start();
  teardown.add('load gossip', () => gossip.stop());
  observe(p, net, plan, { metrics, events, eventLog, isMember });
  return { scheduler, state, driver, transport, book, addressesOf, isMember, gossip, metrics, events, eventLog, fatal };
}

/** Metrics, the event stream and the event log listen to the scheduler's effects and the host's peers. */
function observe(p: Phase, net: Net, plan: Plan, o: Pick<Replica, 'metrics' | 'events' | 'eventLog' | 'isMember'>): void {
  const { scheduler, state } = plan;
  const stopSurfaceEffects = scheduler.onEffects((effects, index) => {
    o.metrics.onEffects(effects);
    o.events.publish(effects, index);
  });
  const stopSurfaceRestore = scheduler.onRestore(() => {
    o.metrics.onRestore();
    o.events.publishReset(state.applied);
  });
  const stopSurfaceApplied = state.onApplied((a) => o.metrics.onApplied(a.index));
  const stopEventLog = scheduler.onEffects((effects) => {
    for (const e of effects) o.eventLog.onEffect(e);
  });
  const onPeer =
    (connected: boolean) =>
    (evt: CustomEvent<PeerId>): void => {
      const peer = evt.detail.toString();
      if (o.isMember(peer)) o.eventLog.onPeer(peer, connected);
    };
  const peerConnected = onPeer(true);
  const peerLost = onPeer(false);
  net.host.addEventListener('peer:connect', peerConnected);
  net.host.addEventListener('peer:disconnect', peerLost);
  p.teardown.add('event log', () => {
    stopEventLog();
    net.host.removeEventListener('peer:connect', peerConnected);
    net.host.removeEventListener('peer:disconnect', peerLost);
  });
  p.teardown.add('metrics and events', () => {
    stopSurfaceEffects();
    stopSurfaceRestore();
    stopSurfaceApplied();
    o.events.close();
  });
}

interface Work {
  readonly worker: Worker;
  readonly jobs: JobService;
  readonly schedules: ScheduleService;
  readonly pools: PoolService;
  /** What this node says of itself in its load reports and GET /v1/nodes. */
  readonly own: () => { name: string; api: string | null; logBytes: number | null };
  /** Where clients that follow the cluster can reach this node: known once the API listens. */
  advertise(apiUrl: string): void;
}

/** Phase 5, the worker: executor, worker, task log janitor, load reports, time keeper (and its schedule keeper), the API's jobs and schedules services. */
async function startWork(p: Phase, net: Net, plan: Plan, replica: Replica): Promise<Work> {
  const { opts, log, teardown } = p;
  const { id } = net;
  const { scheduler, state } = plan;
  const { driver, gossip } = replica;
  // The worker's and the time keeper's commands: nobody waits for them, their outcomes show in the state.
  const proposeApp = (data: Uint8Array): ProposeResult => driver.proposeAndForget(encodeNodeEntry({ kind: 'app', data }));
  // The API's commands: answered with the scheduler's effects of the command once applied here.
  const requestCommand = commandProposer((build, o, reply) => driver.requestPropose(build, o, reply));
  const executor = await createExecutor({ dataDir: opts.dataDir, nodeId: id, log: (obj, msg) => log.info(obj, msg) }).catch(
    (err: unknown) => fail(err, 2, 'cannot start the task executor'),
  );
  teardown.add('executor', () => executor.close());
  const worker = new Worker({
    self: id,
    // This process's incarnation: commands of an earlier run of this node are recognised as stale.
    boot: randomBytes(4).readUInt32LE(0) || 1,
    slots: opts.slots,
    view: scheduler.view,
    executor,
    clock: systemClock,
    propose: (cmd) => proposeApp(encodeCommand(cmd)).ok,
    peers: (): PeerLoad[] => [...gossip.table().values()],
    labels: opts.labels,
  });
  // Task logs go with their jobs, and stay under --max-log-bytes (log-janitor.ts).
  const janitor = new LogJanitor({ dataDir: opts.dataDir, maxBytes: opts.maxLogBytes, jobs: () => scheduler.view.jobs(), log });
  let apiUrl: string | null = null;
  const own = (): { name: string; api: string | null; logBytes: number | null } => ({
    name: opts.name,
    api: apiUrl,
    logBytes: janitor.bytes,
  });
  const publishLoad = (): void => {
    const load = worker.load();
    const me = own();
    // Attempts adopted after a restart may briefly outnumber the slots; peers refuse such a report.
    gossip.publish({
      node: id,
      ...load,
      running: Math.min(load.running, load.slots),
      applied: state.applied,
      at: Date.now(),
      name: me.name,
      ...(me.api !== null ? { api: me.api } : {}),
      ...(me.logBytes !== null ? { logBytes: me.logBytes } : {}),
    });
  };
  // Subscribed before the driver starts, so no applied effect is missed.
  const stopEffects = scheduler.onEffects((effects) => {
    worker.onEffects(effects);
    janitor.onEffects(effects);
    // On change; the gossip layer sends at most once per period.
    publishLoad();
  });
  const stopRestore = scheduler.onRestore(() => worker.onEffects([]));
  worker.start();
  janitor.start();
  teardown.add('task log janitor', () => janitor.stop());
  teardown.add('worker', () => {
    stopEffects();
    stopRestore();
    worker.stop();
  });
  const timeKeeper = new TimeKeeper(
    {
      isLeader: () => driver.status().role === 'leader',
      view: scheduler.view,
      // Cluster time (the voters' median clock), which stamps the entry: the leader's own clock may be wrong.
      now: () => driver.clusterTime(),
      propose: proposeApp,
      timers: backgroundClock,
    },
    { periodMs: TIME_KEEPER_MS },
  );
  timeKeeper.start();
  teardown.add('time keeper', () => timeKeeper.stop());
  const gossipTimer = setInterval(publishLoad, GOSSIP_MS);
  gossipTimer.unref();
  teardown.add('load timer', () => clearInterval(gossipTimer));
  const jobs = new JobService({ view: scheduler.view, propose: requestCommand });
  const schedules = new ScheduleService({ propose: requestCommand, now: () => backgroundClock.now() });
  const pools = new PoolService({ propose: requestCommand });
  return {
    worker,
    jobs,
    schedules,
    pools,
    own,
    advertise: (url) => {
      apiUrl = url;
    },
  };
}

interface Members {
  readonly conf: ConfChanger;
  readonly maintenance: Maintenance;
  readonly logs: LogsServer;
  /** Asks a member over the join protocol (joins and address announcements). */
  readonly ask: (addr: string, req: JoinRequest, timeoutMs: number) => Promise<JoinResponse>;
  /** Lets Raft messages in: a joining node takes none until the cluster has answered its join. */
  admit(): void;
}

/** Phase 6, membership: Raft messages in, the driver ticking, join and log protocols, the membership loop, connections to every member. */
async function startMembership(p: Phase, store: Store, net: Net, plan: Plan, replica: Replica): Promise<Members> {
  const { opts, log, teardown } = p;
  const { id, host, selfAddrs } = net;
  const { storage } = store;
  const { state } = plan;
  const { driver, transport, addressesOf, isMember } = replica;
  const lastHeard = new Map<NodeId, number>();
  // A joining node's store is empty: it must not vote (it may have voted in this very term before
  // its store was lost), nor store a log before it has recorded which cluster that log belongs to.
  let admitted = !plan.joining;
  // The transport authenticated `from` (the libp2p peer id); the core drops a frame claiming another sender.
  transport.onFrame((from, frame) => {
    if (!admitted) return;
    if (driver.receiveEncoded(frame, from)) lastHeard.set(from, performance.now());
  });
  driver.start(TICK_MS);
  if (plan.founding) {
    log.info({ cluster: storage.clusterId() }, 'empty data directory and no --bootstrap: forming a new single-voter cluster');
    driver.campaign();
  }

  const conf = new ConfChanger(driver);
  teardown.add('leave requests', serveLeaveRequests({ state, driver, conf, log }));
  if (plan.founding) {
    // The founding seat goes into the log as its first change: a node that joins later replays the
    // log from the start and must learn from it who the first voter is (raft.ts proposedByVoter).
    conf.run({ type: 'addVoter', node: id }, 60_000, { record: true }).catch((err: unknown) => {
      log.error({ err }, 'could not record this founding node in the log: nodes that join will not learn it is a voter');
    });
  }
  const ask = (addr: string, req: JoinRequest, timeoutMs: number): Promise<JoinResponse> => requestJoin(host, addr, req, { timeoutMs });
  const clusterId = (): string | null => storage.clusterId();
  const joins = new JoinServer(host, {
    handler: createJoinHandler({ driver, state, conf, addressesOf, clusterId, log, timeoutMs: JOIN_ANSWER_MS }),
  });
  await joins.start();
  teardown.add('join service', () => joins.stop());
  const logs = new LogsServer(host, { read: (req) => readLocalLog(opts.dataDir, req), isMember });
  await logs.start();
  teardown.add('logs service', () => logs.stop());

  const maintenance = new Maintenance(
    {
      driver,
      state,
      conf,
      log,
      lastHeard,
      // Monotonic, as lastHeard is; rounds on unref'd timers.
      clock: { now: () => performance.now(), after: (ms, fn) => backgroundClock.after(ms, fn) },
      selfAddrs,
      announce: async (addrs) => {
        const c = driver.status().membership.conf;
        const targets = new Set<string>(opts.bootstrap);
        for (const m of [...c.voters, ...c.learners]) if (m !== id) for (const a of addressesOf(m) ?? []) targets.add(a);
        // Only a member announces (maintenance checks), and a member's store holds its configuration.
        const request: JoinRequest = { id, addrs, cluster: clusterId(), emptyStore: false };
        const answer = await announceThroughMembers({ targets: [...targets], request, send: ask, attemptMs: 3000, log });
        if (answer !== null) await adoptClusterId(storage, answer, log);
        return answer !== null;
      },
    },
    { policy: { ...defaultMembershipPolicy, targetVoters: opts.voters, replaceAfterMs: opts.replaceAfterMs }, periodMs: MAINTENANCE_MS },
  );
  maintenance.start();
  teardown.add('maintenance', () => maintenance.stop());

  const connector = new Connector(
    {
      host,
      members: () => {
        const c = driver.status().membership.conf;
        return [...c.voters, ...c.learners];
      },
      addressesOf,
      log,
    },
    { self: id, periodMs: MAINTENANCE_MS },
  );
  connector.start();
  teardown.add('connector', () => connector.stop());
  return {
    conf,
    maintenance,
    logs,
    ask,
    admit: () => {
      admitted = true;
    },
  };
}

/** Phase 7, the HTTP API. */
async function startApi(p: Phase, net: Net, replica: Replica, work: Work, members: Members): Promise<ApiServer> {
  const { opts, log } = p;
  const { id, host, gate, selfAddrs } = net;
  const { driver, state, scheduler, gossip, addressesOf } = replica;
  let api: ApiServer;
  try {
    api = await startApiServer({
      host: opts.api.host,
      port: opts.api.port,
      token: opts.apiToken,
      backend: createApiBackend({
        driver,
        state,
        jobs: work.jobs,
        schedules: work.schedules,
        pools: work.pools,
        scheduler: scheduler.view,
        workerStats: () => work.worker.stats,
        testHooks: opts.testHooks,
        ...(gate ? { partition: partitionBackend(gate, host, id, log) } : {}),
        net: () => ({
          connections: host.getConnections().map((c) => `${c.remotePeer.toString()} ${c.remoteAddr.toString()} ${c.direction}`),
          transport: replica.transport.stats,
          logs: members.logs.stats,
        }),
        surface: createSurfaceBackend({
          self: id,
          dataDir: opts.dataDir,
          driver,
          scheduler: scheduler.view,
          host,
          gossip: () => gossip.table(),
          heard: () => gossip.lastHeard(),
          own: work.own,
          addressesOf: (peer) => (peer === id ? selfAddrs() : (addressesOf(peer) ?? [])),
          events: replica.events,
          metrics: replica.metrics,
        }),
      }),
      logger: log,
    });
  } catch (err) {
    return fail(err, 2, `cannot serve the API on ${opts.api.host}:${opts.api.port}`);
  }
  p.teardown.add('api', () => api.close());
  work.advertise(advertisedApiUrl(api.url, opts.api.host));
  p.checkpoint();
  return api;
}

/** Phase 8, for a node its store does not list: ask the cluster to let it in, then let Raft messages in. */
async function joinThroughBootstrap(
  p: Phase,
  store: Store,
  net: Net,
  plan: Plan,
  replica: Replica,
  members: Members,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { opts, log } = p;
  const { storage } = store;
  const { driver } = replica;
  const joined = await untilAborted(
    joinCluster({
      bootstrap: plan.joinVia,
      request: { id: net.id, addrs: net.selfAddrs(), cluster: storage.clusterId(), emptyStore: true },
      // Said anew on each attempt rather than assumed: true while Raft messages are held back
      // (see Members.admit), and right even if they are let in earlier one day.
      send: (addr, req, timeoutMs) => members.ask(addr, { ...req, emptyStore: storage.lastIndex() === 0 }, timeoutMs),
      timeoutMs: opts.joinTimeoutMs,
      log,
      ...(signal ? { signal } : {}),
    }),
    signal,
  ).catch((err: unknown) => (err instanceof StartCancelled ? Promise.reject(err) : fail(err, err instanceof WrongClusterError ? 2 : 3)));
  // Recorded before anything else: from here on the store belongs to this cluster.
  await adoptClusterId(storage, joined, log).catch((err: unknown) => fail(err, 2, 'cannot record the cluster id'));
  for (const m of joined.members) replica.book.hint(m.addrs);
  driver.admitIntroducers(introducersOf(joined));
  // On disk first: a restart before it has caught up must still hold its vote.
  await storage.setVotingHold(joined.admittedAt).catch((err: unknown) => fail(err, 2, 'cannot record the voting hold'));
  driver.holdVotingUntil(joined.admittedAt);
  // The leader retries what was dropped meanwhile (heartbeats, then a snapshot or entries).
  members.admit();
}

/** The API's side of the gate; every change is logged, so a node's log shows when it was cut off. */
function partitionBackend(gate: PartitionGate, host: MeshHost, id: NodeId, log: Logger): PartitionBackend {
  return {
    set: (rules) => {
      const problem = rulesProblem(rules, id);
      if (problem !== null) return { ok: false, error: problem };
      gate.set(host, rules);
      log.warn({ rules }, 'test partition: rules installed');
      return { ok: true, rules: gate.rules() };
    },
    heal: () => {
      gate.heal();
      log.warn('test partition: healed');
      return gate.rules();
    },
  };
}

function raftConfig(id: NodeId): RaftConfig {
  return {
    ...defaultRaftConfig,
    id,
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    tickMs: TICK_MS,
    // Seeded from the OS: nodes must not share election timeouts.
    rng: new SeededRng(randomBytes(4).readUInt32LE(0)),
  };
}

/** Records the cluster id a join answer carries when the store has none yet (a new node, or one older than cluster ids). */
async function adoptClusterId(storage: LevelStorage, answer: JoinSuccess, log: Logger): Promise<void> {
  if (answer.cluster === null || storage.clusterId() !== null) return;
  await storage.setClusterId(answer.cluster);
  log.info({ cluster: answer.cluster }, 'recorded the cluster id');
}

/** Every address the store knows for nodes other than `self`: the snapshot's address book, then the log's address entries. */
function knownAddresses(state: ClusterState, p: PersistedState, self: NodeId): string[] {
  const book = new Map(state.addressBook());
  for (const e of p.entries) {
    if (e.type !== 'normal' || e.data.length === 0) continue;
    const d = decodeNodeEntry(e.data);
    if (d.ok && d.value.kind === 'address') book.set(d.value.id, d.value.addrs);
  }
  return [...book].filter(([peer]) => peer !== self).flatMap(([, addrs]) => addrs);
}

/** The store holds a cluster of which this node is the only member: what a first start that failed half-way leaves. */
function aloneIn(p: PersistedState, self: NodeId): boolean {
  const c = p.membership?.conf;
  return c !== undefined && c.voters.length === 1 && c.voters[0] === self && c.learners.length === 0;
}

/**
 * A one-node cluster started with --bootstrap: if a bootstrap peer says it belongs to another
 * cluster, this data directory is a leftover (a first start that failed after writing its state),
 * and running it would make a second, separate cluster. Peers that do not answer are no reason to
 * refuse (they may be restarting too).
 */
async function refuseForeignBootstrap(
  host: MeshHost,
  bootstrap: readonly string[],
  cluster: string | null,
  id: NodeId,
  log: Logger,
): Promise<void> {
  for (const addr of bootstrap) {
    const r = await requestJoin(host, addr, { id, addrs: hostAddrs(host), cluster, emptyStore: false }, { timeoutMs: 3000 }).catch(
      () => null,
    );
    if (r !== null && !r.ok && r.reason === 'wrong-cluster') {
      fail(
        new Error(
          `this data directory holds a one-node cluster of its own (${cluster ?? 'no id'}), but --bootstrap ${addr} belongs to another: ` +
            'it is left over from a start that failed; start with a new --data directory to join, or without --bootstrap to keep it',
        ),
        2,
      );
    }
    if (r !== null) return;
    log.info({ addr }, 'a bootstrap peer did not answer while checking the cluster id; going on');
  }
}

/** A Raft store that has never held anything: a brand-new node. */
function isEmpty(p: PersistedState): boolean {
  return p.hardState.term === 0 && p.membership === null && p.snapshot === null && p.entries.length === 0;
}

/** `p`, or a StartCancelled rejection as soon as `signal` aborts (`p` keeps running; its outcome is then ignored). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new StartCancelled());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function attempt<T>(fn: () => T, exitCode: 2 | 3, context?: string): T {
  try {
    return fn();
  } catch (err) {
    return fail(err, exitCode, context);
  }
}

function fail(err: unknown, exitCode: 2 | 3, context?: string): never {
  const msg = errorMessage(err);
  throw new StartError(context ? `${context}: ${msg}` : msg, exitCode, { cause: err });
}

function short(id: NodeId): string {
  return id.slice(-8);
}
