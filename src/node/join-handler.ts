// Answers /meshrun/join/1 on any member. A request speaks only for the node that sent it: its id
// must be the authenticated peer that opened the stream, and each of its addresses must name that
// peer. A follower does not act for the joiner: it answers with the leader's address and the
// joiner asks the leader itself. Any member refuses a node whose data directory belongs to another
// cluster. The leader re-admits a member that came back with an empty Raft store as a new learner
// (a voter among them lost what it had acknowledged, so its vote would count for entries it no
// longer holds); replicates the joiner's addresses (so every member can dial it, now and after
// restarts); adds it as a learner; and answers once all that is applied. A member that kept its
// store (an address announcement) is answered without a membership change. Its steps answer
// through callbacks and wait on the driver's and the ConfChanger's clocks, so the simulator runs it
// unchanged (docs/architecture.md §2).
import { errorMessage } from '../errors.js';
import type { JoinContext } from '../net/join.js';
import type { PeerAddress, JoinRequest, JoinResponse } from '../net/types.js';
import { peerIdOf } from '../net/addresses.js';
import type { ConfChange, NodeId } from '../raft/types.js';
import type { ClusterState } from './cluster-state.js';
import type { ConfChanger } from './conf-changer.js';
import type { RaftDriver } from './driver.js';
import { envelope, MAX_ADDRS } from './entry-envelope.js';
import type { Logger } from './logger.js';

export interface JoinHandlerDeps {
  readonly driver: Pick<RaftDriver, 'status' | 'requestPropose'>;
  /** The replicated address book. */
  readonly state: Pick<ClusterState, 'addressesOf'>;
  readonly conf: Pick<ConfChanger, 'request'>;
  /** Where a member can be dialled (replicated address book, then what the node learnt at its own join). */
  readonly addressesOf: (id: NodeId) => readonly string[] | undefined;
  /** The id of the cluster this node belongs to (its Raft store's); null when the store has none. */
  readonly clusterId: () => string | null;
  readonly log: Logger;
  /** Bound on each step of an admission (the address, each membership change). */
  readonly timeoutMs: number;
  /**
   * The peer an address names, or null when it names none (default: the `/p2p/<id>` of a libp2p
   * multiaddr; the simulator's addresses are its own).
   */
  readonly addressOwner?: (addr: string) => NodeId | null;
}

export type JoinHandler = (req: JoinRequest, ctx: JoinContext) => Promise<JoinResponse>;
/** A JoinHandler answering through a callback (how the simulator serves joins). */
export type JoinAnswerer = (req: JoinRequest, ctx: JoinContext, answer: (res: JoinResponse) => void) => void;

export const NOT_THE_LEADER = 'not the leader';

export function createJoinHandler(deps: JoinHandlerDeps): JoinHandler {
  const answerer = createJoinAnswerer(deps);
  return (req, ctx) => new Promise((resolve) => answerer(req, ctx, resolve));
}

export function createJoinAnswerer(deps: JoinHandlerDeps): JoinAnswerer {
  const owner = deps.addressOwner ?? libp2pAddressOwner;
  // Joins are admitted one at a time: each is a membership change, and Raft takes one at a time.
  const waiting: (() => void)[] = [];
  let busy = false;
  const next = (): void => {
    if (busy) return;
    const admission = waiting.shift();
    if (!admission) return;
    busy = true;
    admission();
  };
  return (req, ctx, answer) => {
    const problem = requestProblem(req, ctx, owner);
    if (problem) return answer({ ok: false, error: problem });
    // Every member has the cluster's id, so any of them can tell a stranger's data directory.
    const mismatch = clusterMismatch(deps.clusterId(), req);
    if (mismatch) return answer(mismatch);
    const st = deps.driver.status();
    // A leader that is the joiner itself is a view from before it lost its store: not a leader to name.
    if (st.role !== 'leader') return answer(pointToLeader(deps, st.leader === req.id ? null : st.leader));
    waiting.push(() =>
      admit(deps, req, (res) => {
        busy = false;
        answer(res);
        next();
      }),
    );
    next();
  };
}

