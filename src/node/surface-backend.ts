// The node's side of GET /v1/nodes, /v1/events, the task log endpoint, /metrics and
// ?consistent=true (see api/surface.ts): what each reads on this node.
import { peerIdFromString } from '@libp2p/peer-id';
import type { Libp2p } from '@libp2p/interface';
import type { EventHub } from '../api/events.js';
import type { ReadBarrierOutcome, SurfaceBackend } from '../api/surface.js';
import type { NodeInfo } from '../api/types.js';
import { errorMessage } from '../errors.js';
import { parseMultiaddr } from '../net/addresses.js';
import type { LiveLoad } from '../net/load-gossip.js';
import { requestLog, type LogAnswer, type LogRequest } from '../net/logs.js';
import type { Membership, NodeId } from '../raft/types.js';
import type { NodeView, SchedulerView } from '../scheduler/types.js';
import type { NodeMetrics } from '../metrics/metrics.js';
import type { RaftDriver } from './driver.js';
import { taskLog } from './task-logs.js';

/** How long a remote log fetch may take before the API answers 503. */
const LOG_FETCH_TIMEOUT_MS = 5_000;
const READ_INDEX_TIMEOUT_MS = 5_000;

export interface NodesInput {
  readonly self: NodeId;
  readonly leader: NodeId | null;
  readonly membership: Pick<Membership, 'conf'>;
  readonly applied: number;
  readonly scheduler: readonly NodeView[];
  readonly gossip: ReadonlyMap<string, LiveLoad>;
  /** The latest report of every sender heard, stale ones included (names and last-heard times of silent nodes). */
  readonly heard?: ReadonlyMap<string, LiveLoad>;
  /** Scheduler time, to tell a lease that still holds from one that ran out. */
  readonly schedulerNow?: number;
  /** This node's own name, API URL and log bytes (its own report may not have gone out yet). */
  readonly own?: { readonly name: string | null; readonly api: string | null; readonly logBytes: number | null };
  readonly addressesOf: (id: NodeId) => readonly string[];
}

/** Every node any source knows of: Raft members, nodes the scheduler has heartbeats of, live gossip senders. Members first. */
export function nodesView(input: NodesInput): NodeInfo[] {
  const { voters, learners } = input.membership.conf;
  const ids: NodeId[] = [];
  const seen = new Set<NodeId>();
  const add = (id: NodeId): void => {
    if (!seen.has(id)) {
      seen.add(id);
      ids.push(id);
    }
  };
  for (const id of voters) add(id);
  for (const id of learners) add(id);
  const sched = new Map<NodeId, NodeView>();
  for (const n of input.scheduler) {
    sched.set(n.id, n);
    add(n.id);
  }
  for (const id of input.gossip.keys()) add(id);
  return ids.map((id): NodeInfo => {
    const n = sched.get(id);
    const g = input.gossip.get(id);
    const h = g ?? input.heard?.get(id);
    const self = id === input.self;
    const role =
      id === input.leader && voters.includes(id) ? 'leader' : voters.includes(id) ? 'voter' : learners.includes(id) ? 'learner' : null;
    const leaseHolds = n !== undefined && input.schedulerNow !== undefined && n.leaseUntil > input.schedulerNow;
    const up = self || g !== undefined || leaseHolds;
    // Its latest sign of life: gossip here, or the heartbeat behind its lease.
    const lastSign = Math.max(h?.receivedAt ?? -Infinity, n ? n.leaseUntil - n.leaseMs : -Infinity);
    const own = self ? input.own : undefined;
    return {
      id,
      name: own?.name ?? h?.name ?? null,
      state: up ? 'up' : 'down',
      downSince: up || !Number.isFinite(lastSign) ? null : lastSign,
      api: own?.api ?? h?.api ?? null,
      logBytes: own?.logBytes ?? h?.logBytes ?? null,
      role,
      self,
      addresses: input.addressesOf(id),
      slots: n?.slots ?? g?.slots ?? null,
      ahead: n?.ahead ?? null,
      used: n?.used ?? null,
      free: n ? Math.max(0, n.slots - n.used) : (g?.free ?? null),
      running: n?.running ?? g?.running ?? null,
      handlers: n?.handlers ?? g?.handlers ?? [],
      labels: n?.labels ?? {},
      heartbeatSeq: n?.heartbeatSeq ?? null,
      leaseUntil: n?.leaseUntil ?? null,
      leaseMs: n?.leaseMs ?? null,
      lastSeen: g?.receivedAt ?? null,
      applied: id === input.self ? input.applied : (g?.applied ?? null),
    };
  });
}

export interface SurfaceDeps {
  readonly self: NodeId;
  readonly dataDir: string;
  readonly driver: RaftDriver;
  readonly scheduler: SchedulerView;
  readonly host: Libp2p;
  readonly gossip: () => ReadonlyMap<string, LiveLoad>;
  /** Every sender's latest report, stale ones included. */
  readonly heard?: () => ReadonlyMap<string, LiveLoad>;
  /** This node's name, advertised API URL and task log bytes. */
  readonly own?: () => { readonly name: string | null; readonly api: string | null; readonly logBytes: number | null };
  /** Where a node can be dialled (the address book; this node's own listen addresses for itself). */
  readonly addressesOf: (id: NodeId) => readonly string[];
  readonly events: EventHub;
  readonly metrics: NodeMetrics;
}

export function createSurfaceBackend(deps: SurfaceDeps): SurfaceBackend {
  const fetchRemote = async (node: NodeId, req: LogRequest): Promise<LogAnswer> => {
    let target;
    try {
      target = peerIdFromString(node);
    } catch {
      throw new Error(`${node} is not a peer id`);
    }
    // An open connection (the connector keeps one to every member) or the peer store first, then the address book.
    const known = deps.host.getConnections(target).length > 0 || (await deps.host.peerStore.has(target));
    const addrs = deps.addressesOf(node).flatMap((a) => {
      try {
        return [parseMultiaddr(a)];
      } catch {
        return [];
      }
    });
    return requestLog(deps.host, known || addrs.length === 0 ? target : addrs, req, { timeoutMs: LOG_FETCH_TIMEOUT_MS });
  };
  return {
    nodes: () => {
      const st = deps.driver.status();
      return nodesView({
        self: deps.self,
        leader: st.leader,
        membership: st.membership,
        applied: st.applied,
        scheduler: deps.scheduler.nodes(),
        gossip: deps.gossip(),
        ...(deps.heard ? { heard: deps.heard() } : {}),
        ...(deps.own ? { own: deps.own() } : {}),
        schedulerNow: deps.scheduler.now,
        addressesOf: deps.addressesOf,
      });
    },
    readBarrier: async (): Promise<ReadBarrierOutcome> => {
      try {
        return { ok: true, index: await deps.driver.readIndex(READ_INDEX_TIMEOUT_MS) };
      } catch (err) {
        return { ok: false, error: errorMessage(err) };
      }
    },
    taskLog: (job, task, attempt) =>
      taskLog(
        {
          self: deps.self,
          dataDir: deps.dataDir,
          task: (id, name) => deps.scheduler.task(id, name),
          jobExists: (id) => deps.scheduler.jobSummary(id) !== undefined,
          peers: () => {
            const c = deps.driver.status().membership.conf;
            return [...new Set([...c.voters, ...c.learners, ...deps.scheduler.nodes().map((n) => n.id)])];
          },
          fetchRemote,
        },
        job,
        task,
        attempt,
      ),
    events: deps.events,
    metrics: deps.metrics,
  };
}
