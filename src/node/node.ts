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
import { createNodeMetrics } from '../metrics/metrics.js';
import { serveLogs } from '../net/logs.js';
import { hostAddrs } from '../net/addresses.js';
import { createHost, type MeshHost } from '../net/host.js';
import { loadOrCreateIdentity } from '../net/identity.js';
import { requestJoin, serveJoin } from '../net/join.js';
import { createLoadGossip } from '../net/load-gossip.js';
import { MAX_SLOTS } from '../net/load-report.js';
import { PartitionGate, rulesProblem } from '../net/partition-gate.js';
import { createRaftTransport } from '../net/raft-transport.js';
import { readSwarmKey } from '../net/swarm-key.js';
import type { JoinRequest, JoinResponse, RaftTransport } from '../net/types.js';
import { newClusterId } from '../net/cluster-id.js';
import { encodeMessage } from '../raft/codec.js';
import { RaftNode } from '../raft/raft.js';
import { SeededRng } from '../raft/rng.js';
import { defaultRaftConfig, type Message, type NodeId, type PersistedState, type ProposeResult, type RaftConfig } from '../raft/types.js';
import { encodeCommand } from '../scheduler/command-codec.js';
import { createExecutor } from '../worker/executor.js';
import type { PeerLoad } from '../worker/types.js';
import { Worker } from '../worker/worker.js';
import { LevelStorage } from '../storage/level-storage.js';
import { createApiBackend } from './api-backend.js';
import { ClusterState } from './cluster-state.js';
import { Compactor } from './compactor.js';
import { ConfChanger } from './conf-changer.js';
import { Connector } from './connector.js';
import { prepareDataDir } from './data-dir.js';
import { RaftDriver } from './driver.js';
import { createJoinHandler } from './join-handler.js';
import { introducersOf, joinCluster, WrongClusterError, type JoinSuccess } from './join-client.js';
import { announceThroughMembers } from './announce.js';
import { leaveCluster, serveLeaveRequests, type LeaveOutcome } from './leave.js';
import type { Logger } from './logger.js';
import { JobService } from './job-service.js';
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
import { TimeKeeper } from './time-keeper.js';
import { NODE_TIMINGS } from './timings.js';

const { tickMs: TICK_MS, electionTicks: ELECTION_TICKS, heartbeatTicks: HEARTBEAT_TICKS, gossipMs: GOSSIP_MS, timeKeeperMs: TIME_KEEPER_MS } = NODE_TIMINGS;
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
  readonly driver: RaftDriver;
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

