// `meshrun cluster [--json]`: a node's view of the Raft cluster (GET /v1/cluster).
import type { ClusterView } from '../api/types.js';
import { apiBase, apiGet } from './client.js';

export async function clusterCommand(opts: { json?: boolean; api?: string }, out: (s: string) => void): Promise<void> {
  const base = apiBase(opts.api);
  const view = await apiGet<ClusterView>(base, '/v1/cluster');
  out(opts.json ? `${JSON.stringify(view, null, 2)}\n` : formatCluster(view, base));
}

export function formatCluster(v: ClusterView, base: string): string {
  const mark = (id: string): string => (id === v.leader ? `${id} (leader)` : id === v.self ? `${id} (this node)` : id);
  const list = (ids: readonly string[]): string => (ids.length === 0 ? '  (none)\n' : ids.map((id) => `  ${mark(id)}\n`).join(''));
  return (
    `self      ${v.self}   (${base})\n` +
    `role      ${v.role}\n` +
    `term      ${v.term}\n` +
    `leader    ${v.leader ?? '(none known)'}\n` +
    `commit    ${v.commit}   applied ${v.applied}\n` +
    `voters    ${v.voters.length}\n${list(v.voters)}` +
    `learners  ${v.learners.length}\n${list(v.learners)}`
  );
}
