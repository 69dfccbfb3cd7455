// `meshrun nodes [--json]`: the nodes of the cluster (GET /v1/nodes): Raft role, slots used and
// free, running tasks, handlers, and how long ago the node was last heard from.
import type { ClusterView, NodeInfo } from '../api/types.js';
import { apiBase, apiGet } from './client.js';
import { formatMs, json, table } from './format.js';

export async function nodesCommand(opts: { json?: boolean; api?: string }, out: (s: string) => void): Promise<void> {
  const base = apiBase(opts.api);
  const answer = await apiGet<{ nodes: NodeInfo[] }>(base, '/v1/nodes');
  if (opts.json) {
    out(json(answer));
    return;
  }
  // The role when the answer has none: this node's view of the membership.
  const needCluster = answer.nodes.some((n) => n.role === undefined);
  const cluster = needCluster ? await apiGet<ClusterView>(base, '/v1/cluster') : null;
  out(formatNodes(answer.nodes, cluster, Date.now()));
}

export function roleOf(id: string, c: ClusterView | null): string {
  if (c === null) return '-';
  if (id === c.leader) return 'leader';
  if (c.voters.includes(id)) return 'voter';
  if (c.learners.includes(id)) return 'learner';
  return 'worker';
}

/** Its latest load gossip, else its latest heartbeat (lease end minus lease length). */
function lastSeenAgo(n: NodeInfo, now: number): number | null {
  const at = n.lastSeen ?? (typeof n.leaseUntil === 'number' && typeof n.leaseMs === 'number' ? n.leaseUntil - n.leaseMs : null);
  return at === null ? null : Math.max(0, now - at);
}

const num = (v: number | null | undefined): string => (typeof v === 'number' ? String(v) : '-');

export function formatNodes(nodes: readonly NodeInfo[], cluster: ClusterView | null, now: number): string {
  if (nodes.length === 0) return 'no nodes known yet\n';
  const rows = [...nodes]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((n) => {
      const ago = n.self ? 0 : lastSeenAgo(n, now);
      const slots = typeof n.slots === 'number' ? n.slots : null;
      const used = typeof n.used === 'number' ? n.used : null;
      const free = typeof n.free === 'number' ? n.free : slots !== null && used !== null ? Math.max(0, slots - used) : null;
      return [
        n.id + (n.self || n.id === cluster?.self ? ' *' : ''),
        n.role === undefined ? roleOf(n.id, cluster) : (n.role ?? 'worker'),
        slots === null ? '-' : `${used ?? 0}/${slots}`,
        num(free),
        num(n.running),
        n.handlers.length === 0 ? '-' : n.handlers.join(','),
        n.self ? 'now (this node)' : ago === null ? '-' : `${formatMs(ago)} ago`,
      ];
    });
  return `${table(['id', 'role', 'slots used', 'free', 'running', 'handlers', 'last seen'], rows)}(* the node answering at this address)\n`;
}
