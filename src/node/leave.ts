// Leaving gracefully (SIGTERM, SIGINT): a leader first hands leadership to its most caught-up
// voter, so the cluster does not sit out an election timeout; then the node asks for its own
// removal and waits until it is applied. Only a leader appends membership changes, so a follower
// asks with a `leave` entry (which speaks only for its proposer) and the leader that applies it
// removes the node. Every step is bounded: a node that cannot leave in time still stops (the
// remaining members replace it later as an unreachable voter).
import { errorMessage } from '../errors.js';
import type { NodeId } from '../raft/types.js';
import { isMember } from '../raft/confchange.js';
import type { ClusterState } from './cluster-state.js';
import { ConfChangeError, type ConfChanger } from './conf-changer.js';
import type { RaftDriver } from './driver.js';
import { envelope } from './entry-envelope.js';
import type { Logger } from './logger.js';
import { waitFor } from './wait.js';

export type LeaveOutcome = 'removed' | 'not-a-member' | 'last-voter' | 'timed-out';

export interface LeaveOptions {
  readonly driver: RaftDriver;
  readonly conf: ConfChanger;
  readonly log: Logger;
  readonly transferTimeoutMs?: number;
  readonly removeTimeoutMs?: number;
}

export async function leaveCluster(o: LeaveOptions): Promise<LeaveOutcome> {
  const { driver } = o;
  const self = driver.id;
  const st = driver.status();
  const { voters, learners } = st.membership.conf;
  if (!voters.includes(self) && !learners.includes(self)) return 'not-a-member';
  if (voters.length === 1 && voters[0] === self) {
    // Removing the only voter would leave nobody to commit anything: just stop.
    o.log.info('the only voter is stopping without leaving the membership');
    return 'last-voter';
  }

  if (st.role === 'leader') {
    const target = mostCaughtUpVoter(self, voters, st.progress);
    if (target !== null) {
      o.log.info({ to: target }, 'transferring leadership before leaving');
      driver.transferLeadership(target);
      const moved = await waitFor(() => {
        const s = driver.status();
        return s.role !== 'leader' && s.leader !== null && s.leader !== self;
      }, o.transferTimeoutMs ?? 2000);
      // Not moved in time: a leader may still remove itself; it steps down once that is applied.
      if (!moved) o.log.warn({ to: target }, 'leadership transfer did not finish in time; removing this node as leader');
    }
  }

  o.log.info('asking to be removed from the membership');
  const timeoutMs = o.removeTimeoutMs ?? 5000;
  if (driver.status().role !== 'leader') {
    if (!(await askLeaderToRemove(o, timeoutMs))) return timedOut(o);
    await persisted(o);
    return 'removed';
  }
  try {
    await o.conf.run({ type: 'remove', node: self }, timeoutMs);
    await persisted(o);
    return 'removed';
  } catch (err) {
    if (!(err instanceof ConfChangeError)) throw err;
    return timedOut(o, err.message);
  }
}

/** The removal is on disk too, so a restart on this data directory knows it left and asks to join again. */
async function persisted(o: LeaveOptions): Promise<void> {
  if (!(await waitFor(() => o.driver.settled, 2000))) o.log.warn('the removal may not be on disk yet; a restart may need --bootstrap');
}

function timedOut(o: LeaveOptions, why = 'the leader did not remove this node in time'): LeaveOutcome {
  o.log.warn({ err: why }, 'removal not confirmed in time; stopping anyway');
  return 'timed-out';
}

/**
 * Proposes this node's `leave` entry (again when a leader change loses it) until the removal it
 * asks for is applied here. The entry's own answer says only that the leader will act on it: the
 * removal is the leader's later membership change, which shows in this node's membership.
 */
async function askLeaderToRemove(o: LeaveOptions, timeoutMs: number): Promise<boolean> {
  const { driver } = o;
  const gone = (): boolean => !isMember(driver.status().membership.conf, driver.id);
  const deadline = Date.now() + timeoutMs;
  while (!gone() && Date.now() < deadline) {
    const left = (): number => Math.max(1, deadline - Date.now());
    const asked = await driver.propose(envelope({ kind: 'leave', id: driver.id }), { timeoutMs: Math.min(1000, left()) }).then(
      () => true,
      () => false,
    );
    // Refused or lost: try again shortly (a new leader may be on its way).
    await waitFor(gone, asked ? left() : Math.min(100, left()));
  }
  return gone();
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