/** What makes `req` unacceptable from the peer `ctx.from`, or null. */
function requestProblem(req: JoinRequest, ctx: JoinContext, addressOwner: (addr: string) => NodeId | null): string | null {
  if (typeof req.id !== 'string' || req.id.length === 0) return 'join request without a node id';
  if (req.id !== ctx.from) return `join request for ${req.id} sent by ${ctx.from}: a node may only ask to join for itself`;
  // Checked as unknown: Array.isArray would widen the readonly list to any[].
  const addrs: unknown = req.addrs;
  if (!Array.isArray(addrs) || req.addrs.length === 0) return `join request from ${req.id} lists no addresses`;
  if (req.addrs.length > MAX_ADDRS) return `join request from ${req.id} lists ${req.addrs.length} addresses (at most ${MAX_ADDRS})`;
  for (const a of req.addrs) {
    const owner = addressOwner(a);
    // An address ending in another peer's id would send that peer's traffic here, or ours there.
    if (owner !== req.id)
      return `join request from ${req.id}: address ${a} ${owner === null ? 'does not end in /p2p/<id>' : `belongs to ${owner}`}`;
  }
  return null;
}

function libp2pAddressOwner(addr: string): string | null {
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

/** One step of an admission: calls `done` once, with null when it succeeded. */
type Step = (done: (err: Error | null) => void) => void;

function admit(deps: JoinHandlerDeps, req: JoinRequest, answer: (res: JoinResponse) => void): void {
  const { driver, log } = deps;
  const steps: Step[] = [
    (done) => removeIfStoreLost(deps, req, done),
    (done) => replicateAddresses(deps, req, done),
    (done) => addIfNew(deps, req, done),
  ];
  const run = (i: number): void => {
    const step = steps[i];
    if (step === undefined) return answer(admitted(deps));
    step((err) => (err ? failed(err) : run(i + 1)));
  };
  const failed = (err: Error): void => {
    const why = errorMessage(err);
    log.warn({ joiner: req.id, err: why }, 'join failed');
    const st = driver.status();
    const hint =
      st.leader !== null && st.leader !== st.id
        ? { leader: { id: st.leader, addrs: (deps.addressesOf(st.leader) ?? []).slice(0, MAX_ADDRS) } }
        : {};
    answer({ ok: false, error: `could not admit ${req.id}: ${why}`, ...hint });
  };
  run(0);
}

/** The answer to an admitted joiner: the members, the cluster, and the commit index it must apply before it votes. */
function admitted(deps: JoinHandlerDeps): JoinResponse {
  const st = deps.driver.status();
  const ids = [...st.membership.conf.voters, ...st.membership.conf.learners];
  const members: PeerAddress[] = ids.map((id) => ({ id, addrs: (deps.addressesOf(id) ?? []).slice(0, MAX_ADDRS) }));
  return { ok: true, leader: st.id, members, cluster: deps.clusterId(), admittedAt: st.commit };
}

function change(deps: JoinHandlerDeps, cc: ConfChange, done: (err: Error | null) => void): void {
  deps.conf.request(cc, deps.timeoutMs, { resolve: () => done(null), reject: done });
}

function addIfNew(deps: JoinHandlerDeps, req: JoinRequest, done: (err: Error | null) => void): void {
  const conf = deps.driver.status().membership.conf;
  if (conf.voters.includes(req.id) || conf.learners.includes(req.id)) return done(null);
  deps.log.info({ joiner: req.id, addrs: req.addrs }, 'admitting a new learner');
  change(deps, { type: 'addLearner', node: req.id }, done);
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
function removeIfStoreLost(deps: JoinHandlerDeps, req: JoinRequest, done: (err: Error | null) => void): void {
  if (!req.emptyStore) return done(null);
  const conf = deps.driver.status().membership.conf;
  const voter = conf.voters.includes(req.id);
  if (!voter && !conf.learners.includes(req.id)) return done(null);
  if (voter) deps.log.info({ joiner: req.id }, 'a voter came back with an empty store: re-admitted as a learner');
  else deps.log.info({ joiner: req.id }, 'a learner came back with an empty store (or asked again): re-admitted');
  change(deps, { type: 'remove', node: req.id }, done);
}

function replicateAddresses(deps: JoinHandlerDeps, req: JoinRequest, done: (err: Error | null) => void): void {
  if (sameAddrs(deps.state.addressesOf(req.id), req.addrs)) return done(null);
  // Answered once applied here, so the address is in the book before the learner is added.
  deps.driver.requestPropose(
    envelope({ kind: 'address', id: req.id, addrs: req.addrs }),
    { timeoutMs: deps.timeoutMs },
    {
      resolve: () => done(null),
      reject: (err) => done(new Error(`replicating the address: ${errorMessage(err)}`)),
    },
  );
}

export function sameAddrs(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (!a || a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}
