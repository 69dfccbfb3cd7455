import type { SeededRng } from '../src/raft/rng.js';
import type { ConfChange } from '../src/raft/types.js';
import type { ClusterApi } from './workload.js';

/**
 * The operator: during the safety phase, now and then a single-server membership change or a
 * leadership transfer, proposed at whichever node currently leads. Membership cycles nodes out
 * and back in (remove or demote a voter, add a learner, promote it) but never takes the voters
 * below three; the core itself refuses a change while another is pending.
 */
export class Admin {
  private stopped = false;
  readonly counts = { confProposed: 0, confRefused: 0, transfers: 0 };

  constructor(
    private readonly api: ClusterApi<unknown>,
    private readonly rng: SeededRng,
    private readonly membershipChanges: boolean,
    private readonly transfers: boolean,
    /** While true, no membership changes (a node that lost its disk is being let back in: see rejoin.ts). */
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
    const r = this.api.proposeConfChange(leader, cc);
    const verb = cc.type === 'addLearner' && conf.voters.includes(cc.node) ? 'demote' : cc.type;
    if (r?.ok) this.counts.confProposed++;
    else this.counts.confRefused++;
    this.api.trace(`admin: ${verb} ${cc.node} at ${leader}: ${r === null ? 'unavailable' : r.ok ? 'proposed' : `refused (${r.reason})`}`);
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
