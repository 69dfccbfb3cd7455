// `meshrun cluster [--json]`: a node's view of the Raft cluster (GET /v1/cluster), with the
// members' names (`--name`) where GET /v1/nodes knows them.
import type { ClusterView } from '../api/types.js';
import { ApiClient } from './client.js';
import { knownNodes } from './job-commands.js';

export async function clusterCommand(
  opts: { json?: boolean; api?: string | readonly string[] },
  out: (s: string) => void,
  err: (s: string) => void = () => undefined,
): Promise<void> {
  const client = ApiClient.from(opts.api, err);
  const view = await client.get<ClusterView>('/v1/cluster');
  if (opts.json) {
    out(`${JSON.stringify(view, null, 2)}\n`);
    return;
  }
  // The names, from the node that answered (another could have a different view).
  const names = new Map((await knownNodes(client)).flatMap((n) => (n.name ? [[n.id, n.name] as const] : [])));
  out(formatCluster(view, client.base, names));
}

export function formatCluster(v: ClusterView, base: string, names: ReadonlyMap<string, string> = new Map()): string {
  const named = (id: string): string => (names.has(id) ? `${id} ${names.get(id)}` : id);
  const mark = (id: string): string => (id === v.leader ? `${named(id)} (leader)` : id === v.self ? `${named(id)} (this node)` : named(id));
  const list = (ids: readonly string[]): string => (ids.length === 0 ? '  (none)\n' : ids.map((id) => `  ${mark(id)}\n`).join(''));
  return (
    `self      ${named(v.self)}   (${base})\n` +
    `role      ${v.role}\n` +
    `term      ${v.term}\n` +
    `leader    ${v.leader === null ? '(none known)' : named(v.leader)}\n` +
    `commit    ${v.commit}   applied ${v.applied}\n` +
    `voters    ${v.voters.length}\n${list(v.voters)}` +
    `learners  ${v.learners.length}\n${list(v.learners)}`
  );
}
