// The adversary of the `forger` and `liar` fault kinds (the nemesis's other faults are the
// network's, the disks' and the clocks'; these are peers that lie):
// - the forger: a peer that is no member (FORGER), on the simulated network like any other, with
//   the victims' state in view (terms, last indexes, leaders) so its forgeries are as plausible as
//   they can be. It sends well-formed frames, encoded and decoded like every other (wire.ts): vote
//   requests with huge terms (up to MAX_TERM and beyond, which the core must refuse as malformed)
//   and with `transfer` set; appends carrying injected entries (the workload's recognisable data,
//   and a membership change adding the forger); proposals of the same; snapshot chunks with a huge
//   total, and whole forged snapshots; heartbeats; timeoutNow; and frames that claim to come from
//   a member, which the authenticated transport refuses. Whatever it injects is recorded
//   (ForgeryChecker.injected) and must never be stored by any node.
// - the liar: a member (drawn) that also forges: it forwards membership changes to the leader (add
//   itself as a voter, remove a voter), which the leader must refuse, and proposes workload
//   commands that speak for another node (WorkloadExtras.forgeCommand), which must apply as ignored.
import { encodeConfChange } from '../src/raft/codec.js';
import type { SeededRng } from '../src/raft/rng.js';
import { MAX_INDEX, MAX_TERM, type ConfChange, type Entry, type Message, type NodeId } from '../src/raft/types.js';
import type { Cluster } from './cluster.js';
import { FORGER } from './forgery.js';
import type { AdversaryHooks } from './workload.js';

/** Wiring plants: bugs planted in the simulated node's wiring rather than in a state machine. */
export const WIRING_PLANTS: Readonly<Record<string, string>> = {
  'trust-forger':
    "the transport trusts the sender a frame claims, and a stranger's frames reach the core as if the receiver's leader had sent them",
};

/** Simulated wall clocks start here (run.ts's EPOCH): forged entries carry plausible times. */
const EPOCH = 1_700_000_000_000;

type ForgeKind = 'vote' | 'app' | 'prop' | 'snap' | 'heartbeat' | 'timeoutNow' | 'spoof';
const FORGE_KINDS: readonly ForgeKind[] = ['vote', 'app', 'prop', 'snap', 'heartbeat', 'timeoutNow', 'spoof'];

export class Adversary<R> {
  private stopped = false;
  private seq = 0;
  readonly counts = { forged: 0, lies: 0, confLies: 0 };
  readonly liar: NodeId | null;

  constructor(
    private readonly c: Cluster<R>,
    private readonly rng: SeededRng,
    private readonly hooks: AdversaryHooks,
    private readonly forger: boolean,
    liar: boolean,
  ) {
    this.liar = liar ? rng.pick(c.nodes) : null;
  }

