import type { Reply } from '../src/node/proposal.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { ConfChange, NodeId } from '../src/raft/types.js';
import type { ClusterApi } from './workload.js';

/** A change the operator asks for is given up if not applied within this long. */
const CHANGE_TIMEOUT_MS = 2000;

/** How the operator asks a node for a membership change: its ConfChanger (membership.ts); false when unavailable. */
export type ChangeMembership = (node: NodeId, cc: ConfChange, timeoutMs: number, reply: Reply<void>) => boolean;

/**
 * The operator: during the safety phase, now and then a single-server membership change or a
 * leadership transfer, asked of whichever node currently leads. Membership cycles nodes out
 * and back in (remove or demote a voter, add a learner, promote it) but never takes the voters
 * below three; the change queues in the leader's ConfChanger with the node's own, as any change
 * in a node does.
 */
export class Admin {
  private stopped = false;
  readonly counts = { confAsked: 0, confApplied: 0, confFailed: 0, transfers: 0 };

  constructor(
    private readonly api: ClusterApi<unknown>,
    private readonly changeAt: ChangeMembership,
    private readonly rng: SeededRng,
    private readonly membershipChanges: boolean,
    private readonly transfers: boolean,
    /** While true, no membership changes (a node that lost its disk is being let back in: see membership.ts). */
    private readonly hold: () => boolean = () => false,
  ) {}

  start(): void {
    if (this.membershipChanges || this.transfers) this.schedule();
  }

  stop(): void {
    this.stopped = true;
  }

  private schedule(): void {
    this.api.after(this.rng.range(200, 1500), () => {
      if (this.stopped) return;
      const doConf = this.membershipChanges && (!this.transfers || this.rng.chance(0.6));
      if (doConf) this.changeMembership();
      else this.transfer();
      this.schedule();
    });
  }

  private changeMembership(): void {
    if (this.hold()) return;
    const leader = this.api.leader();
    if (!leader) return;
    const conf = this.api.membership(leader);
    if (!conf) return;
    const outside = this.api.nodes.filter((n) => !conf.voters.includes(n) && !conf.learners.includes(n));
    let cc: ConfChange;
    if (conf.learners.length > 0 && (conf.voters.length < 5 || this.rng.chance(0.3))) {
      cc = { type: 'addVoter', node: this.rng.pick(conf.learners) };
    } else if (outside.length > 0 && this.rng.chance(0.7)) {
      cc = { type: 'addLearner', node: this.rng.pick(outside) };
    } else if (conf.voters.length > 3) {
      cc = { type: this.rng.chance(0.5) ? 'remove' : 'addLearner', node: this.rng.pick(conf.voters) };
    } else if (conf.learners.length > 0) {
      cc = { type: 'remove', node: this.rng.pick(conf.learners) };
    } else {
      return;
    }
    const verb = cc.type === 'addLearner' && conf.voters.includes(cc.node) ? 'demote' : cc.type;
    const asked = this.changeAt(leader, cc, CHANGE_TIMEOUT_MS, {
      resolve: () => {
        this.counts.confApplied++;
        this.api.trace(`admin: ${verb} ${cc.node} at ${leader}: applied`);
      },
      reject: (err) => {
        this.counts.confFailed++;
        this.api.trace(`admin: ${verb} ${cc.node} at ${leader}: ${err.message}`);
      },
    });
    if (asked) this.counts.confAsked++;
    this.api.trace(`admin: ${verb} ${cc.node} at ${leader}: ${asked ? 'asked' : 'unavailable'}`);
  }

  private transfer(): void {
    const leader = this.api.leader();
    if (!leader) return;
    const conf = this.api.membership(leader);
    const others = conf?.voters.filter((v) => v !== leader) ?? [];
    if (others.length === 0) return;
    const to = this.rng.pick(others);
    const ok = this.api.transferLeadership(leader, to);
    this.counts.transfers++;
    this.api.trace(`admin: transfer leadership ${leader} -> ${to}: ${ok ? 'started' : 'refused'}`);
  }
}
