import { at } from '../invariant.js';
import type { Entry, Snapshot, SnapshotMeta } from './types.js';

/**
 * The in-memory Raft log of one node: a snapshot prefix followed by contiguous entries.
 *
 * Invariants (checked where they could break):
 *   snapIndex <= applied <= committed <= lastIndex
 *   entries[k].index === snapIndex + 1 + k
 *   entries at index <= stable are durable on this node's disk; the rest are not yet.
 * The driver persists `unstable()` and then calls `stableTo`, so a node never acknowledges
 * entries that a crash could take away.
 */
export class RaftLog {
  private snapIndex = 0;
  private snapTerm = 0;
  private entries: Entry[] = [];
  /** Highest index known durable. */
  stable = 0;
  committed = 0;
  applied = 0;

  /** Rebuild from what storage loaded. */
  static restore(snapshot: SnapshotMeta | null, entries: readonly Entry[], commit: number): RaftLog {
    const log = new RaftLog();
    if (snapshot) {
      log.snapIndex = snapshot.index;
      log.snapTerm = snapshot.term;
    }
    let expect = log.snapIndex + 1;
    for (const e of entries) {
      if (e.index !== expect) throw new Error(`raft log: entry ${e.index} follows ${expect - 1}`);
      expect++;
    }
    log.entries = entries.slice();
    log.stable = log.lastIndex();
    if (commit > log.lastIndex()) throw new Error(`raft log: commit ${commit} beyond last index ${log.lastIndex()}`);
    log.committed = Math.max(commit, log.snapIndex);
    log.applied = log.snapIndex;
    return log;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): number {
    const n = this.entries.length;
    return n === 0 ? this.snapTerm : at(this.entries, n - 1, 'the last entry of a non-empty log').term;
  }

  snapshotIndex(): number {
    return this.snapIndex;
  }

  /** The term of the entry at `index`, or undefined when it is compacted away or not there yet. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.lastIndex()) return undefined;
    return at(this.entries, index - this.snapIndex - 1, 'an entry between the snapshot and the last index').term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.snapIndex || index > this.lastIndex()) return undefined;
    return this.entries[index - this.snapIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Section 5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries from `lo` onwards, at most `maxBytes` of payload (but always at least one entry).
   * Undefined when `lo` is compacted away (the caller must send a snapshot instead).
   */
  slice(lo: number, maxBytes: number, maxCount = Number.MAX_SAFE_INTEGER): Entry[] | undefined {
    if (lo <= this.snapIndex) return undefined;
    const start = lo - this.snapIndex - 1;
    if (start >= this.entries.length) return [];
    let end = start;
    let bytes = 0;
    while (end < this.entries.length && end - start < maxCount) {
      bytes += at(this.entries, end, 'an entry below the log length').data.length;
      if (bytes > maxBytes && end > start) break;
      end++;
    }
    return this.entries.slice(start, end);
  }

  /** Leader append: entries must continue the log. */
  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.lastIndex() + 1) throw new Error(`raft log: append of ${e.index} after ${this.lastIndex()}`);
      this.entries.push(e);
    }
  }

  /**
   * The first index among `entries` whose term differs from ours, or that we do not have;
   * 0 when every entry is already here.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * Fast backtracking: the largest index <= `index` whose term is <= `term`, with that term.
   * Entries above it cannot match a log whose entry at `index` has term `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (;;) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
      i--;
    }
  }

  /**
   * Follower append after a successful consistency check at `prevIndex`: drops a conflicting
   * suffix and appends the rest. Returns the last index the leader's message vouches for, or
   * undefined when the message would rewrite a committed entry (it cannot come from a real leader).
   */
  appendAfter(prevIndex: number, entries: readonly Entry[]): number | undefined {
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict === 0) return lastNew;
    if (conflict <= this.committed) return undefined;
    const from = conflict - (prevIndex + 1);
    this.truncateFrom(conflict);
    for (let k = from; k < entries.length; k++) this.entries.push(at(entries, k, 'an entry of the message'));
    return lastNew;
  }

  private truncateFrom(index: number): void {
    this.entries.length = index - this.snapIndex - 1;
    if (this.stable >= index) this.stable = index - 1;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) throw new Error(`raft log: commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  appliedTo(index: number): void {
    if (index < this.applied || index > this.committed) {
      throw new Error(`raft log: applied ${index} outside [${this.applied}, ${this.committed}]`);
    }
    this.applied = index;
  }

  hasUnstable(): boolean {
    return this.lastIndex() > Math.max(this.stable, this.snapIndex);
  }

  /** Entries not yet durable. */
  unstable(): Entry[] {
    const from = Math.max(this.stable, this.snapIndex) - this.snapIndex;
    return this.entries.slice(from);
  }

  /** Mark durable; ignored when the entry at `index` was replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (this.matchTerm(index, term) && index > this.stable) this.stable = index;
  }

  /** Committed entries not yet applied. */
  toApply(): Entry[] {
    if (this.committed <= this.applied) return [];
    return this.entries.slice(this.applied - this.snapIndex, this.committed - this.snapIndex);
  }

  /** Replace the whole log by a snapshot received from the leader. */
  restoreSnapshot(snap: Snapshot): void {
    this.snapIndex = snap.meta.index;
    this.snapTerm = snap.meta.term;
    this.entries = [];
    this.committed = snap.meta.index;
    this.applied = snap.meta.index;
    this.stable = snap.meta.index;
  }

  /** Drop entries up to `index`, which a local snapshot now covers. */
  compactTo(index: number): void {
    const term = this.term(index);
    if (term === undefined || index > this.applied) throw new Error(`raft log: cannot compact to ${index}`);
    this.entries.splice(0, index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
  }
}
