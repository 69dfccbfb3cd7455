// The HTTP API's response shapes (design section 7), shared by the server and the CLI client.
import type { NodeId } from '../raft/types.js';

export type ApiRole = 'leader' | 'follower' | 'candidate' | 'learner';

/** GET /v1/cluster: this node's local view of the Raft state (not a linearizable read). */
export interface ClusterView {
  readonly self: NodeId;
  readonly role: ApiRole;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface ApiError {
  readonly error: string;
  readonly details?: unknown;
}
