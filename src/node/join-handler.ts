// Answers /meshrun/join/1 on any member. A request speaks only for the node that sent it: its id
// must be the authenticated peer that opened the stream, and each of its addresses must name that
// peer. A follower does not act for the joiner: it answers with the leader's address and the
// joiner asks the leader itself. Any member refuses a node whose data directory belongs to another
// cluster. The leader re-admits a member that came back with an empty Raft store as a new learner
// (a voter among them lost what it had acknowledged, so its vote would count for entries it no
// longer holds); replicates the joiner's addresses (so every member can dial it, now and after
// restarts); adds it as a learner; and answers once all that is applied. A member that kept its
// store (an address announcement) is answered without a membership change.
import { errorMessage } from '../errors.js';
import type { JoinContext } from '../net/join.js';
import type { PeerAddress, JoinRequest, JoinResponse } from '../net/types.js';
import { peerIdOf } from '../net/addresses.js';
import type { NodeId } from '../raft/types.js';
import type { ClusterState } from './cluster-state.js';
import type { ConfChanger } from './conf-changer.js';
import type { RaftDriver } from './driver.js';
import { envelope, MAX_ADDRS } from './entry-envelope.js';
import type { Logger } from './logger.js';

export interface JoinHandlerDeps {
  readonly driver: RaftDriver;
  readonly state: ClusterState;
  readonly conf: ConfChanger;
  /** Where a member can be dialled (replicated address book, then what the node learnt at its own join). */
  readonly addressesOf: (id: NodeId) => readonly string[] | undefined;
  /** The id of the cluster this node belongs to (its Raft store's); null when the store has none. */
  readonly clusterId: () => string | null;
  readonly log: Logger;
  /** Bound on each step of an admission (the address, each membership change). */
  readonly timeoutMs: number;
}

export type JoinHandler = (req: JoinRequest, ctx: JoinContext) => Promise<JoinResponse>;

export const NOT_THE_LEADER = 'not the leader';

export function createJoinHandler(deps: JoinHandlerDeps): JoinHandler {
  // Joins are admitted one at a time: each is a membership change, and Raft takes one at a time.
  let tail: Promise<unknown> = Promise.resolve();
  return async (req, ctx) => {
    const problem = requestProblem(req, ctx);
    if (problem) return { ok: false, error: problem };
    // Every member has the cluster's id, so any of them can tell a stranger's data directory.
    const mismatch = clusterMismatch(deps.clusterId(), req);
    if (mismatch) return mismatch;
    const st = deps.driver.status();
    if (st.role !== 'leader') return pointToLeader(deps, st.leader);
    const answer = tail.then(() => admit(deps, req));
    tail = answer.catch(() => undefined);
    return answer;
  };
}

/** What makes `req` unacceptable from the peer `ctx.from`, or null. */
function requestProblem(req: JoinRequest, ctx: JoinContext): string | null {
  if (typeof req.id !== 'string' || req.id.length === 0) return 'join request without a node id';
  if (req.id !== ctx.from) return `join request for ${req.id} sent by ${ctx.from}: a node may only ask to join for itself`;
  // Checked as unknown: Array.isArray would widen the readonly list to any[].
  const addrs: unknown = req.addrs;
  if (!Array.isArray(addrs) || req.addrs.length === 0) return `join request from ${req.id} lists no addresses`;
  if (req.addrs.length > MAX_ADDRS) return `join request from ${req.id} lists ${req.addrs.length} addresses (at most ${MAX_ADDRS})`;
  for (const a of req.addrs) {
    const owner = addressOwner(a);
    // An address ending in another peer's id would send that peer's traffic here, or ours there.
    if (owner !== req.id) return `join request from ${req.id}: address ${a} ${owner === null ? 'does not end in /p2p/<id>' : `belongs to ${owner}`}`;
  }
  return null;
}

function addressOwner(addr: string): string | null {
  try {
    return peerIdOf(addr);
  } catch {
    return null;
  }
}

