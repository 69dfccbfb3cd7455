import { at } from '../src/invariant.js';
import type { SeededRng } from '../src/raft/rng.js';
import type { NodeId } from '../src/raft/types.js';
import type { SimNetwork } from './network.js';

/**
 * Every kind of fault a seed may enable. The network's, the disks' and the processes' (crash,
 * pause, wipe: a voter's disk emptied), the clocks' (skew: fixed offsets within the lease margin;
 * clockjump: one node's wall clock jumps by up to an hour), and the adversary's (adversary.ts):
 * forger, a non-member forging frames; liar, a member forging proposals.
 */
export const FAULT_KINDS = [
  'loss',
  'dup',
  'reorder',
  'split',
  'isolate',
  'oneway',
  'flap',
  'crash',
  'pause',
  'skew',
  'forger',
  'liar',
  'wipe',
  'clockjump',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const ACTIVE_KINDS: readonly FaultKind[] = ['split', 'isolate', 'oneway', 'flap', 'crash', 'pause', 'wipe', 'clockjump'];
/** The largest clock jump, ms, either way. */
export const MAX_CLOCK_JUMP_MS = 3_600_000;

/** One seed's fault mix (swarm testing: every seed enables its own subset of fault kinds). */
export interface FaultMix {
  readonly kinds: readonly FaultKind[];
  readonly loss: number;
  readonly dup: number;
  readonly delayMean: number;
  /** Mean ms between two nemesis actions. */
  readonly meanGap: number;
}

export function drawFaultMix(rng: SeededRng, allowed: readonly FaultKind[] = FAULT_KINDS): FaultMix {
  const kinds = allowed.filter(() => rng.chance(0.5));
  const has = (k: FaultKind) => kinds.includes(k);
  return {
    kinds,
    loss: has('loss') ? rng.float() * 0.3 : 0,
    dup: has('dup') ? rng.float() * 0.2 : 0,
    delayMean: rng.range(1, 30),
    meanGap: rng.range(100, 1500),
  };
}

export function describeMix(m: FaultMix): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const kinds = m.kinds.map((k) => (k === 'loss' ? `loss ${pct(m.loss)}` : k === 'dup' ? `dup ${pct(m.dup)}` : k));
  return `delay ~${m.delayMean}ms, faults: ${kinds.length > 0 ? kinds.join(', ') : 'none'}`;
}

/** What the nemesis may do to a cluster. */
export interface NemesisTarget {
  readonly nodes: readonly NodeId[];
  readonly net: SimNetwork;
  now(): number;
  after(ms: number, fn: () => void): void;
  isUp(id: NodeId): boolean;
  isPaused(id: NodeId): boolean;
  crash(id: NodeId): void;
  restart(id: NodeId): void;
  pause(id: NodeId): void;
  resume(id: NodeId): void;
  leader(): NodeId | null;
  trace(line: string): void;
  // The faults only the random nemesis draws (a scenario's target need not offer them).
  /** Crash the node and empty its disk (it rejoins as a new node when restarted). */
  wipe?(id: NodeId): void;
  /** The voters whose disk may be wiped now (none while the membership is not settled). */
  wipeable?(): NodeId[];
  /** The wall clock the node's Raft core reads is off by `jumpMs` from its usual setting (0: set right). */
  jumpClock?(id: NodeId, jumpMs: number): void;
}

/**
 * Injects the seed's faults during the safety phase, then heals everything at once: links
 * reconnected, loss and duplication off, crashed nodes restarted, paused nodes resumed. Every
 * delayed undo checks `healed`, so nothing it scheduled can fault the liveness phase.
 */
export class Nemesis {
  private healed = false;
  private readonly active: readonly FaultKind[];
  /** The node whose clock is off (one at a time: the median of the voters' clocks must stay honest). */
  private jumped: NodeId | null = null;

  constructor(
    private readonly t: NemesisTarget,
    private readonly rng: SeededRng,
    readonly mix: FaultMix,
  ) {
    this.active = ACTIVE_KINDS.filter((k) => mix.kinds.includes(k));
  }

  start(): void {
    if (this.active.length > 0) this.schedule();
  }

  /**
   * A node's write just became durable. With crashes enabled, now and then crash it right there
   * (before its messages leave) or just after, and bring it back quickly: the moments when what
   * was synced, and only that, decides whether the node can vote twice or forget an entry.
   * Writes that change the term or the vote are the interesting ones.
   */
  synced(id: NodeId, termOrVote: boolean): void {
    if (this.healed || !this.mix.kinds.includes('crash')) return;
    if (!this.rng.chance(termOrVote ? 0.15 : 0.002)) return;
    const restart = (): void =>
      this.later(this.rng.range(1, 50), () => {
        if (!this.t.isUp(id)) this.t.restart(id);
      });
    if (this.rng.chance(0.5)) {
      this.t.trace(`nemesis: crash ${id} as its write completes`);
      this.t.crash(id);
      restart();
    } else {
      this.t.after(0, () => {
        if (this.healed || !this.t.isUp(id)) return;
        this.t.trace(`nemesis: crash ${id} just after its write completed`);
        this.t.crash(id);
        restart();
      });
    }
  }

  heal(): void {
    this.healed = true;
    this.t.net.unblockAll();
    this.t.net.params.loss = 0;
    this.t.net.params.dup = 0;
    for (const id of this.t.nodes) {
      if (!this.t.isUp(id)) this.t.restart(id);
      else if (this.t.isPaused(id)) this.t.resume(id);
    }
    this.t.trace('nemesis: heal all (links up, no loss, no duplication, every node running)');
  }

