// What the leader does about its membership, decided purely from what it knows: promote caught-up
// learners while voters are fewer than the target, replace a voter that has been unreachable too
// long by a caught-up learner, and bring the voter count back to the target. At most one change at
// a time (Raft applies single-server changes one by one), and never one that leaves fewer
// reachable voters than a quorum: the cluster does not lose its majority by its own decision.
import { quorumSize } from '../raft/progress.js';
import type { ConfState, NodeId } from '../raft/types.js';

export interface MembershipView {
  /** The leader running the decision; always counted as reachable. */
  readonly self: NodeId;
  readonly conf: ConfState;
  /** The leader's last log index. */
  readonly lastIndex: number;
  /**
   * The leader's replication progress per member (RaftStatus.progress); `recentActive`: heard from
   * within the last election timeout (exact with CheckQuorum, which resets it each timeout).
   */
  readonly progress: ReadonlyMap<NodeId, { readonly match: number; readonly recentActive: boolean }>;
  /** A membership change is proposed but not applied yet. */
  readonly confPending: boolean;
  /** Members with a replicated address (a voter others cannot dial is no use). */
  readonly hasAddress: (id: NodeId) => boolean;
  /** When each peer was last heard from (ms, the same clock as `now`); a missing peer counts as never. */
  readonly lastHeard: ReadonlyMap<NodeId, number>;
  readonly now: number;
  /** How long `self` has led (ms): until about an election timeout has passed it cannot tell who is up. */
  readonly ledForMs: number;
  /** Members found holding less of the log than they acknowledged (RaftNode.takeLostAcknowledged). */
  readonly lostDisk: ReadonlySet<NodeId>;
}

export interface MembershipPolicy {
  /** Wanted number of voters (odd, >= 1). */
  readonly targetVoters: number;
  /** A voter not heard from for longer than this is replaced by a caught-up learner. */
  readonly replaceAfterMs: number;
  /** Heard from within this long: reachable (counts toward the quorum check; may be promoted). */
  readonly liveWithinMs: number;
  /** A learner whose match is within this many entries of the leader's last index has caught up. */
  readonly catchUpEntries: number;
  /**
   * Heard from within this long (and recently active for the core): up right now, for holding a
   * lost-acknowledgement demotion; about one maximal election timeout.
   */
  readonly activeWithinMs: number;
}

export const defaultMembershipPolicy: Omit<MembershipPolicy, 'targetVoters'> = {
  replaceAfterMs: 30_000,
  liveWithinMs: 3_000,
  catchUpEntries: 100,
  // The node's maximal election timeout: 20 ticks of 50 ms (src/node/timings.ts).
  activeWithinMs: 1000,
};

/** A lost-acknowledgement demotion from this many voters or fewer promotes a successor first. */
const MIN_SPARE_VOTERS = 3;

export type MembershipAction =
  | { readonly type: 'promote'; readonly node: NodeId; readonly why: string }
  | { readonly type: 'demote'; readonly node: NodeId; readonly why: string };

export function decideMembership(view: MembershipView, policy: MembershipPolicy): MembershipAction | null {
  if (view.confPending) return null;
  const { voters, learners } = view.conf;
  // A leader that is not a voter (just removed) has nothing to decide.
  if (!voters.includes(view.self)) return null;
  const heardAgo = (id: NodeId): number => {
    if (id === view.self) return 0;
    const t = view.lastHeard.get(id);
    return t === undefined ? Number.POSITIVE_INFINITY : view.now - t;
  };
  const reachable = (id: NodeId): boolean => heardAgo(id) <= policy.liveWithinMs;
  const keepsQuorum = (after: readonly NodeId[]): boolean => after.filter(reachable).length >= quorumSize(after.length);

  const match = (id: NodeId): number => view.progress.get(id)?.match ?? 0;
  const candidates = learners
    .filter((l) => reachable(l) && view.hasAddress(l) && match(l) >= view.lastIndex - policy.catchUpEntries)
    // Most caught-up first; ids break ties so every run decides the same.
    .sort((a, b) => match(b) - match(a) || (a < b ? -1 : a > b ? 1 : 0));
  const best = candidates[0];
  const dead = voters.filter((v) => heardAgo(v) > policy.replaceAfterMs);

  // A voter that lost what it acknowledged must not vote until it has caught up again: it is
  // demoted before anything else, whatever the count (promotion brings it back once caught up).
  // But when that would leave fewer than three voters and a caught-up learner can take its seat,
  // the learner is promoted first, as for a silent voter: two voters stop at the first fault, and
  // a voter that lost its disk meanwhile could then never be removed (the simulator's kv seed 1025:
  // a lost-acknowledgement demotion left [leader, wiped voter], and no leader could be elected).
  // And it waits while the voters it would leave have no active quorum (one of them is down, or
  // lost its disk too): demoting then could leave a configuration nothing can change any more
  // (kv seed 24 of 3 nodes: [leader, wiped voter]); once that voter is back or replaced, it goes.
  const lost = voters.find((v) => v !== view.self && view.lostDisk.has(v));
  if (lost !== undefined) {
    if (voters.length <= MIN_SPARE_VOTERS && best !== undefined && keepsQuorum([...voters, best])) {
      return { type: 'promote', node: best, why: `replaces ${lost}, which holds less of the log than it acknowledged` };
    }
    const left = voters.filter((v) => v !== lost);
    const known = view.ledForMs >= policy.activeWithinMs;
    const active = left.filter(
      (v) => v === view.self || (known && view.progress.get(v)?.recentActive === true && heardAgo(v) <= policy.activeWithinMs),
    );
    if (active.length < quorumSize(left.length)) return null;
    return {
      type: 'demote',
      node: lost,
      why: 'it holds less of the log than it acknowledged (a lost or restored disk); it votes again once caught up',
    };
  }

  if (voters.length > policy.targetVoters) {
    // One too many (a replacement was promoted, or the target shrank): drop the voter heard from
    // least recently, then the one furthest behind, never the leader itself.
    const victim = voters
      .filter((v) => v !== view.self)
      .sort((a, b) => heardAgo(b) - heardAgo(a) || match(a) - match(b) || (a < b ? -1 : a > b ? 1 : 0))[0];
    if (victim !== undefined && keepsQuorum(voters.filter((v) => v !== victim))) {
      const why = dead.includes(victim)
        ? `${silence(heardAgo(victim))}, replaced`
        : `${voters.length} voters, target ${policy.targetVoters}`;
      return { type: 'demote', node: victim, why };
    }
    return null;
  }

  if (best === undefined || !keepsQuorum([...voters, best])) return null;
  if (voters.length < policy.targetVoters) {
    return { type: 'promote', node: best, why: `caught up; ${voters.length} voters, target ${policy.targetVoters}` };
  }
  // At the target: a dead voter is replaced by first promoting its successor; the dead one is
  // demoted on a later round (the branch above), once the successor is a voter.
  const deadVoter = dead[0];
  if (deadVoter !== undefined) {
    return { type: 'promote', node: best, why: `replaces ${deadVoter}, ${silence(heardAgo(deadVoter))}` };
  }
  return null;
}

function silence(ms: number): string {
  return Number.isFinite(ms) ? `unreachable for ${Math.round(ms)} ms` : 'never heard from';
}