async function start(opts: NodeOptions, log: Logger, teardown: Teardown, signal: AbortSignal | undefined): Promise<RunningNode> {
  /** Between the steps of a start: stop here if the start was cancelled. */
  const checkpoint = (): void => {
    if (signal?.aborted) throw new StartCancelled();
  };
  // Peers refuse a load report claiming more (load-report.ts): this node would be left out of every claim ring.
  if (opts.slots > MAX_SLOTS) fail(new Error(`--slots ${opts.slots} is more than the most a node may offer (${MAX_SLOTS})`), 2);
  // Everything that can fail is checked before any cluster state is written: a failed first start
  // must not leave a one-node cluster behind in the data directory.
  await assertPortFree(opts.api.host, opts.api.port).catch((err: unknown) => fail(err, 2, `cannot serve the API on ${opts.api.host}:${opts.api.port}`));
  await assertListenPortsFree(opts.listen).catch((err: unknown) => fail(err, 2));
  await prepareDataDir(opts.dataDir, { onTightened: (c) => log.info(c, `made ${c.path} private (mode ${c.was} -> ${c.now})`) }).catch((err: unknown) => fail(err, 2));
  const keyFile = opts.swarmKeyFile;
  const swarmKey = keyFile !== null ? attempt(() => readSwarmKey(keyFile), 2) : undefined;
  const identity = await loadOrCreateIdentity(opts.dataDir).catch((err: unknown) => fail(err, 2));
  const id = identity.id;
  log = log.child({ self: short(id) });

  const storage = await LevelStorage.open(join(opts.dataDir, 'raft')).catch((err: unknown) => fail(err, 2));
  teardown.add('storage', () => storage.close());
  checkpoint();
  const restored = storage.load();
  const fresh = isEmpty(restored);
  // A node its own store does not list as a member (new, or never caught up before a restart)
  // asks the cluster to let it in: the answer names the members it may hear (introducers).
  const listed = restored.membership !== null && [...restored.membership.conf.voters, ...restored.membership.conf.learners].includes(id);

  // Test only (--test-partitions): a nemesis cuts this node's real connections through the API.
  const gate = opts.testPartitions ? new PartitionGate() : null;
  const host: MeshHost = await createHost({
    privateKey: identity.privateKey,
    listen: opts.listen,
    bootstrap: opts.bootstrap,
    ...(swarmKey ? { swarmKey } : {}),
    ...(gate ? { connectionGater: gate.connectionGater } : {}),
  }).catch((err: unknown) => fail(listenFailure(err) ?? err, 2));
  teardown.add('host', () => host.stop());
  checkpoint();
  const selfAddrs = (): string[] => hostAddrs(host);

  const scheduler = new SchedulerHost();
  const state = new ClusterState(scheduler);
  const stored = restored.snapshot;
  if (stored) attempt(() => state.restore(stored), 2, `the snapshot in ${opts.dataDir}`);
  // A node that left (SIGTERM) or never caught up asks to join again: through --bootstrap, or else
  // through the members its store knows the addresses of.
  const joinVia = opts.bootstrap.length > 0 || listed ? opts.bootstrap : knownAddresses(state, restored, id);
  const joining = !listed && joinVia.length > 0;
  if (!fresh && !listed && !joining) {
    fail(new Error(`the data directory ${opts.dataDir} holds Raft state that does not list this node (it left the cluster) and knows no member's address: start it with --bootstrap <a member's address> to rejoin`), 2);
  }
  if (!fresh && joining) {
    log.info({ via: joinVia }, 'the data directory holds Raft state that does not list this node (it left, or never caught up): asking to join again');
  } else if (!fresh && opts.bootstrap.length > 0) {
    log.info({ bootstrap: opts.bootstrap }, 'the data directory holds Raft state: rejoining as the same member; --bootstrap only tells where members can be dialled');
    if (aloneIn(restored, id)) await refuseForeignBootstrap(host, opts.bootstrap, storage.clusterId(), id, log);
  }
  if (fresh && !joining) {
    // A new cluster gets a new id, even if an earlier join left one in this (otherwise empty) store.
    await storage.setClusterId(newClusterId()).catch((err: unknown) => fail(err, 2, 'cannot record the new cluster id'));
  }
  checkpoint();
  // Where members can be dialled: what they said over identify, --bootstrap and join answers, then
  // the log (see peer-addresses.ts). The transport, the connector and joins all use this book.
  const book = new PeerAddresses({ self: id, fromLog: (peer) => state.addressesOf(peer) });
  book.hint(opts.bootstrap);
  teardown.add('address book', book.watch(host));
  const addressesOf = (peer: NodeId): readonly string[] | undefined => book.lookup(peer);

  const raft = new RaftNode(raftConfig(id), fresh ? null : restored, fresh && !joining ? { voters: [id], learners: [] } : undefined);
  // A node that joined with nothing and restarted before catching up still holds its vote (docs/security.md §10).
  raft.holdVotingUntil(storage.votingHold());
  const transport: RaftTransport = createRaftTransport(host, gate ? { accept: (from) => gate.accepts(from) } : {});
  teardown.add('transport', () => transport.stop());
  transport.setAddressBook(addressesOf);
  // Who may read task logs and be believed about load: members of the current configuration.
  const isMember = (peer: NodeId): boolean => {
    const c = raft.status().membership.conf;
    return c.voters.includes(peer) || c.learners.includes(peer);
  };

  let reportFatal: (err: unknown) => void = () => undefined;
  const fatal = new Promise<unknown>((resolve) => (reportFatal = resolve));
  const compactor = new Compactor(raft, state, opts.snapshotEvery, log, restored.snapshot);
  // GET /metrics and GET /v1/events, fed from the driver's Readies and the scheduler's effects.
  const events = new EventHub();
  const metrics = createNodeMetrics({
    raftStatus: () => raft.status(),
    raftStats: () => raft.stats,
    schedulerStats: () => scheduler.view.stats,
    schedulerNow: () => scheduler.view.now,
    jobs: () => scheduler.view.jobs(),
    gossipStats: () => ({ ...gossip.stats }),
  });
  const eventLog = new EventLog(log);
  const driver = new RaftDriver({
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
    onAdvance: (rd) => {
      metrics.onReady(rd);
      eventLog.onReady(rd);
      compactor.afterAdvance();
    },
  });
  teardown.add('driver', () => driver.stop());

  // The scheduler's side, subscribed before the driver starts so no applied effect is missed.
  const gossip = createLoadGossip(host, { self: id, periodMs: GOSSIP_MS, isMember });
  teardown.add('load gossip', () => gossip.stop());
  const proposeApp = (data: Uint8Array): ProposeResult => {
    // The core stamps entries with the driver's clock: give it the time of this proposal, not of the last 50 ms tick.
    driver.observeTime();
    const r = raft.propose(encodeNodeEntry({ kind: 'app', data }));
    metrics.onPropose(r);
    if (r.ok) driver.kick();
    return r;
  };
  const executor = await createExecutor({ dataDir: opts.dataDir, nodeId: id, log: (obj, msg) => log.info(obj, msg) }).catch((err: unknown) =>
    fail(err, 2, 'cannot start the task executor'),
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
  });
  // Task logs go with their jobs, and stay under --max-log-bytes (log-janitor.ts).
  const janitor = new LogJanitor({ dataDir: opts.dataDir, maxBytes: opts.maxLogBytes, jobs: () => scheduler.view.jobs(), log });
  // Known once the API listens: where clients that follow the cluster can reach this node.
  let apiUrl: string | null = null;
  const own = (): { name: string; api: string | null; logBytes: number | null } => ({ name: opts.name, api: apiUrl, logBytes: janitor.bytes });
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
  const stopEffects = scheduler.onEffects((effects) => {
    worker.onEffects(effects);
    janitor.onEffects(effects);
    // On change; the gossip layer sends at most once per period.
    publishLoad();
  });
  const stopRestore = scheduler.onRestore(() => worker.onEffects([]));
  const stopSurfaceEffects = scheduler.onEffects((effects, index) => {
    metrics.onEffects(effects);
    events.publish(effects, index);
  });
  const stopSurfaceRestore = scheduler.onRestore(() => {
    metrics.onRestore();
    events.publishReset(state.applied);
  });
  const stopSurfaceApplied = state.onApplied((a) => metrics.onApplied(a.index));
  const stopEventLog = scheduler.onEffects((effects) => {
    for (const e of effects) eventLog.onEffect(e);
  });
  const onPeer = (connected: boolean) => (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString();
    if (isMember(peer)) eventLog.onPeer(peer, connected);
  };
  const peerConnected = onPeer(true);
  const peerLost = onPeer(false);
  host.addEventListener('peer:connect', peerConnected);
  host.addEventListener('peer:disconnect', peerLost);
  teardown.add('event log', () => {
    stopEventLog();
    host.removeEventListener('peer:connect', peerConnected);
    host.removeEventListener('peer:disconnect', peerLost);
  });
  teardown.add('metrics and events', () => {
    stopSurfaceEffects();
    stopSurfaceRestore();
    stopSurfaceApplied();
    events.close();
  });
  worker.start();
  janitor.start();
  teardown.add('task log janitor', () => janitor.stop());
  teardown.add('worker', () => {
    stopEffects();
    stopRestore();
    worker.stop();
  });
  const timeKeeper = new TimeKeeper({
    isLeader: () => raft.status().role === 'leader',
    view: scheduler.view,
    // Cluster time (the voters' median clock), which stamps the entry: the leader's own clock may be wrong.
    now: () => raft.clusterTime(),
    propose: proposeApp,
    periodMs: TIME_KEEPER_MS,
    timers: backgroundClock,
  });
  timeKeeper.start();
  teardown.add('time keeper', () => timeKeeper.stop());
  const jobs = new JobService({ host: scheduler, propose: proposeApp });

  const lastHeard = new Map<NodeId, number>();
  // A joining node takes no Raft message until the cluster has answered its join. Its store is
  // empty: it must not vote (it may have voted in this very term before its store was lost), nor
  // store a log before it has recorded which cluster that log belongs to.
  let admitted = !joining;
  // The transport authenticated `from` (the libp2p peer id); the core drops a frame claiming another sender.
  transport.onFrame((from, frame) => {
    if (!admitted) return;
    if (driver.receiveEncoded(frame, from)) lastHeard.set(from, performance.now());
  });
  driver.start(TICK_MS);
  if (fresh && !joining) {
    log.info({ cluster: storage.clusterId() }, 'empty data directory and no --bootstrap: forming a new single-voter cluster');
    raft.campaign();
    driver.kick();
  }

  const conf = new ConfChanger(driver);
  teardown.add('leave requests', serveLeaveRequests({ state, driver, conf, log }));
  if (fresh && !joining) {
    // The founding seat goes into the log as its first change: a node that joins later replays the
    // log from the start and must learn from it who the first voter is (raft.ts proposedByVoter).
    conf.run({ type: 'addVoter', node: id }, 60_000, { record: true }).catch((err: unknown) => {
      log.error({ err }, 'could not record this founding node in the log: nodes that join will not learn it is a voter');
    });
  }
  const ask = (addr: string, req: JoinRequest, timeoutMs: number): Promise<JoinResponse> => requestJoin(host, addr, req, { timeoutMs });
  const clusterId = (): string | null => storage.clusterId();
  const stopJoin = await serveJoin(host, createJoinHandler({ driver, state, conf, addressesOf, clusterId, log, timeoutMs: JOIN_ANSWER_MS }));
  teardown.add('join service', () => stopJoin());
  const logs = await serveLogs(host, { read: (req) => readLocalLog(opts.dataDir, req), isMember });
  teardown.add('logs service', () => logs.stop());

  const gossipTimer = setInterval(publishLoad, GOSSIP_MS);
  gossipTimer.unref();
  teardown.add('load timer', () => clearInterval(gossipTimer));

  const maintenance = new Maintenance({
    driver,
    state,
    conf,
    log,
    policy: { ...defaultMembershipPolicy, targetVoters: opts.voters, replaceAfterMs: opts.replaceAfterMs },
    lastHeard,
    // Monotonic, as lastHeard is; rounds on unref'd timers.
    clock: { now: () => performance.now(), after: backgroundClock.after },
    selfAddrs,
    announce: async (addrs) => {
      const c = raft.status().membership.conf;
      const targets = new Set<string>(opts.bootstrap);
      for (const m of [...c.voters, ...c.learners]) if (m !== id) for (const a of addressesOf(m) ?? []) targets.add(a);
      // Only a member announces (maintenance checks), and a member's store holds its configuration.
      const request: JoinRequest = { id, addrs, cluster: clusterId(), emptyStore: false };
      const answer = await announceThroughMembers({ targets: [...targets], request, send: ask, attemptMs: 3000, log });
      if (answer !== null) await adoptClusterId(storage, answer, log);
      return answer !== null;
    },
  });
  maintenance.start(MAINTENANCE_MS);
  teardown.add('maintenance', () => maintenance.stop());

  const connector = new Connector({
    host,
    self: id,
    members: () => {
      const c = raft.status().membership.conf;
      return [...c.voters, ...c.learners];
    },
    addressesOf,
    log,
  });
  connector.start(MAINTENANCE_MS);
  teardown.add('connector', () => connector.stop());

  let api: ApiServer;
  try {
    api = await startApiServer({
      host: opts.api.host,
      port: opts.api.port,
      token: opts.apiToken,
      backend: createApiBackend({
        driver,
        state,
        jobs,
        scheduler: scheduler.view,
        workerStats: () => worker.stats,
        testHooks: opts.testHooks,
        ...(gate ? { partition: partitionBackend(gate, host, id, log) } : {}),
        net: () => ({ connections: host.getConnections().map((c) => `${c.remotePeer.toString()} ${c.remoteAddr.toString()} ${c.direction}`), transport: transport.stats, logs: logs.stats }),
        surface: createSurfaceBackend({
          self: id,
          dataDir: opts.dataDir,
          driver,
          scheduler: scheduler.view,
          host,
          gossip: () => gossip.table(),
          heard: () => gossip.lastHeard(),
          own,
          addressesOf: (peer) => (peer === id ? selfAddrs() : (addressesOf(peer) ?? [])),
          events,
          metrics,
        }),
      }),
      logger: log,
    });
  } catch (err) {
    return fail(err, 2, `cannot serve the API on ${opts.api.host}:${opts.api.port}`);
  }
  teardown.add('api', () => api.close());
  apiUrl = advertisedApiUrl(api.url, opts.api.host);
  checkpoint();

  if (joining) {
    const joined = await untilAborted(
      joinCluster({
        bootstrap: joinVia,
        request: { id, addrs: selfAddrs(), cluster: clusterId(), emptyStore: true },
        // Said anew on each attempt rather than assumed: true while Raft messages are held back
        // (see `admitted`), and right even if they are let in earlier one day.
        send: (addr, req, timeoutMs) => ask(addr, { ...req, emptyStore: storage.lastIndex() === 0 }, timeoutMs),
        timeoutMs: opts.joinTimeoutMs,
        log,
        ...(signal ? { signal } : {}),
      }),
      signal,
    ).catch((err: unknown) => (err instanceof StartCancelled ? Promise.reject(err) : fail(err, err instanceof WrongClusterError ? 2 : 3)));
    // Recorded before anything else: from here on the store belongs to this cluster.
    await adoptClusterId(storage, joined, log).catch((err: unknown) => fail(err, 2, 'cannot record the cluster id'));
    for (const m of joined.members) book.hint(m.addrs);
    raft.admitIntroducers(introducersOf(joined));
    // On disk first: a restart before it has caught up must still hold its vote.
    await storage.setVotingHold(joined.admittedAt).catch((err: unknown) => fail(err, 2, 'cannot record the voting hold'));
    raft.holdVotingUntil(joined.admittedAt);
    // The leader retries what was dropped meanwhile (heartbeats, then a snapshot or entries).
    admitted = true;
  }

  let stopping: Promise<void> | null = null;
  log.info({ name: opts.name, addrs: selfAddrs(), api: api.url, fresh, joining, cluster: clusterId() }, 'node started');
  return {
    id,
    listenAddrs: selfAddrs(),
    apiUrl: api.url,
    driver,
    state,
    scheduler,
    fatal,
    leave: () => {
      maintenance.stop();
      return leaveCluster({ driver, conf, log });
    },
    stop: () => {
      stopping ??= teardown.run();
      return stopping;
    },
  };
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
async function refuseForeignBootstrap(host: MeshHost, bootstrap: readonly string[], cluster: string | null, id: NodeId, log: Logger): Promise<void> {
  for (const addr of bootstrap) {
    const r = await requestJoin(host, addr, { id, addrs: hostAddrs(host), cluster, emptyStore: false }, { timeoutMs: 3000 }).catch(() => null);
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