  private schedule(): void {
    this.t.after(1 + this.rng.int(2 * this.mix.meanGap), () => {
      if (this.healed) return;
      this.act(this.rng.pick(this.active));
      this.schedule();
    });
  }

  private later(ms: number, fn: () => void): void {
    this.t.after(ms, () => {
      if (!this.healed) fn();
    });
  }

  private act(kind: FaultKind): void {
    const nodes = this.t.nodes;
    switch (kind) {
      case 'split': {
        const order = shuffle(this.rng, nodes);
        const a = order.slice(0, this.rng.range(1, nodes.length - 1));
        const b = order.filter((n) => !a.includes(n));
        this.cut(`split {${a.join(',')}} | {${b.join(',')}}`, pairsBetween(a, b), this.rng.range(50, 2000));
        return;
      }
      case 'isolate': {
        const victim = this.t.leader() ?? this.rng.pick(nodes);
        const others = nodes.filter((n) => n !== victim);
        this.cut(
          `isolate ${victim}${this.t.leader() === victim ? ' (leader)' : ''}`,
          pairsBetween([victim], others),
          this.rng.range(50, 2000),
        );
        return;
      }
      case 'oneway': {
        const [from, to] = shuffle(this.rng, nodes) as [NodeId, NodeId];
        this.cut(`one-way drop ${from}->${to}`, [[from, to]], this.rng.range(50, 2000));
        return;
      }
      case 'flap': {
        const [a, b] = shuffle(this.rng, nodes) as [NodeId, NodeId];
        const period = this.rng.range(10, 200);
        const until = this.t.now() + this.rng.range(300, 3000);
        this.t.trace(`nemesis: flapping link ${a}<->${b} every ${period}ms`);
        const flip = (down: boolean): void => {
          if (down) {
            this.t.net.unblock(a, b);
            this.t.net.unblock(b, a);
          }
          if (this.t.now() >= until) return;
          if (!down) {
            this.t.net.block(a, b);
            this.t.net.block(b, a);
          }
          this.later(period, () => flip(!down));
        };
        flip(false);
        return;
      }
      case 'crash': {
        const up = nodes.filter((n) => this.t.isUp(n));
        if (up.length === 0) return;
        const leader = this.t.leader();
        const victim = leader && this.rng.chance(0.3) ? leader : this.rng.pick(up);
        this.t.crash(victim);
        // Sometimes back at once: a restart in the middle of an election tests what was synced.
        this.later(this.rng.chance(0.3) ? this.rng.range(1, 30) : this.rng.range(30, 2000), () => {
          if (!this.t.isUp(victim)) this.t.restart(victim);
        });
        return;
      }
      case 'pause': {
        const running = nodes.filter((n) => this.t.isUp(n) && !this.t.isPaused(n));
        if (running.length === 0) return;
        const victim = this.rng.pick(running);
        this.t.pause(victim);
        this.later(this.rng.range(10, 1500), () => this.t.resume(victim));
        return;
      }
      case 'wipe': {
        // One lost disk at a time, and only a voter's: a cluster that lost a majority of its
        // disks at once has lost data, which no protocol can give back.
        const voters = this.t.wipeable?.() ?? [];
        if (!this.t.wipe || voters.length === 0) return;
        const victim = this.rng.pick(voters);
        this.t.trace(`nemesis: wipe ${victim}'s disk${victim === this.t.leader() ? ' (leader)' : ''}`);
        this.t.wipe(victim);
        this.later(this.rng.range(1, 1500), () => {
          if (!this.t.isUp(victim)) this.t.restart(victim);
        });
        return;
      }
      case 'clockjump': {
        const jump = this.t.jumpClock?.bind(this.t);
        if (!jump) return;
        const back = (id: NodeId): void => {
          if (this.jumped !== id) return;
          jump(id, 0);
          this.jumped = null;
        };
        if (this.jumped !== null) {
          if (this.rng.chance(0.5)) back(this.jumped);
          return;
        }
        const victim = this.rng.pick(nodes);
        const ms = (this.rng.chance(0.5) ? 1 : -1) * this.rng.range(1_000, MAX_CLOCK_JUMP_MS);
        jump(victim, ms);
        this.jumped = victim;
        // Maybe back later; or it stays off, through the heal (a bad clock is not a fault the heal repairs).
        if (this.rng.chance(0.5)) this.later(this.rng.range(100, 5000), () => back(victim));
        return;
      }
      default:
        return;
    }
  }

  private cut(what: string, links: readonly (readonly [NodeId, NodeId])[], ms: number): void {
    this.t.trace(`nemesis: ${what} for ${ms}ms`);
    for (const [a, b] of links) this.t.net.block(a, b);
    this.later(ms, () => {
      for (const [a, b] of links) this.t.net.unblock(a, b);
      this.t.trace(`nemesis: end of ${what}`);
    });
  }
}

function pairsBetween(a: readonly NodeId[], b: readonly NodeId[]): [NodeId, NodeId][] {
  const out: [NodeId, NodeId][] = [];
  for (const x of a) for (const y of b) out.push([x, y], [y, x]);
  return out;
}

function shuffle<T>(rng: SeededRng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [at(out, j, 'a shuffled slot'), at(out, i, 'a shuffled slot')];
  }
  return out;
}