function clusterMismatch(own: string | null, req: JoinRequest): JoinResponse | null {
  // A store without an id (empty, or older than cluster ids) cannot be told apart: let it in.
  if (own === null || req.cluster === null || own === req.cluster) return null;
  return {
    ok: false,
    reason: 'wrong-cluster',
    error: `this data directory belongs to cluster ${req.cluster}, not ${own}: start with a new --data directory`,
  };
}

function pointToLeader(deps: JoinHandlerDeps, leader: NodeId | null): JoinResponse {
  if (leader === null) return { ok: false, error: 'no leader is known right now (an election may be under way); retry' };
  const addrs = (deps.addressesOf(leader) ?? []).slice(0, MAX_ADDRS);
  return { ok: false, error: NOT_THE_LEADER, leader: { id: leader, addrs } };
}

async function admit(deps: JoinHandlerDeps, req: JoinRequest): Promise<JoinResponse> {
  const { driver, log } = deps;
  try {
    await removeIfStoreLost(deps, req);
    await replicateAddresses(deps, req);
    const conf = driver.status().membership.conf;
    if (!conf.voters.includes(req.id) && !conf.learners.includes(req.id)) {
      log.info({ joiner: req.id, addrs: req.addrs }, 'admitting a new learner');
      await deps.conf.run({ type: 'addLearner', node: req.id }, deps.timeoutMs);
    }
  } catch (err) {
    const why = errorMessage(err);
    log.warn({ joiner: req.id, err: why }, 'join failed');
    const st = driver.status();
    const hint = st.leader !== null && st.leader !== driver.id ? { leader: { id: st.leader, addrs: (deps.addressesOf(st.leader) ?? []).slice(0, MAX_ADDRS) } } : {};
    return { ok: false, error: `could not admit ${req.id}: ${why}`, ...hint };
  }
  const st = driver.status();
  const ids = [...st.membership.conf.voters, ...st.membership.conf.learners];
  const members: PeerAddress[] = ids.map((id) => ({ id, addrs: (deps.addressesOf(id) ?? []).slice(0, MAX_ADDRS) }));
  return { ok: true, leader: driver.id, members, cluster: deps.clusterId(), admittedAt: driver.status().commit };
}

/**
 * A member whose store is empty has forgotten what it acknowledged and the term it voted in: as a
 * voter, counted in a quorum, it could help elect a leader without those entries or commit without
 * holding them. It is removed here and added back as a new learner by the rest of the admission;
 * the membership loop promotes it again once it has caught up. Removed rather than only demoted
 * (addLearner demotes a voter): the leader's progress record survives a demotion, and its match
 * index, far beyond the empty log, makes the leader ignore the node's refusals as stale, so the
 * node would never catch up. A removal forgets the record; the re-added learner starts from zero.
 */
async function removeIfStoreLost(deps: JoinHandlerDeps, req: JoinRequest): Promise<void> {
  if (!req.emptyStore) return;
  const conf = deps.driver.status().membership.conf;
  const voter = conf.voters.includes(req.id);
  if (!voter && !conf.learners.includes(req.id)) return;
  if (voter) deps.log.info({ joiner: req.id }, 'a voter came back with an empty store: re-admitted as a learner');
  else deps.log.info({ joiner: req.id }, 'a learner came back with an empty store (or asked again): re-admitted');
  await deps.conf.run({ type: 'remove', node: req.id }, deps.timeoutMs);
}

async function replicateAddresses(deps: JoinHandlerDeps, req: JoinRequest): Promise<void> {
  if (sameAddrs(deps.state.addressesOf(req.id), req.addrs)) return;
  // Resolves once applied here, so the address is in the book before the learner is added.
  await deps.driver.propose(envelope({ kind: 'address', id: req.id, addrs: req.addrs }), { timeoutMs: deps.timeoutMs }).catch((err: unknown) => {
    throw new Error(`replicating the address: ${errorMessage(err)}`);
  });
}

export function sameAddrs(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (!a || a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}
