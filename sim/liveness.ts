import type { NodeId } from '../src/raft/types.js';
import type { Violation } from './checkers.js';
import { describeMembership, type Cluster } from './cluster.js';
import type { Workload } from './workload.js';

/**
 * The liveness phase: after the heal, keep proposing a probe at the leader until one commits and
 * every member of the newest membership has applied it, within the bound.
 */
export class Liveness<R> {
  converged: { readonly at: number; readonly index: number } | null = null;
  failure: Violation | null = null;
  private probes: { index: number; term: number }[] = [];
  private lastProbe = -Infinity;
  private n = 0;

  constructor(
    private readonly cluster: Cluster<R>,
    private readonly workload: Workload<R>,
  ) {}

  start(boundMs: number): void {
    const healedAt = this.cluster.now();
    const check = (): void => {
      const c = this.cluster;
      const probe = this.probes.find((p) => c.checker.canonicalTerm(p.index) === p.term);
      const members = this.members();
      if (probe && members.every((id) => c.appliedIndex(id) >= probe.index && c.isUp(id))) {
        this.workload.finish(members, probe.index);
        c.trace(`liveness: probe at ${probe.index} applied on ${members.join(',')}`);
        this.converged = { at: c.now(), index: probe.index };
        return;
      }
      if (c.now() >= healedAt + boundMs) {
        this.failure = { invariant: 'liveness', detail: this.describeStuck(boundMs, probe?.index ?? null, members) };
        return;
      }
      if (!probe && c.now() - this.lastProbe >= 200) this.propose();
      c.after(10, check);
    };
    check();
  }

  private propose(): void {
    const c = this.cluster;
    const leader = c.leader();
    if (!leader) return;
    this.lastProbe = c.now();
    const tag = `probe${++this.n}`;
    const r = c.propose(leader, this.workload.probe(tag));
    if (r?.ok && 'index' in r) {
      this.probes.push({ index: r.index, term: r.term });
      c.trace(`liveness: ${tag} proposed at ${leader}, index ${r.index}/t${r.term}`);
    }
  }

  private members(): NodeId[] {
    const m = this.cluster.newestMembership();
    return m ? [...m.conf.voters, ...m.conf.learners] : [...this.cluster.nodes];
  }

  private describeStuck(boundMs: number, probe: number | null, members: readonly NodeId[]): string {
    const c = this.cluster;
    const m = c.newestMembership();
    const lines = [
      `not converged ${boundMs}ms after the heal: ${probe === null ? 'no probe committed' : `probe committed at ${probe} but not applied everywhere`}; ` +
        `members ${members.join(',')} (${m ? describeMembership(m) : 'no membership'})`,
    ];
    for (const id of c.nodes) {
      const st = c.status(id);
      lines.push(
        st
          ? `${id}: ${st.role} term ${st.term} leader ${st.leader ?? '-'} commit ${st.commit} applied ${c.appliedIndex(id)} ` +
              `log ${st.firstIndex}..${st.lastIndex}, membership ${describeMembership(st.membership)}`
          : `${id}: down`,
      );
    }
    return lines.join('\n    ');
  }
}
