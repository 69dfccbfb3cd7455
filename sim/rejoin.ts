// The parts of the node's membership logic that a lost disk needs, modelled simply:
// - the join protocol (src/node/join-client.ts, join-handler.ts): a node that starts without a
//   store listing it (here: one whose disk was wiped) asks the leader to let it in; the leader
//   makes it a learner (demoting it, if the cluster still counts it as a voter) and answers, once
//   that change is committed, with the members, whom the node then hears (admitIntroducers).
//   Until then it hears nobody: it cannot vote or acknowledge with a log it no longer has;
// - the leader's maintenance loop (src/node/maintenance.ts, membership.ts): a voter the core found
//   holding less than it acknowledged (RaftNode.takeLostAcknowledged) is demoted, and a node this
//   logic demoted is promoted again once its log is within CATCH_UP_ENTRIES of the leader's.
// The operator's random changes (admin.ts) go on beside it (the core applies one change at a time),
// except while a wiped node is being let in: then its join's change is the only one.
import type { NodeId } from '../src/raft/types.js';
import type { Cluster } from './cluster.js';

/** How often the loop looks, ms (the node's maintenance period is longer; the sim is faster). */
const PERIOD_MS = 50;
/** A join proposal not committed within this long is proposed again (at whichever node leads). */
const RETRY_MS = 1000;
/** A demoted node whose match is within this many entries of the leader's last index has caught up. */
export const CATCH_UP_ENTRIES = 10;

interface Join {
  /** The incarnation that asked; a crash ends the request (the next start asks again). */
  readonly incarnation: number;
  proposal: { readonly index: number; readonly term: number; readonly at: number } | null;
}

export class Rejoin<R> {
  readonly counts = { joins: 0, demotions: 0, promotions: 0, lostAcknowledged: 0 };
  private readonly joins = new Map<NodeId, Join>();
  /** Voters the leader found with a lost disk, until demoted. */
  private readonly lostDisk = new Set<NodeId>();
  /** Nodes this logic made learners: promoted again once caught up. */
  private readonly demoted = new Set<NodeId>();
  /** Wiped nodes not let in since. */
  private readonly outside = new Set<NodeId>();

  constructor(private readonly c: Cluster<R>) {}

  start(): void {
    this.c.after(PERIOD_MS, () => this.loop());
  }

  /** The node lost its disk: it is outside until a join lets it in. */
  wiped(id: NodeId): void {
    this.outside.add(id);
  }

  /**
   * A wiped node has not been let in yet, or not sent its first snapshot (its store does not list
   * it): the nemesis wipes one disk at a time, so that a node that only just got in is not needed
   * for the majority that must let the next one in.
   */
  rejoining(): boolean {
    for (const id of this.outside) if (this.c.sims.get(id)?.disk.lists(id)) this.outside.delete(id);
    return this.outside.size > 0;
  }

  /**
   * The voters whose disk may be wiped now: none while another wiped node is being let in, while a
   * membership change is in flight, with fewer than three voters, while any voter's store does not
   * list it yet, or while any voter's log lacks the current membership or has not applied it yet.
   * The voters that remain then commit the join's change without the wiped one, and nothing else
   * changes the membership until it is in.
   *
   * The last two conditions hide a gap in the core rather than a fault of this model. A voter whose
   * log predates a learner's promotion refuses that new voter's vote request (votes only from
   * voters it knows), and cannot catch up without a leader; with a wiped voter out, the cluster may
   * then have no majority left that elects anyone (kv seed 211 before this condition). And a
   * membership takes effect when applied: a leader wiped right after it applied a promotion, before
   * the others learned that it committed, leaves them counting by the membership before it, in
   * which the wiped node's vote is needed and the promoted node is a learner (kv seed 11 of 3 nodes,
   * once the simulator ran the production driver).
   */
  wipeable(): NodeId[] {
    const c = this.c;
    if (this.rejoining()) return [];
    const leader = c.leader();
    const st = leader === null ? null : c.status(leader);
    if (leader === null || !st || st.role !== 'leader' || st.progress === null || !c.confSettled(leader)) return [];
    const voters = st.membership.conf.voters;
    if (voters.length < 3 || voters.some((v) => !c.sims.get(v)?.disk.lists(v))) return [];
    const current = st.membership.index;
    if (voters.some((v) => v !== leader && (st.progress?.get(v)?.match ?? 0) < current)) return [];
    if (voters.some((v) => (c.status(v)?.membership.index ?? 0) < current)) return [];
    return [...voters];
  }

