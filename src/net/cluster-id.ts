// A cluster's id: 16 random bytes in lowercase hex, made once by the node that forms the cluster,
// stored in every member's Raft store and handed to joiners. It lets a leader tell a node that
// belongs to another cluster (its data directory was made there) from one of its own.
import { randomBytes } from 'node:crypto';

const CLUSTER_ID_BYTES = 16;
export const CLUSTER_ID_PATTERN = /^[0-9a-f]{32}$/;

export function newClusterId(): string {
  return randomBytes(CLUSTER_ID_BYTES).toString('hex');
}

/** Why `value` is not a cluster id, or null when it is one. */
export function clusterIdProblem(value: string): string | null {
  if (CLUSTER_ID_PATTERN.test(value)) return null;
  const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
  return `cluster id ${JSON.stringify(shown)} is not ${CLUSTER_ID_BYTES * 2} lowercase hex digits`;
}
