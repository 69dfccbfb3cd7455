import { at } from '../src/invariant.js';
import type { RaftPersistence } from '../src/node/driver.js';
import type { Entry, HardState, Membership, NodeId, PersistedState, PersistUpdate, Snapshot } from '../src/raft/types.js';

/**
 * One node's durable state: only what completed, synced batches wrote. The in-flight batch lives
 * in the node's SimStore, so a crash loses it whole (a LevelDB batch is atomic: all or nothing).
 *
 * Semantics, and the order within a batch, are those of the real store (LevelStorage.save): a
 * received snapshot replaces the stored snapshot and discards every stored entry; a compaction
 * replaces the snapshot and discards entries up to its index; writing entries from index i
 * discards stored entries at or after i; hard state and membership overwrite. `write` returns
 * the ways a batch broke the storage contract (a gap in the log, a snapshot going backwards...),
 * which the checkers report: the real store would refuse them and stop the node.
 */
export class SimDisk {
  private hardState: HardState | null = null;
  private membership: Membership | null = null;
  private snap: Snapshot | null = null;
  private log: Entry[] = [];
  writes = 0;

  get snapshot(): Snapshot | null {
    return this.snap;
  }

  /** The stored hard state's term. */
  get storedTerm(): number {
    return this.hardState?.term ?? 0;
  }

  get commit(): number {
    return this.hardState?.commit ?? 0;
  }

  snapIndex(): number {
    return this.snap?.meta.index ?? 0;
  }

  lastIndex(): number {
    return this.snapIndex() + this.log.length;
  }

  /** The stored entry at `index`, if it is in the log (not compacted, not beyond the end). */
  entry(index: number): Entry | undefined {
    return this.log[index - this.snapIndex() - 1];
  }

  /** Term of the entry at `index`, including the snapshot's last index. */
  term(index: number): number | undefined {
    if (this.snap && index === this.snap.meta.index) return this.snap.meta.term;
    if (index === 0) return 0;
    return this.entry(index)?.term;
  }

  write(b: PersistUpdate): string[] {
    const problems: string[] = [];
    this.writes++;
    if (b.snapshot) {
      if (b.snapshot.meta.index < this.snapIndex()) {
        problems.push(`received snapshot ${b.snapshot.meta.index} is older than the stored snapshot ${this.snapIndex()}`);
      }
      this.snap = b.snapshot;
      this.log = [];
    }
    // A compaction not newer than the snapshot then stored is ignored, as the real store does: a
    // leader's snapshot may arrive between compact() and the Ready that carries the compaction.
    const c = b.compaction;
    if (c && c.meta.index > this.snapIndex()) {
      const at = c.meta.index;
      const t = this.term(at);
      if (t !== undefined && t !== c.meta.term) {
        problems.push(`compaction at ${at} says term ${c.meta.term}, the stored entry has ${t}`);
      }
      this.log = at < this.lastIndex() ? this.log.slice(at - this.snapIndex()) : [];
      this.snap = c;
    }
    if (b.entries.length > 0) {
      const first = at(b.entries, 0, 'a batch with entries').index;
      if (first <= this.snapIndex()) {
        problems.push(`entries from ${first} written at or below the snapshot index ${this.snapIndex()}`);
      } else if (first > this.lastIndex() + 1) {
        problems.push(`entries from ${first} leave a gap after the last stored index ${this.lastIndex()}`);
      } else {
        this.log.length = first - this.snapIndex() - 1;
        let prevTerm = this.term(first - 1) ?? 0;
        for (const e of b.entries) {
          if (e.index !== this.lastIndex() + 1 || e.term < prevTerm) {
            problems.push(`entry ${e.index} of term ${e.term} does not continue the log at ${this.lastIndex()} (term ${prevTerm})`);
            break;
          }
          prevTerm = e.term;
          this.log.push(e);
        }
      }
    }
    if (b.hardState) this.hardState = b.hardState;
    if (b.membership) this.membership = b.membership;
    if (this.commit > this.lastIndex()) {
      problems.push(`hard state commit ${this.commit} is beyond the last stored index ${this.lastIndex()}`);
    }
    return problems;
  }

