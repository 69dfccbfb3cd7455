import { known } from '../src/invariant.js';
import type { Entry, NodeId, SnapshotMeta } from '../src/raft/types.js';
import { hashBytes, hashNumber, hashString, hex } from './hash.js';

export interface Violation {
  readonly invariant: string;
  readonly detail: string;
}

/** The part of a node's durable state the checkers read (SimDisk implements it). */
export interface DiskView {
  readonly commit: number;
  snapIndex(): number;
  lastIndex(): number;
  term(index: number): number | undefined;
  entry(index: number): Entry | undefined;
}

export function entryHash(e: Pick<Entry, 'type' | 'time' | 'data'>): number {
  let h = hashString(e.type);
  h = hashNumber(e.time % 0x100000000, h);
  h = hashNumber(Math.floor(e.time / 0x100000000), h);
  return hashBytes(e.data, h);
}

interface LogRecord {
  readonly term: number;
  readonly hash: number;
  readonly prevTerm: number;
  readonly node: NodeId;
}

/**
 * The Raft safety properties, checked incrementally as observations arrive. Observations are
 * plain data, so a test can feed a fabricated history and see the checker object to it.
 *
 * The canonical committed log (index -> term, entry hash, state hash after it) is built from the
 * first node to apply each index; every later apply, snapshot and restart must agree with it.
 * The first violation is kept; later observations are ignored.
 */
export class SafetyChecker {
  violation: Violation | null = null;
  private readonly leaders = new Map<number, NodeId>();
  private readonly canonTerm: number[] = [];
  private readonly canonHash: number[] = [];
  private readonly canonState: number[] = [];
  /** Term of the leader first seen with its commit index at or past each index. */
  private readonly commitTerm: number[] = [];
  private commitSeen = 0;
  /** (index, term) -> the entry every log holding that pair must have, and the term before it. */
  private readonly logRecords: (LogRecord[] | undefined)[] = [];
  private readonly completenessChecked = new Set<number>();
  private readonly lastCommit = new Map<NodeId, number>();
  /** The highest term any node campaigned in (seen as candidate or leader). */
  private campaignTerm = 0;

  /** Highest index in the canonical committed log. */
  get committedLength(): number {
    return this.canonTerm.length - 1;
  }

  canonicalTerm(index: number): number | undefined {
    return this.canonTerm[index];
  }

  /** The node first seen leading `term`, if any was. */
  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  private fail(invariant: string, detail: string): void {
    this.violation ??= { invariant, detail };
  }

  /** A node's role, term and commit index after an event. `restarted` resets its commit floor. */
  observe(node: NodeId, role: string, term: number, commit: number): void {
    // Terms rise only by campaigns: a node at a term nobody campaigned for took it from a message
    // that was not a member's (a forged vote request, append or heartbeat with a made-up term).
    if (role === 'candidate' || role === 'leader') {
      if (term > this.campaignTerm) this.campaignTerm = term;
    } else if (term > this.campaignTerm) {
      this.fail('term from nowhere', `${node} is ${role} in term ${term}, but no node ever campaigned past term ${this.campaignTerm}`);
    }
    if (role === 'leader') {
      const other = this.leaders.get(term);
      if (other === undefined) this.leaders.set(term, node);
      else if (other !== node) this.fail('election safety', `${other} and ${node} are both leader of term ${term}`);
      // The first leader seen at or past an index is the one that committed it.
      for (let i = this.commitSeen + 1; i <= commit; i++) this.commitTerm[i] = term;
      if (commit > this.commitSeen) this.commitSeen = commit;
    }
    const prev = this.lastCommit.get(node) ?? 0;
    if (commit < prev) this.fail('commit monotonicity', `${node}'s commit index went back from ${prev} to ${commit}`);
    this.lastCommit.set(node, commit);
  }

  /** The node restarted: its in-memory commit index legitimately starts over from disk. */
  restarted(node: NodeId, disk: DiskView): void {
    this.lastCommit.delete(node);
    const s = disk.snapIndex();
    if (s > 0) this.checkCanonicalTerm(node, s, known(disk.term(s), 'a stored snapshot has a term'), 'restart: stored snapshot');
    for (let i = s + 1; i <= Math.min(disk.commit, disk.lastIndex()); i++) {
      this.checkStoredCommitted(node, disk.entry(i) as Entry, 'restart: stored committed entry');
    }
  }

