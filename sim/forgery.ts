// What the adversary forged, and the checker that nothing of it took effect (the `forger` and
// `liar` fault kinds, adversary.ts):
// - bytes the non-member forger injected (entries in forged appends and proposals, forged
//   snapshots) must never be stored in any node's log or snapshot, let alone applied;
// - a membership change reaches a log only from the leader of its term: a conf entry whose
//   proposer is not that leader is a forwarded one, which the leader must have refused;
// - no entry names the forger as its proposer.
// A member's forged scheduler commands (speaking for another node) may be in the log, since members
// may propose; the scheduler workload checks that they apply as ignored (scheduler-checkers.ts).
import type { Entry, NodeId, Snapshot } from '../src/raft/types.js';
import { hashBytes, hex } from './hash.js';

/** The non-member's id: never a member, never in any configuration. */
export const FORGER: NodeId = 'x-forger';

/** A set of byte strings, by hash first. */
export class ByteSet {
  private readonly byHash = new Map<number, Uint8Array[]>();
  size = 0;

  add(b: Uint8Array): void {
    const h = hashBytes(b);
    const list = this.byHash.get(h);
    if (list?.some((x) => sameBytes(x, b))) return;
    if (list) list.push(b.slice());
    else this.byHash.set(h, [b.slice()]);
    this.size++;
  }

  has(b: Uint8Array): boolean {
    if (this.size === 0) return false;
    return this.byHash.get(hashBytes(b))?.some((x) => sameBytes(x, b)) ?? false;
  }
}

/** Values keyed by byte strings, by hash first. */
export class ByteMap<T> {
  private readonly byHash = new Map<number, { key: Uint8Array; value: T }[]>();
  size = 0;

  set(key: Uint8Array, value: T): void {
    const h = hashBytes(key);
    const list = this.byHash.get(h) ?? [];
    const at = list.find((x) => sameBytes(x.key, key));
    if (at) at.value = value;
    else {
      list.push({ key: key.slice(), value });
      this.byHash.set(h, list);
      this.size++;
    }
  }

  get(key: Uint8Array): T | undefined {
    if (this.size === 0) return undefined;
    return this.byHash.get(hashBytes(key))?.find((x) => sameBytes(x.key, key))?.value;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface ForgeryWorld {
  fail(invariant: string, detail: string): void;
  /** The node first seen leading `term`, if any was. */
  leaderOf(term: number): NodeId | undefined;
}

export class ForgeryChecker {
  /** Entry data and snapshot data the non-member forger sent. */
  readonly injected = new ByteSet();

  constructor(private readonly world: ForgeryWorld) {}

  /** Entries (and a snapshot) just became durable on `node`. */
  persisted(node: NodeId, entries: readonly Entry[], snapshot: Snapshot | null): void {
    for (const e of entries) this.checkEntry(node, e, 'stored');
    if (snapshot && this.injected.has(snapshot.data)) {
      this.world.fail('forgery stored', `${node} stored a snapshot (index ${snapshot.meta.index}) that ${FORGER}, not a member, sent`);
    }
  }

  applied(node: NodeId, e: Entry): void {
    this.checkEntry(node, e, 'applied');
  }

  /** `node` replaced its state machine by a snapshot. */
  restored(node: NodeId, snap: Snapshot): void {
    if (this.injected.has(snap.data)) {
      this.world.fail('forgery applied', `${node} installed a snapshot (index ${snap.meta.index}) that ${FORGER}, not a member, sent`);
    }
  }

  private checkEntry(node: NodeId, e: Entry, how: 'stored' | 'applied'): void {
    if (e.proposer === FORGER || this.injected.has(e.data)) {
      this.world.fail(
        `forgery ${how}`,
        `${node} ${how} entry ${e.index}/t${e.term} (${e.type}, proposer ${e.proposer}, data ${hex(hashBytes(e.data))}), which ${FORGER}, not a member, injected`,
      );
      return;
    }
    if (e.type !== 'conf') return;
    const leader = this.world.leaderOf(e.term);
    if (leader !== undefined && e.proposer !== leader) {
      this.world.fail(
        'forged membership change',
        `${node} ${how} conf entry ${e.index}/t${e.term} proposed by ${e.proposer}, but ${leader} led term ${e.term}: a forwarded membership change got into the log`,
      );
    }
  }
}
