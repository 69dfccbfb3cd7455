// Answers /meshrun/join/1 on any member. A follower forwards the request to the leader it knows;
// the leader first replicates the joiner's addresses (so every member can dial it, now and after
// restarts), then adds it as a learner, and answers once both are applied. A node that is already
// a member (it restarted with an empty Raft store, or retried after a lost answer) is answered
// without a second membership change.
import type { PeerAddress, JoinRequest, JoinResponse } from '../net/types.js';
import type { NodeId } from '../raft/types.js';
import type { ClusterState } from './cluster-state.js';
import type { ConfChanger } from './conf-changer.js';
import type { RaftDriver } from './driver.js';
import { encodeNodeEntry, MAX_ADDRS } from './entry-envelope.js';
import type { Logger } from './logger.js';

export interface JoinHandlerDeps {
  readonly driver: RaftDriver;
  readonly state: ClusterState;
  readonly conf: ConfChanger;
  /** Where a member can be dialled (replicated address book, then what the node learnt at its own join). */
  readonly addressesOf: (id: NodeId) => readonly string[] | undefined;
  /** Sends the request on to another member (requestJoin over libp2p). */
  readonly forward: (addr: string, req: JoinRequest, timeoutMs: number) => Promise<JoinResponse>;
  readonly log: Logger;
  /** Bound on the whole answer, forwarding included. */
  readonly timeoutMs: number;
}

export function createJoinHandler(deps: JoinHandlerDeps): (req: JoinRequest) => Promise<JoinResponse> {
  // Joins are admitted one at a time: each is a membership change, and Raft takes one at a time.
  let tail: Promise<unknown> = Promise.resolve();
  return async (req) => {
    const problem = requestProblem(req);
    if (problem) return { ok: false, error: problem };
    const st = deps.driver.raft.status();
    if (st.role !== 'leader') return forwardToLeader(deps, req, st.leader);
    const answer = tail.then(() => admit(deps, req));
    tail = answer.catch(() => undefined);
    return answer;
  };
}

function requestProblem(req: JoinRequest): string | null {
  if (typeof req.id !== 'string' || req.id.length === 0) return 'join request without a node id';
  if (!Array.isArray(req.addrs) || req.addrs.length === 0) return `join request from ${req.id} lists no addresses`;
  if (req.addrs.length > MAX_ADDRS) return `join request from ${req.id} lists ${req.addrs.length} addresses (at most ${MAX_ADDRS})`;
  return null;
}

async function forwardToLeader(deps: JoinHandlerDeps, req: JoinRequest, leader: NodeId | null): Promise<JoinResponse> {
  if (leader === null) return { ok: false, error: 'no leader is known right now (an election may be under way); retry' };
  const addrs = deps.addressesOf(leader) ?? [];
  const hint: PeerAddress = { id: leader, addrs };
  if (addrs.length === 0) return { ok: false, error: `the leader ${leader} has no known address yet; retry`, leader: hint };
  let last = '';
  for (const addr of addrs) {
    try {
      deps.log.debug({ joiner: req.id, leader, addr }, 'forwarding a join request to the leader');
      return await deps.forward(addr, req, deps.timeoutMs);
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
  }
  return { ok: false, error: `could not forward the join to the leader ${leader}: ${last}`, leader: hint };
}

async function admit(deps: JoinHandlerDeps, req: JoinRequest): Promise<JoinResponse> {
  const { driver, state, log } = deps;
  const raft = driver.raft;
  try {
    if (!sameAddrs(state.addressesOf(req.id), req.addrs)) {
      // Resolves once applied here, so the address is in the book before the learner is added.
      await withTimeout(driver.propose(encodeNodeEntry({ kind: 'address', id: req.id, addrs: req.addrs })), deps.timeoutMs, 'replicating the address');
    }
    const conf = raft.status().membership.conf;
    if (!conf.voters.includes(req.id) && !conf.learners.includes(req.id)) {
      log.info({ joiner: req.id, addrs: req.addrs }, 'admitting a new learner');
      await deps.conf.run({ type: 'addLearner', node: req.id }, deps.timeoutMs);
    }
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    log.warn({ joiner: req.id, err: why }, 'join failed');
    const st = raft.status();
    const hint = st.leader !== null && st.leader !== raft.id ? { leader: { id: st.leader, addrs: deps.addressesOf(st.leader) ?? [] } } : {};
    return { ok: false, error: `could not admit ${req.id}: ${why}`, ...hint };
  }
  const st = raft.status();
  const ids = [...st.membership.conf.voters, ...st.membership.conf.learners];
  const members: PeerAddress[] = ids.map((id) => ({ id, addrs: deps.addressesOf(id) ?? [] }));
  return { ok: true, leader: raft.id, members };
}

export function sameAddrs(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (!a || a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((x, i) => x === sb[i]);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