  /** A batch of entries just became durable on `node`; `disk` already includes them. */
  persisted(node: NodeId, entries: readonly Entry[], disk: DiskView): void {
    for (const e of entries) {
      if (disk.entry(e.index) !== e) continue;
      const prevTerm = disk.term(e.index - 1);
      if (prevTerm === undefined) continue;
      const hash = entryHash(e);
      const recs = (this.logRecords[e.index] ??= []);
      const same = recs.find((r) => r.term === e.term);
      if (!same) recs.push({ term: e.term, hash, prevTerm, node });
      else if (same.hash !== hash || same.prevTerm !== prevTerm) {
        this.fail(
          'log matching',
          `entry ${e.index} of term ${e.term}: ${same.node} stored hash ${hex(same.hash)} after a term-${same.prevTerm} entry, ` +
            `${node} stored hash ${hex(hash)} after a term-${prevTerm} entry`,
        );
      }
      if (e.index <= disk.commit) this.checkStoredCommitted(node, e, 'stored committed entry');
      if (prevTerm < e.term && !this.completenessChecked.has(e.term)) {
        this.completenessChecked.add(e.term);
        this.checkLeaderCompleteness(node, e, disk);
      }
    }
  }

  /**
   * The first entry of term T in any log is the one its leader appended on election, and by log
   * matching everything before it is that leader's log: it must hold every entry committed in an
   * earlier term. (Entries committed in later terms need not be there: a slow election can finish
   * after a newer leader has already committed.)
   */
  private checkLeaderCompleteness(node: NodeId, first: Entry, disk: DiskView): void {
    const T = first.term;
    const s = disk.snapIndex();
    for (let j = 1; j < this.canonTerm.length; j++) {
      const ct = this.commitTerm[j];
      if (this.canonTerm[j] === undefined || ct === undefined || ct >= T) continue;
      if (j >= first.index) {
        this.fail(
          'leader completeness',
          `the leader of term ${T} (log seen on ${node}) began its term at index ${first.index} without entry ${j}, committed in term ${ct}`,
        );
        return;
      }
      if (j < s) continue;
      const t = disk.term(j);
      const e = disk.entry(j);
      const matches = t === this.canonTerm[j] && (e === undefined || entryHash(e) === this.canonHash[j]);
      if (!matches) {
        this.fail(
          'leader completeness',
          `the leader of term ${T} (log seen on ${node}) has term ${String(t)} at index ${j}, but the entry of term ${String(this.canonTerm[j])} committed there in term ${ct}`,
        );
        return;
      }
    }
  }

  /** `stateHash` null: the state is not compared at this index (a big cluster's stride, cluster.ts). */
  applied(node: NodeId, e: Entry, stateHash: number | null): void {
    const hash = entryHash(e);
    const t = this.canonTerm[e.index];
    if (t === undefined) {
      this.canonTerm[e.index] = e.term;
      this.canonHash[e.index] = hash;
    } else if (t !== e.term || this.canonHash[e.index] !== hash) {
      this.fail(
        'state machine safety',
        `${node} applied entry ${e.index} of term ${e.term} (hash ${hex(hash)}) but the entry committed there is of term ${t} (hash ${hex(known(this.canonHash[e.index], 'a committed index has a hash'))})`,
      );
    }
    if (stateHash !== null) this.checkState(node, e.index, stateHash, 'after applying');
  }

  /** `node` replaced its state machine by a snapshot. */
  restored(node: NodeId, meta: SnapshotMeta, stateHash: number): void {
    this.checkCanonicalTerm(node, meta.index, meta.term, 'installed snapshot');
    this.checkState(node, meta.index, stateHash, 'after installing a snapshot at');
  }

  private checkState(node: NodeId, index: number, stateHash: number, how: string): void {
    const s = this.canonState[index];
    if (s === undefined) this.canonState[index] = stateHash;
    else if (s !== stateHash) {
      this.fail('state machine safety', `${node}'s state hash ${how} index ${index} is ${hex(stateHash)}, other nodes had ${hex(s)}`);
    }
  }

  private checkCanonicalTerm(node: NodeId, index: number, term: number, what: string): void {
    const t = this.canonTerm[index];
    if (t !== undefined && t !== term) {
      this.fail('committed entry changed', `${node}: ${what} at index ${index} has term ${term}, the committed entry there has term ${t}`);
    }
  }

  private checkStoredCommitted(node: NodeId, e: Entry, what: string): void {
    const t = this.canonTerm[e.index];
    if (t === undefined) return;
    if (t !== e.term || this.canonHash[e.index] !== entryHash(e)) {
      this.fail(
        'committed entry changed',
        `${node}: ${what} ${e.index} has term ${e.term}, the committed entry there has term ${t} (hash ${hex(known(this.canonHash[e.index], 'a committed index has a hash'))})`,
      );
    }
  }
}