  /**
   * Whether the stored membership (or the stored snapshot's, whichever is newer) lists `id`: what
   * decides, as in the node (src/node/node.ts), whether a node restarting from this disk must join.
   */
  lists(id: NodeId): boolean {
    let conf = this.membership?.conf ?? null;
    if (this.snap && (!this.membership || this.snap.meta.index > this.membership.index)) conf = this.snap.meta.conf;
    return conf !== null && (conf.voters.includes(id) || conf.learners.includes(id));
  }

  /** The disk is lost (the `wipe` fault): an empty data directory, as if the node were new. */
  wipe(): void {
    this.hardState = null;
    this.membership = null;
    this.snap = null;
    this.log = [];
    this.writes = 0;
  }

  /** What a restart loads; null for a node that never synced anything (an empty data directory). */
  load(): PersistedState | null {
    if (this.writes === 0) return null;
    return {
      hardState: this.hardState ?? { term: 0, vote: null, commit: 0 },
      membership: this.membership,
      snapshot: this.snap,
      entries: this.log.slice(),
    };
  }
}

/** What a SimStore needs from its node. */
export interface StoreIo {
  /** Run `fn` after `ms` of simulated time, whatever becomes of the process meanwhile. */
  after(ms: number, fn: () => void): void;
  /** Simulated fsync latency of the next write, ms. */
  fsyncDelay(): number;
  /** A batch reached the disk (`termBefore`: the stored term before it; `problems`: see SimDisk.write). */
  persisted(batch: PersistUpdate, problems: readonly string[], termBefore: number): void;
  /** Run `fn` in the node's process: now, when it resumes if paused, never once it crashed. */
  inProcess(fn: () => void): void;
}

/**
 * The driver's persistence port (RaftPersistence) over a SimDisk, for one incarnation of a node:
 * what LevelStorage is to a real node. A synced write reaches the disk when its simulated fsync
 * returns, whether or not the process gets to run then (a paused one learns of it when it
 * resumes); a crash before that loses it whole. An unsynced write (the driver's commit-only hard
 * state) sits in the page cache: the next synced write makes it durable first, a crash loses it.
 */
export class SimStore implements RaftPersistence {
  private unsynced: HardState | null = null;
  private crashed = false;

  constructor(
    private readonly disk: SimDisk,
    private readonly io: StoreIo,
  ) {}

  save(update: PersistUpdate, opts?: { readonly sync?: boolean }): PromiseLike<void> {
    if (opts?.sync === false) {
      // Only the driver's commit-only writes go unsynced: a hard state and nothing else.
      this.unsynced = update.hardState;
      return SimWrite.done();
    }
    const write = new SimWrite();
    this.io.after(this.io.fsyncDelay(), () => {
      if (this.crashed) return;
      if (this.unsynced) {
        const early = { hardState: this.unsynced, entries: [], snapshot: null, compaction: null, membership: null };
        this.unsynced = null;
        this.put(early);
      }
      this.put(update);
      this.io.inProcess(() => write.complete());
    });
    return write;
  }

  /** The process died: the write in flight and whatever sat in the page cache never reach the disk. */
  crash(): void {
    this.crashed = true;
  }

  private put(b: PersistUpdate): void {
    const termBefore = this.disk.storedTerm;
    this.io.persisted(b, this.disk.write(b), termBefore);
  }
}

/**
 * A write's completion as the driver sees it (it only calls then()). It settles from the
 * simulator's agenda, synchronously: the simulator runs no microtasks. It never fails: a batch
 * the real store would refuse is reported by the checkers instead (SimDisk.write's problems).
 * The Raft tests' harness (test/raft/harness.ts) settles its writes with it too.
 */
export class SimWrite implements PromiseLike<void> {
  private settled = false;
  private waiting: (() => void)[] = [];

  static done(): SimWrite {
    const w = new SimWrite();
    w.settled = true;
    return w;
  }

  // PromiseLike<void>'s signature; a simulated write never fails, so onError is never called.
  then<A = void, B = never>(
    // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- PromiseLike<void>'s signature
    onDone?: ((value: void) => A | PromiseLike<A>) | null,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- PromiseLike's signature
    _onError?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): PromiseLike<A | B> {
    if (onDone) {
      if (this.settled) onDone();
      else this.waiting.push(() => void onDone());
    }
    return this as unknown as PromiseLike<A | B>;
  }

  complete(): void {
    this.settled = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const fn of waiting) fn();
  }
}