  /** The node started without a store listing it: it asks to be let in. */
  join(id: NodeId): void {
    this.joins.set(id, { incarnation: this.c.incarnation(id), proposal: null });
    this.c.trace(`${id} asks to join (its store does not list it)`);
  }

  private loop(): void {
    for (const [id, j] of [...this.joins]) this.advanceJoin(id, j);
    this.maintain();
    this.c.after(PERIOD_MS, () => this.loop());
  }

  private advanceJoin(id: NodeId, j: Join): void {
    const c = this.c;
    if (!c.isUp(id) || c.incarnation(id) !== j.incarnation) {
      this.joins.delete(id);
      return;
    }
    const leader = c.leader();
    if (leader === null || leader === id) return;
    const p = j.proposal;
    if (p !== null) {
      const t = c.checker.canonicalTerm(p.index);
      if (t === p.term) {
        // Committed: a majority without the joiner holds everything up to here, so nothing it
        // acknowledged before it lost its disk counts any more. Answer with the members.
        const conf = c.membership(leader);
        if (conf === null || !c.available(id)) return;
        const members = [...conf.voters, ...conf.learners];
        if (!c.admitIntroducers(id, members, p.index)) return;
        this.joins.delete(id);
        this.demoted.add(id);
        this.counts.joins++;
        c.trace(`${id} joined as a learner (change ${p.index} committed); it hears ${members.join(',')}`);
        return;
      }
      if (t === undefined && c.now() - p.at < RETRY_MS) return;
    }
    // Always a change proposed after the disk was lost (even when the node is a learner already):
    // its commit, without the joiner, is what makes the joiner's old acknowledgements not count.
    const r = c.proposeConfChange(leader, { type: 'addLearner', node: id });
    const voter = c.membership(leader)?.voters.includes(id) ?? false;
    if (r?.ok && 'index' in r) {
      j.proposal = { index: r.index, term: r.term, at: c.now() };
      if (voter) this.counts.demotions++;
      c.trace(`join: ${leader} makes ${id} a learner${voter ? ' (demoted: its disk was lost)' : ''} at ${r.index}/t${r.term}`);
    }
  }

  /** The leader's side: demote voters that lost what they acknowledged, promote the caught up again. */
  private maintain(): void {
    const c = this.c;
    const leader = c.leader();
    if (leader === null) return;
    for (const id of c.takeLostAcknowledged(leader)) {
      this.counts.lostAcknowledged++;
      this.lostDisk.add(id);
      c.trace(`maintenance: ${leader} finds ${id} holding less than it acknowledged`);
    }
    const st = c.status(leader);
    if (!st || st.role !== 'leader' || st.progress === null) return;
    // While a wiped node is being let in, its join's change is the only one: the majority that
    // commits it must not shrink meanwhile (the wiped node cannot help it).
    if (this.rejoining()) return;
    const conf = st.membership.conf;
    for (const id of this.lostDisk) {
      // Until the leader has applied its demotion (a change lost with a leader is proposed again).
      if (conf.voters.includes(id) && id !== leader) continue;
      this.lostDisk.delete(id);
      if (conf.learners.includes(id)) this.demoted.add(id);
    }
    const victim = [...this.lostDisk][0];
    if (victim !== undefined) {
      const r = c.proposeConfChange(leader, { type: 'addLearner', node: victim });
      if (r?.ok) {
        this.counts.demotions++;
        c.trace(`maintenance: ${leader} demotes ${victim} (it holds less than it acknowledged)`);
      }
      return;
    }
    for (const id of [...this.demoted]) {
      if (conf.voters.includes(id) || !conf.learners.includes(id)) {
        // A voter again (promoted here or by the operator), or removed: nothing left to do.
        this.demoted.delete(id);
        continue;
      }
      const match = st.progress.get(id)?.match ?? 0;
      if (this.joins.has(id) || match < st.lastIndex - CATCH_UP_ENTRIES) continue;
      const r = c.proposeConfChange(leader, { type: 'addVoter', node: id });
      if (r?.ok) {
        this.counts.promotions++;
        c.trace(`maintenance: ${leader} promotes ${id} again (caught up: match ${match} of ${st.lastIndex})`);
      }
      return;
    }
  }
}
