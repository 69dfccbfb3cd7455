// Leaving gracefully (SIGTERM, SIGINT): a leader first hands leadership to its most caught-up
// voter, so the cluster does not sit out an election timeout; then the node asks for its own
// removal and waits until it is applied. Only a leader appends membership changes, so a follower
// asks with a `leave` entry (which speaks only for its proposer) and the leader that applies it
// removes the node. Every step is bounded: a node that cannot leave in time still stops (the
// remaining members replace it later as an unreachable voter).
import { errorMessage } from '../errors.js';
import type { NodeId } from '../raft/types.js';
import { isMember } from '../raft/confchange.js';
import type { Clock } from '../worker/types.js';
import type { ClusterState } from './cluster-state.js';
import { ConfChangeError, type ConfChanger } from './conf-changer.js';
import type { RaftDriver } from './driver.js';
import { envelope } from './entry-envelope.js';
import type { Logger } from './logger.js';
import { ProposalError, type Reply } from './proposal.js';
import { systemClock } from './system-clock.js';

export type LeaveOutcome = 'removed' | 'not-a-member' | 'last-voter' | 'timed-out';

export interface LeaveOptions {
  /** What leaving needs of the driver: its state, a transfer, the `leave` entry, and waiting for its state to change. */
  readonly driver: Pick<RaftDriver, 'id' | 'status' | 'transferLeadership' | 'requestPropose' | 'requestWhen' | 'settled'>;
  readonly conf: Pick<ConfChanger, 'request'>;
  readonly log: Pick<Logger, 'info' | 'warn'>;
  /** The deadlines' clock (default systemClock). */
  readonly clock?: Pick<Clock, 'now'>;
  readonly transferTimeoutMs?: number;
  readonly removeTimeoutMs?: number;
}

export function leaveCluster(o: LeaveOptions): Promise<LeaveOutcome> {
  return new Promise((resolve, reject) => requestLeave(o, { resolve, reject }));
}

/**
 * leaveCluster answering through `reply`. Every wait is on the driver: for its state to change
 * (RaftDriver.requestWhen: leadership moved, this node gone from the membership, the removal on
 * disk) or for an entry to be applied (its wait registry, through requestPropose and the
 * ConfChanger), each with a deadline; nothing polls.
 */
export function requestLeave(o: LeaveOptions, reply: Reply<LeaveOutcome>): void {
  const { driver } = o;
  const self = driver.id;
  const st = driver.status();
  const { voters, learners } = st.membership.conf;
  if (!voters.includes(self) && !learners.includes(self)) return reply.resolve('not-a-member');
  if (voters.length === 1 && voters[0] === self) {
    // Removing the only voter would leave nobody to commit anything: just stop.
    o.log.info('the only voter is stopping without leaving the membership');
    return reply.resolve('last-voter');
  }
  const target = st.role === 'leader' ? mostCaughtUpVoter(self, voters, st.progress) : null;
  if (target === null) return askToBeRemoved(o, reply);
  o.log.info({ to: target }, 'transferring leadership before leaving');
  driver.transferLeadership(target);
  const moved = (): boolean => {
    const s = driver.status();
    return s.role !== 'leader' && s.leader !== null && s.leader !== self;
  };
  driver.requestWhen(moved, o.transferTimeoutMs ?? 2000, {
    resolve: (ok) => {
      // Not moved in time: a leader may still remove itself; it steps down once that is applied.
      if (!ok) o.log.warn({ to: target }, 'leadership transfer did not finish in time; removing this node as leader');
      askToBeRemoved(o, reply);
    },
    reject: (err) => reply.reject(err),
  });
}

