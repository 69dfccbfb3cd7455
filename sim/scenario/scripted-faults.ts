// A scenario's fault schedule, applied to the simulated cluster at its simulated times. Unlike the
// random nemesis (nemesis.ts), every fault is the user's: `leader` is resolved when the fault
// fires, and each fault opens a span in the timeline that its undoing closes (a heal closes the
// network's, a restart a kill's, a resume a pause's).
import { at } from '../../src/invariant.js';
import type { NodeId } from '../../src/raft/types.js';
import type { NemesisTarget } from '../nemesis.js';
import type { Fault, NodeRef, NodeSet, TimedFault } from './scenario-file.js';
import type { FaultType, TimelineEvent, Untimed } from './timeline.js';

interface OpenSpan {
  readonly id: number;
  readonly what: string;
  /** Which undoing closes it. */
  readonly closedBy: 'heal' | { readonly restart: NodeId } | { readonly resume: NodeId } | { readonly clock: NodeId };
}

/** What the faults act through, beyond the random nemesis's target: setting a node's clock. */
export interface ScriptTarget extends NemesisTarget {
  /** From now on `node`'s clock reads true time + `skewMs`. */
  setClock(node: NodeId, skewMs: number): void;
}

export class ScriptedFaults {
  private nextId = 1;
  private readonly open: OpenSpan[] = [];
  /** Bumped by every heal: a flapping link's pending flips belong to the generation that started them. */
  private generation = 0;

  constructor(
    private readonly t: ScriptTarget,
    private readonly baseDelayMs: number,
    private readonly emit: (e: Untimed<TimelineEvent>) => void,
  ) {}

  schedule(faults: readonly TimedFault[]): void {
    for (const f of faults) this.t.after(f.at - this.t.now(), () => this.apply(f.fault));
  }

  /** The end of the fault phase: links up, loss and delay off, every node running. */
  healAll(): void {
    this.healNetwork();
    for (const id of this.t.nodes) {
      if (!this.t.isUp(id)) this.restart(id);
      else if (this.t.isPaused(id)) this.resume(id);
    }
    this.emit({ kind: 'note', text: 'end of the fault schedule: everything healed; every job must now finish' });
  }

  private apply(f: Fault): void {
    switch (f.kind) {
      case 'partition': {
        const listed = new Set(f.groups.flat());
        const rest = this.t.nodes.filter((n) => !listed.has(n));
        const groups = rest.length > 0 ? [...f.groups, rest] : [...f.groups];
        const links: [NodeId, NodeId][] = [];
        for (let i = 0; i < groups.length; i++) {
          for (let j = i + 1; j < groups.length; j++) links.push(...pairsBetween(at(groups, i, 'a group'), at(groups, j, 'a group')));
        }
        this.cut('partition', `partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`, links, this.t.nodes, groups);
        return;
      }
      case 'isolate': {
        const n = this.resolve(f.node, 'isolate');
        if (n === null) return;
        const others = this.t.nodes.filter((x) => x !== n);
        this.cut('isolate', `isolate ${n}${f.node === 'leader' ? ' (the leader)' : ''}`, pairsBetween([n], others), [n]);
        return;
      }
      case 'oneway': {
        const from = this.resolve(f.from, 'one-way cut');
        const to = this.resolve(f.to, 'one-way cut');
        if (from === null || to === null) return;
        this.cut('oneway', `one-way cut: ${from} -> ${to} dropped`, [[from, to]], [from, to]);
        return;
      }
      case 'flap':
        this.flap(f.a, f.b, f.everyMs, f.forMs);
        return;
      case 'kill':
        for (const n of this.resolveSet(f.nodes, 'kill')) {
          if (!this.t.isUp(n)) continue;
          const id = this.nextId++;
          this.open.push({ id, what: `${n} down`, closedBy: { restart: n } });
          const what = `kill ${n}${f.nodes !== 'all' && f.nodes.includes('leader') && this.t.leader() === n ? ' (the leader)' : ''}`;
          this.emit({ kind: 'fault', id, type: 'kill', what, nodes: [n], groups: [] });
          this.t.crash(n);
        }
        return;
      case 'restart':
        for (const n of this.resolveSet(f.nodes, 'restart')) if (!this.t.isUp(n)) this.restart(n);
        return;
      case 'pause':
        for (const n of this.resolveSet(f.nodes, 'pause')) {
          if (!this.t.isUp(n) || this.t.isPaused(n)) continue;
          const id = this.nextId++;
          this.open.push({ id, what: `${n} paused`, closedBy: { resume: n } });
          this.emit({ kind: 'fault', id, type: 'pause', what: `pause ${n} (process and its tasks frozen)`, nodes: [n], groups: [] });
          this.t.pause(n);
        }
        return;
      case 'resume':
        for (const n of this.resolveSet(f.nodes, 'resume')) if (this.t.isUp(n) && this.t.isPaused(n)) this.resume(n);
        return;
      case 'loss':
        this.t.net.params.loss = f.rate;
        this.span('loss', `message loss ${Math.round(f.rate * 100)}%`, this.t.nodes);
        return;
      case 'delay':
        this.t.net.params.delayMean = f.ms;
        this.span('delay', `message delay ~${f.ms}ms`, this.t.nodes);
        return;
      case 'skew':
        for (const [n, ms] of f.offsets) {
          // A clock stays set until it is set again: its span ends there (or with the run).
          const before = this.open.find((x) => typeof x.closedBy === 'object' && 'clock' in x.closedBy && x.closedBy.clock === n);
          if (before) this.close(before.id);
          const id = this.nextId++;
          const what = `clock of ${n} set to ${ms >= 0 ? '+' : ''}${ms}ms`;
          this.open.push({ id, what, closedBy: { clock: n } });
          this.emit({ kind: 'fault', id, type: 'skew', what, nodes: [n], groups: [] });
          this.t.setClock(n, ms);
        }
        return;
      default:
        this.healNetwork();
    }
  }