  start(): void {
    if (this.forger) {
      this.c.trace(`adversary: ${FORGER}, no member, forges frames to the members`);
      this.loop(20, 400, () => this.forge());
    }
    if (this.liar !== null) {
      this.c.trace(`adversary: member ${this.liar} lies (forwards membership changes, speaks for other nodes)`);
      this.loop(100, 1000, () => this.lie(this.liar as NodeId));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private loop(min: number, max: number, act: () => void): void {
    this.c.after(this.rng.range(min, max), () => {
      if (this.stopped) return;
      act();
      this.loop(min, max, act);
    });
  }

  // ----- the forger ----------------------------------------------------------------------------

  private forge(): void {
    const c = this.c;
    const victim = this.rng.pick(c.nodes);
    const st = c.status(victim);
    const sim = c.sims.get(victim);
    if (!st || !sim) return;
    const n = ++this.seq;
    const kind = this.rng.pick(FORGE_KINDS);
    const leader = st.leader ?? st.membership.conf.voters.find((v) => v !== victim) ?? victim;
    // Terms of entries and snapshots start at 1 (a victim that knows no term yet is at 0).
    const term0 = Math.max(1, st.term);
    const diskLast = sim.disk.lastIndex();
    const diskLastTerm = sim.disk.term(diskLast) ?? 0;
    let m: Message;
    switch (kind) {
      case 'vote': {
        const term = this.rng.pick([st.term + 1, st.term + 1000, MAX_TERM, MAX_TERM + 1, 2 ** 40, Number.MAX_SAFE_INTEGER]);
        m = {
          type: 'vote',
          from: FORGER,
          to: victim,
          term,
          pre: this.rng.chance(0.5),
          transfer: this.rng.chance(0.5),
          lastIndex: this.rng.chance(0.5) ? MAX_INDEX : st.lastIndex + 1000,
          lastTerm: Math.min(term, Number.MAX_SAFE_INTEGER),
        };
        break;
      }
      case 'app':
      case 'spoof': {
        // The strongest forgery: right after what the victim holds, in its term or the next, so
        // that only who sent it tells it from its leader's. A spoof claims to be that leader.
        const term = term0 + this.rng.int(2);
        const entries = this.injectedEntries(n, diskLast + 1, term, leader);
        m = {
          type: 'app',
          from: kind === 'spoof' ? leader : FORGER,
          to: victim,
          term,
          prevIndex: diskLast,
          prevTerm: diskLastTerm,
          entries,
          commit: diskLast + entries.length,
        };
        break;
      }
      case 'prop': {
        const data = this.injectData(n);
        const conf = encodeConfChange({ type: 'addVoter', node: FORGER });
        this.c.forgery.injected.add(conf);
        m = {
          type: 'prop',
          from: FORGER,
          to: leader === victim ? victim : leader,
          term: st.term,
          entries: [
            { type: 'normal', data },
            { type: 'conf', data: conf },
          ],
        };
        break;
      }
      case 'snap': {
        const meta = { index: st.commit + this.rng.range(1, 100), term: term0, conf: { voters: [FORGER, victim], learners: [] } };
        if (this.rng.chance(0.5)) {
          const chunk = new Uint8Array(16);
          m = {
            type: 'snap',
            from: FORGER,
            to: victim,
            term: term0,
            meta,
            offset: 0,
            total: this.rng.pick([2 ** 31, 2 ** 40, MAX_INDEX]),
            chunk,
          };
        } else {
          const data = this.hooks.forgedSnapshot?.(n) ?? this.injectData(n);
          this.c.forgery.injected.add(data);
          m = { type: 'snap', from: FORGER, to: victim, term: term0 + this.rng.int(2), meta, offset: 0, total: data.length, chunk: data };
        }
        break;
      }
      case 'heartbeat':
        m = {
          type: 'heartbeat',
          from: FORGER,
          to: victim,
          term: st.term + this.rng.int(2),
          commit: this.rng.chance(0.5) ? MAX_INDEX : st.commit + 100,
          ctx: '',
          transferee: this.rng.pick(['', FORGER, victim]),
        };
        break;
      case 'timeoutNow':
        m = { type: 'timeoutNow', from: FORGER, to: victim, term: st.term };
        break;
    }
    this.counts.forged++;
    c.trace(`forger: ${kind} to ${victim} (t${m.term}${m.from !== FORGER ? `, claiming to be ${m.from}` : ''})`);
    c.net.inject(m, FORGER);
  }

  private injectData(n: number): Uint8Array {
    const data = this.hooks.forgedEntry?.(n) ?? new TextEncoder().encode(`forged-${n}`);
    this.c.forgery.injected.add(data);
    return data;
  }

  /** One or two entries from `index` on: the workload's forged data, and sometimes a change adding the forger. */
  private injectedEntries(n: number, index: number, term: number, leader: NodeId): Entry[] {
    const time = EPOCH + this.c.now();
    const out: Entry[] = [{ index, term, type: 'normal', time, proposer: this.rng.pick([FORGER, leader]), data: this.injectData(n) }];
    if (this.rng.chance(0.3)) {
      const conf = encodeConfChange({ type: 'addVoter', node: FORGER });
      this.c.forgery.injected.add(conf);
      out.push({ index: index + 1, term, type: 'conf', time, proposer: leader, data: conf });
    }
    return out;
  }

  // ----- the liar ------------------------------------------------------------------------------

  private lie(liar: NodeId): void {
    const c = this.c;
    if (!c.available(liar)) return;
    if (this.hooks.forgeCommand && this.rng.chance(0.7)) {
      const f = this.hooks.forgeCommand(liar, this.rng);
      if (f !== null) {
        const r = c.propose(liar, f.data);
        this.counts.lies++;
        c.trace(`liar: ${liar} proposes ${f.what}: ${r?.ok ? 'taken' : `refused (${r === null ? 'unavailable' : r.reason})`}`);
        return;
      }
    }
    // A membership change forwarded to the leader, which only the leader's own logic may propose.
    const st = c.status(liar);
    if (!st || st.leader === null || st.leader === liar) return;
    const others = st.membership.conf.voters.filter((v) => v !== liar);
    const cc: ConfChange =
      this.rng.chance(0.5) || others.length === 0 ? { type: 'addVoter', node: liar } : { type: 'remove', node: this.rng.pick(others) };
    this.counts.confLies++;
    c.trace(`liar: ${liar} forwards ${cc.type} ${cc.node} to ${st.leader}`);
    c.net.send({ type: 'prop', from: liar, to: st.leader, term: st.term, entries: [{ type: 'conf', data: encodeConfChange(cc) }] });
  }
}
