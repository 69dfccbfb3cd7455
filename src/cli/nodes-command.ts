// `meshrun nodes [--json]`: the nodes of the cluster (GET /v1/nodes): name, Raft role, whether it
// is up or down (and since when), slots used and free, running tasks, handlers, labels, the size of
// its task logs, and how long ago it was last heard from.
import type { ClusterView, NodeInfo as CurrentNodeInfo } from '../api/types.js';

/** A node as /v1/nodes lists it; nodes of earlier versions answer without `role` and `state`. */
type NodeInfo = Omit<CurrentNodeInfo, 'role' | 'state' | 'downSince' | 'labels'> & {
  readonly labels?: CurrentNodeInfo['labels'];
  readonly role?: CurrentNodeInfo['role'];
  readonly state?: CurrentNodeInfo['state'];
  readonly downSince?: CurrentNodeInfo['downSince'];
};
import { ApiClient } from './client.js';
import { formatBytes, formatClock, formatMs, json, shortId, table } from './format.js';

export async function nodesCommand(
  opts: { json?: boolean; api?: string | readonly string[] },
  out: (s: string) => void,
  err: (s: string) => void = () => undefined,
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const answer = await client.get<{ nodes: NodeInfo[] }>('/v1/nodes');
  if (opts.json) {
    out(json(answer));
    return;
  }
  // The role when the answer has none: this node's view of the membership.
  const needCluster = answer.nodes.some((n) => n.role === undefined);
  const cluster = needCluster ? await client.get<ClusterView>('/v1/cluster', { failover: false }) : null;
  out(formatNodes(answer.nodes, cluster, Date.now()));
}

/** `gpu=a100,zone=eu`, or '-' for none. */
function labelsText(labels: NodeInfo['labels']): string {
  const keys = labels === undefined ? [] : Object.keys(labels).sort();
  return keys.length === 0 ? '-' : keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

export function roleOf(id: string, c: ClusterView | null): string {
  if (c === null) return '-';
  if (id === c.leader) return 'leader';
  if (c.voters.includes(id)) return 'voter';
  if (c.learners.includes(id)) return 'learner';
  return 'worker';
}

/** Its latest load gossip, else its latest heartbeat (lease end minus lease length). */
function lastSeenAt(n: NodeInfo): number | null {
  return n.lastSeen ?? n.downSince ?? (typeof n.leaseUntil === 'number' && typeof n.leaseMs === 'number' ? n.leaseUntil - n.leaseMs : null);
}

const num = (v: number | null | undefined): string => (typeof v === 'number' ? String(v) : '-');

/** `up`, or `down since 14:03:05 UTC` (a node from before `state` existed: `-`). */
function stateText(n: NodeInfo, now: number): string {
  if (n.state === 'up') return 'up';
  if (n.state !== 'down') return '-';
  return n.downSince === null || n.downSince === undefined ? 'down' : `down since ${formatClock(n.downSince, now)}`;
}

export function formatNodes(nodes: readonly NodeInfo[], cluster: ClusterView | null, now: number): string {
  if (nodes.length === 0) return 'no nodes known yet\n';
  const rows = [...nodes]
    .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.id.localeCompare(b.id))
    .map((n) => {
      const self = n.self || n.id === cluster?.self;
      const down = n.state === 'down';
      const at = lastSeenAt(n);
      const ago = self ? 0 : at === null ? null : Math.max(0, now - at);
      const slots = typeof n.slots === 'number' ? n.slots : null;
      const used = typeof n.used === 'number' ? n.used : null;
      const free = typeof n.free === 'number' ? n.free : slots !== null && used !== null ? Math.max(0, slots - used) : null;
      return [
        (n.name ?? '-') + (self ? ' *' : ''),
        shortId(n.id),
        n.role === undefined ? roleOf(n.id, cluster) : (n.role ?? 'worker'),
        stateText(n, now),
        // What a node that is down offers is what it offered before: nothing now.
        slots === null ? '-' : down ? `-/${slots}` : `${used ?? 0}/${slots}`,
        down ? '-' : num(free),
        down ? '-' : num(n.running),
        n.handlers.length === 0 ? '-' : n.handlers.join(','),
        labelsText(n.labels),
        formatBytes(n.logBytes),
        self ? 'now (this node)' : ago === null ? '-' : `${formatMs(ago)} ago`,
      ];
    });
  return `${table(['name', 'id', 'role', 'state', 'slots used', 'free', 'running', 'handlers', 'labels', 'logs', 'last seen'], rows)}(* the node answering at this address; meshrun cluster lists full ids)\n`;
}
