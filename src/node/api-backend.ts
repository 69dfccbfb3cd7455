// What the HTTP API reads and does on this node: the local Raft status as the API's ClusterView,
// and the test hooks (a probe proposal answered once applied here, and the applied probe list).
import type { ProbeOutcome } from '../api/outcomes.js';
import { utf8Length } from '../codec/proto.js';
import type { ApiBackend } from '../api/server.js';
import type { PartitionBackend } from '../api/partition-routes.js';
import type { SurfaceBackend } from '../api/surface.js';
import type { ApiRole, ClusterView } from '../api/types.js';
import type { RaftStatus } from '../raft/raft.js';
import type { SchedulerView } from '../scheduler/types.js';
import type { ClusterState } from './cluster-state.js';
import type { RaftDriver } from './driver.js';
import type { JobService } from './job-service.js';
import type { PoolService } from './pool-service.js';
import type { ScheduleService } from './schedule-service.js';
import { envelope, MAX_PROBE_BYTES } from './entry-envelope.js';
import { ProposalError } from './proposal.js';

export function clusterView(st: RaftStatus): ClusterView {
  const { voters, learners } = st.membership.conf;
  return {
    self: st.id,
    role: apiRole(st),
    term: st.term,
    leader: st.leader,
    commit: st.commit,
    applied: st.applied,
    voters: [...voters],
    learners: [...learners],
  };
}

/** A node that is not a voter in its own view (a learner, or not yet or no longer a member) cannot lead or vote: 'learner'. */
function apiRole(st: RaftStatus): ApiRole {
  if (!st.membership.conf.voters.includes(st.id)) return 'learner';
  switch (st.role) {
    case 'leader':
      return 'leader';
    case 'candidate':
    case 'precandidate':
      return 'candidate';
    case 'follower':
      return 'follower';
  }
}

export interface BackendDeps {
  readonly driver: RaftDriver;
  readonly state: ClusterState;
  readonly jobs: JobService;
  readonly schedules?: ScheduleService;
  readonly pools?: PoolService;
  readonly scheduler: SchedulerView;
  readonly testHooks: boolean;
  /** What GET /v1/debug/net shows. */
  readonly net?: () => unknown;
  /** This node's worker counters, for GET /v1/debug/stats. */
  readonly workerStats?: () => unknown;
  /** How long a probe may take to be applied here before the API answers 503. */
  readonly probeTimeoutMs?: number;
  /** Nodes, events, task logs, metrics and consistent reads (see surface-backend.ts). */
  readonly surface?: SurfaceBackend;
  /** The partition endpoints; only a node started with --test-partitions has them. */
  readonly partition?: PartitionBackend;
}

export function createApiBackend(deps: BackendDeps): ApiBackend {
  const cluster = (): ClusterView => clusterView(deps.driver.status());
  const jobs: ApiBackend['jobs'] = {
    submit: (spec, key) => deps.jobs.submit(spec, key),
    detail: (id) => deps.scheduler.jobDetail(id),
    progress: (id) => deps.scheduler.jobProgress(id),
    task: (id, name) => deps.scheduler.task(id, name),
    page: (id, query) => deps.scheduler.taskPage(id, query),
    specs: (id, query) => deps.scheduler.specPage(id, query),
    exists: (id) => deps.scheduler.jobSummary(id) !== undefined,
    list: () => deps.scheduler.jobs(),
    cancel: (id) => deps.jobs.cancel(id),
    rerun: (id, req) => deps.jobs.rerun(id, req),
  };
  const partition = deps.partition ? { partition: deps.partition } : {};
  const service = deps.schedules;
  const schedules: Pick<ApiBackend, 'schedules'> =
    service === undefined
      ? {}
      : {
          schedules: {
            put: (spec) => service.put(spec),
            act: (action, name) => service.act(action, name),
            list: () => deps.scheduler.schedules(),
            get: (name) => deps.scheduler.schedule(name),
          },
        };
  const poolService = deps.pools;
  const pools: Pick<ApiBackend, 'pools'> =
    poolService === undefined
      ? {}
      : {
          pools: {
            set: (name, size) => poolService.set(name, size),
            list: () => deps.scheduler.pools(),
            get: (name) => deps.scheduler.pool(name),
          },
        };
  if (!deps.testHooks) return { ...deps.surface, ...partition, ...schedules, ...pools, cluster, jobs };
  return {
    ...deps.surface,
    ...partition,
    ...schedules,
    ...pools,
    cluster,
    jobs,
    debug: {
      probe: (value) => proposeProbe(deps, value),
      probes: () => deps.state.probes(),
      stats: () => ({ raft: deps.driver.stats, scheduler: deps.scheduler.stats, worker: deps.workerStats?.() ?? null }),
      net: () => ({ ...(deps.net?.() ?? {}), addresses: Object.fromEntries(deps.state.addressBook()), raftStats: deps.driver.stats }),
    },
  };
}

/** Proposes a probe and answers with the index at which this node applied it (RaftDriver.propose, forwarding included). */
async function proposeProbe(deps: BackendDeps, value: string): Promise<ProbeOutcome> {
  if (utf8Length(value) > MAX_PROBE_BYTES) return { ok: false, reason: 'invalid', error: 'probe value too large' };
  const timeoutMs = deps.probeTimeoutMs ?? 5000;
  try {
    const { index } = await deps.driver.propose(envelope({ kind: 'probe', nonce: '', value }), { timeoutMs });
    return { ok: true, index };
  } catch (err) {
    if (!(err instanceof ProposalError)) throw err;
    if (err.reason === 'too-large') return { ok: false, reason: 'invalid', error: 'probe value too large' };
    if (err.reason === 'timeout')
      return {
        ok: false,
        reason: 'unavailable',
        error: `probe not applied on this node within ${timeoutMs} ms (lost to a leader change?)`,
      };
    return {
      ok: false,
      reason: 'unavailable',
      error: err.reason === 'no-leader' ? 'proposal refused: no leader is known right now' : err.message,
    };
  }
}
