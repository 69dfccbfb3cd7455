// The HTTP API's response shapes (docs/http-api.md §1, §9, §10 and §15), shared by the server and the CLI client.
import type { NodeId } from '../raft/types.js';
import type { CatchupPolicy, OverlapPolicy } from '../scheduler/schedule-types.js';
import type { JobState } from '../scheduler/types.js';

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

/** One node of GET /v1/nodes: Raft membership, the scheduler's record of it, and load gossip. */
export interface NodeInfo {
  readonly id: NodeId;
  /** Its readable name (`--name`, default its host name), from its load gossip; null when never heard. */
  readonly name: string | null;
  /**
   * `up`: this node, or heard from within the gossip's 3 s, or its scheduler lease still holds;
   * `down`: none of these (killed, cut off, stopped without leaving).
   */
  readonly state: 'up' | 'down';
  /** For a down node: when it was last heard from (its latest gossip here, or its latest heartbeat), ms since the epoch; else null. */
  readonly downSince: number | null;
  /** Where its HTTP API answers, as it advertises it; null when not known. */
  readonly api: string | null;
  /** Bytes of task logs in its data directory (as of its latest measure); null when not known. */
  readonly logBytes: number | null;
  /** leader, voter or learner per this node's view of the Raft membership; null when not (or no longer) a member. */
  readonly role: 'leader' | 'voter' | 'learner' | null;
  readonly self: boolean;
  /** Multiaddrs it can be dialled at (ending in /p2p/<id>). */
  readonly addresses: readonly string[];
  /** From its latest heartbeat (null when the scheduler has none). */
  readonly slots: number | null;
  /** Claims it may hold beyond its slots now (docs/architecture.md §9); null when the scheduler has no heartbeat. */
  readonly ahead: number | null;
  /** Slots its held tasks take, tasks claimed ahead included: up to slots + ahead. */
  readonly used: number | null;
  readonly free: number | null;
  readonly running: number | null;
  readonly handlers: readonly string[];
  /** Its `--label`s, from its latest heartbeat ({} when the scheduler has none). */
  readonly labels: Readonly<Record<string, string>>;
  readonly heartbeatSeq: number | null;
  /** Scheduler time (ms since the epoch, leader clock) until which its leases hold unless renewed. */
  readonly leaseUntil: number | null;
  readonly leaseMs: number | null;
  /** When its latest live load gossip arrived here (ms since the epoch); null when none is live. */
  readonly lastSeen: number | null;
  /** Its applied Raft index as it last gossiped it (this node's own for itself). */
  readonly applied: number | null;
}

/** GET /v1/schedules/{name}: times in ms since the epoch. */
export interface ScheduleInfo {
  readonly name: string;
  /** Exactly one of cron and every. */
  readonly cron?: string;
  /** A duration as the file writes it (`15m`). */
  readonly every?: string;
  readonly timezone: string;
  readonly overlap: OverlapPolicy;
  readonly catchup: CatchupPolicy;
  readonly paused: boolean;
  readonly params: Readonly<Record<string, string>>;
  readonly createdAt: number;
  /** The next tick to be decided; null while paused (or when a cron expression never matches again). */
  readonly nextAt: number | null;
  /** Recent runs, newest first; `state` null once the job was removed (its retention ended). */
  readonly runs: readonly { readonly tick: number; readonly job: string; readonly state: JobState | null; readonly triggered: boolean }[];
  readonly fired: number;
  readonly skipped: number;
  readonly missed: number;
}