/** A leader removes itself (ConfChanger); a follower asks the leader with its `leave` entry. */
function askToBeRemoved(o: LeaveOptions, reply: Reply<LeaveOutcome>): void {
  o.log.info('asking to be removed from the membership');
  const timeoutMs = o.removeTimeoutMs ?? 5000;
  const removed = (): void => whenPersisted(o, () => reply.resolve('removed'));
  if (o.driver.status().role !== 'leader') {
    const clock = o.clock ?? systemClock;
    return askLeaderToRemove(o, clock.now() + timeoutMs, (gone) => (gone ? removed() : reply.resolve(timedOut(o))));
  }
  o.conf.request({ type: 'remove', node: o.driver.id }, timeoutMs, {
    resolve: removed,
    reject: (err) => (err instanceof ConfChangeError ? reply.resolve(timedOut(o, err.message)) : reply.reject(err)),
  });
}

/** The removal is on disk too, so a restart on this data directory knows it left and asks to join again. */
function whenPersisted(o: LeaveOptions, then: () => void): void {
  o.driver.requestWhen(() => o.driver.settled, 2000, {
    resolve: (onDisk) => {
      if (!onDisk) o.log.warn('the removal may not be on disk yet; a restart may need --bootstrap');
      then();
    },
    reject: then,
  });
}

function timedOut(o: LeaveOptions, why = 'the leader did not remove this node in time'): LeaveOutcome {
  o.log.warn({ err: why }, 'removal not confirmed in time; stopping anyway');
  return 'timed-out';
}

/**
 * Proposes this node's `leave` entry (again when a leader change loses it) until the removal it
 * asks for is applied here, or `deadline`. The entry's own answer says only that the leader will
 * act on it: the removal is the leader's later membership change, which shows in this node's
 * membership.
 */
function askLeaderToRemove(o: LeaveOptions, deadline: number, answer: (gone: boolean) => void): void {
  const { driver } = o;
  const clock = o.clock ?? systemClock;
  const gone = (): boolean => !isMember(driver.status().membership.conf, driver.id);
  const left = (): number => Math.max(1, deadline - clock.now());
  if (gone()) return answer(true);
  if (clock.now() >= deadline) return answer(false);
  const again = (): void => askLeaderToRemove(o, deadline, answer);
  // Asked: wait for the removal until the deadline. Refused or lost: look again shortly (a new leader may be on its way).
  const waitThenAgain = (ms: number): void => driver.requestWhen(gone, ms, { resolve: again, reject: again });
  driver.requestPropose(
    envelope({ kind: 'leave', id: driver.id }),
    { timeoutMs: Math.min(1000, left()) },
    {
      resolve: () => waitThenAgain(left()),
      // A stopped driver answers every wait at once: ask no more.
      reject: (err) => (err instanceof ProposalError && err.reason === 'stopped' ? answer(false) : waitThenAgain(Math.min(100, left()))),
    },
  );
}

/**
 * The leader's side: a member's applied `leave` entry (ClusterState checked that it speaks for its
 * proposer) becomes that member's removal. Returns the unsubscribe function.
 */
export function serveLeaveRequests(deps: {
  readonly state: ClusterState;
  readonly driver: RaftDriver;
  readonly conf: ConfChanger;
  readonly log: Logger;
}): () => void {
  return deps.state.onApplied((a) => {
    if (a.entry.kind !== 'leave' || deps.driver.status().role !== 'leader') return;
    const node = a.entry.id;
    deps.log.info({ node }, 'a member asked to leave: removing it');
    deps.conf.run({ type: 'remove', node }, 10_000).catch((err: unknown) => {
      deps.log.warn({ node, err: errorMessage(err) }, 'removing a leaving member did not complete');
    });
  });
}

function mostCaughtUpVoter(
  self: NodeId,
  voters: readonly NodeId[],
  progress: ReadonlyMap<NodeId, { readonly match: number; readonly recentActive: boolean }> | null,
): NodeId | null {
  let best: NodeId | null = null;
  let bestMatch = -1;
  for (const v of voters) {
    if (v === self) continue;
    const pr = progress?.get(v);
    const match = pr && pr.recentActive ? pr.match : -1;
    if (match > bestMatch || (match === bestMatch && best !== null && v < best) || best === null) {
      best = v;
      bestMatch = match;
    }
  }
  return best;
}