  private resolve(ref: NodeRef, what: string): NodeId | null {
    if (ref !== 'leader') return ref;
    const l = this.t.leader();
    if (l === null) this.emit({ kind: 'note', text: `no leader at this moment: ${what} of the leader skipped` });
    return l;
  }

  private resolveSet(set: NodeSet, what: string): NodeId[] {
    if (set === 'all') return [...this.t.nodes];
    const out: NodeId[] = [];
    for (const r of set) {
      const n = this.resolve(r, what);
      if (n !== null && !out.includes(n)) out.push(n);
    }
    return out;
  }

  private cut(
    type: FaultType,
    what: string,
    links: readonly (readonly [NodeId, NodeId])[],
    nodes: readonly NodeId[],
    groups: readonly (readonly NodeId[])[] = [],
  ): void {
    for (const [a, b] of links) this.t.net.block(a, b);
    this.span(type, what, nodes, groups);
  }

  /** A fault the next heal ends. */
  private span(type: FaultType, what: string, nodes: readonly NodeId[], groups: readonly (readonly NodeId[])[] = []): number {
    const id = this.nextId++;
    this.open.push({ id, what, closedBy: 'heal' });
    this.emit({ kind: 'fault', id, type, what, nodes: [...nodes], groups });
    return id;
  }

  private flap(aRef: NodeRef, bRef: NodeRef, everyMs: number, forMs: number): void {
    const a = this.resolve(aRef, 'flap');
    const b = this.resolve(bRef, 'flap');
    if (a === null || b === null) return;
    const gen = this.generation;
    const id = this.span('flap', `flapping link ${a} <-> ${b}, every ${everyMs}ms for ${forMs}ms`, [a, b]);
    const until = this.t.now() + forMs;
    const flip = (down: boolean): void => {
      if (gen !== this.generation) return;
      if (down) {
        this.t.net.unblock(a, b);
        this.t.net.unblock(b, a);
      }
      if (this.t.now() >= until) {
        this.close(id);
        return;
      }
      if (!down) {
        this.t.net.block(a, b);
        this.t.net.block(b, a);
      }
      this.t.after(everyMs, () => flip(!down));
    };
    flip(false);
  }

  private close(id: number): void {
    const i = this.open.findIndex((s) => s.id === id);
    if (i < 0) return;
    const [s] = this.open.splice(i, 1);
    if (s) this.emit({ kind: 'fault-end', id, what: s.what });
  }

  private healNetwork(): void {
    this.generation++;
    this.t.net.unblockAll();
    this.t.net.params.loss = 0;
    this.t.net.params.dup = 0;
    this.t.net.params.delayMean = this.baseDelayMs;
    for (const s of this.open.filter((x) => x.closedBy === 'heal')) this.close(s.id);
    for (const id of this.t.nodes) if (this.t.isUp(id) && this.t.isPaused(id)) this.resume(id);
  }

  private restart(n: NodeId): void {
    const s = this.open.find((x) => typeof x.closedBy === 'object' && 'restart' in x.closedBy && x.closedBy.restart === n);
    if (s) this.close(s.id);
    this.t.restart(n);
  }

  private resume(n: NodeId): void {
    const s = this.open.find((x) => typeof x.closedBy === 'object' && 'resume' in x.closedBy && x.closedBy.resume === n);
    if (s) this.close(s.id);
    this.t.resume(n);
  }
}

function pairsBetween(a: readonly NodeId[], b: readonly NodeId[]): [NodeId, NodeId][] {
  const out: [NodeId, NodeId][] = [];
  for (const x of a) for (const y of b) out.push([x, y], [y, x]);
  return out;
}
