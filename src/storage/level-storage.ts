import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Level } from 'level';
import { errorMessage } from '../errors.js';
import { at } from '../invariant.js';
import {
  CodecError,
  decodeEntries,
  decodeHardState,
  decodeMembership,
  decodeSnapshot,
  decodeUint,
  encodeEntries,
  encodeHardState,
  encodeMembership,
  encodeSnapshot,
  encodeUint,
} from '../raft/codec.js';
import type { Entry, HardState, Membership, PersistedState, PersistUpdate, Snapshot } from '../raft/types.js';
import { clusterIdProblem } from '../net/cluster-id.js';
import {
  CLUSTER_ID_KEY,
  FORMAT_KEY,
  HARD_STATE_KEY,
  KIND_CLUSTER_ID,
  KIND_FORMAT,
  KIND_HARD_STATE,
  KIND_MEMBERSHIP,
  KIND_SEGMENT,
  KIND_SNAPSHOT,
  KIND_VOTING_HOLD,
  MAX_SEGMENT_BYTES,
  MEMBERSHIP_KEY,
  SNAPSHOT_KEY,
  STORE_FORMAT_VERSION,
  VOTING_HOLD_KEY,
  keyHex,
  seal,
  segmentKey,
  segmentKeyIndex,
  unseal,
} from './keys.js';

/** Anything wrong with a store: its message always starts with `meshrun storage <dir>:`. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly dir: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`meshrun storage ${dir}: ${problem}`, options);
  }
}

type Db = Level<Uint8Array, Uint8Array>;
type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array };

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** The shape of the stored log, kept in memory so a save knows which keys to delete. */
interface LogShape {
  snapIndex: number;
  snapTerm: number;
  lastIndex: number;
  /** Term of each stored entry: terms[k] belongs to index snapIndex + 1 + k. */
  terms: number[];
  /**
   * First index of each stored segment, ascending. Segment k's live entries run from
   * segments[k] to segments[k + 1] - 1 (the last one's to lastIndex); whatever it holds past
   * that was superseded by a later save and is ignored on load. Only segments[0] may start at
   * or before snapIndex: a segment straddling a compaction stays until none of its live entries
   * is after the snapshot. Empty when no entry follows the snapshot.
   */
  segments: number[];
}

function lastTermOf(log: LogShape): number {
  return log.terms.at(-1) ?? log.snapTerm;
}

/**
 * What every consistent store satisfies beyond the per-record checks, or null. Checked on open
 * and before every write, so a store never holds something it would refuse to reopen.
 */
function inconsistency(log: LogShape, hs: HardState, membership: Membership | null): string | null {
  if (hs.commit > log.lastIndex) return `commit ${hs.commit} is beyond last index ${log.lastIndex}`;
  const lastTerm = lastTermOf(log);
  if (lastTerm > hs.term) {
    const what = log.terms.length > 0 ? `entry ${log.lastIndex}` : `the snapshot at ${log.snapIndex}`;
    return `${what} has term ${lastTerm}, beyond the current term ${hs.term}`;
  }
  if (membership && membership.index > log.lastIndex) {
    return `membership from index ${membership.index} is beyond last index ${log.lastIndex}`;
  }
  return null;
}

/**
 * The durable Raft state of one node in LevelDB: hard state, membership, the latest snapshot and
 * the log after it, stored as one segment record per save (layout in keys.ts). Every save is one batch (synced unless asked otherwise), so a crash leaves either all of a Ready's
 * durable part on disk or none of it. Not safe for use by two processes (LevelDB's lock refuses
 * the second opener).
 */
export class LevelStorage {
  readonly dir: string;
  private readonly db: Db;
  private readonly restored: PersistedState;
  private log: LogShape;
  private hardState: HardState;
  private membership: Membership | null;
  private cluster: string | null;
  private hold: number;
  /** Saves run one after another, each seeing the shape the previous one left. */
  private tail: Promise<void> = Promise.resolve();
  /** Set by the first failed save: memory may no longer match the disk, so nothing else is written. */
  private failure: StorageError | null = null;
  private closing: Promise<void> | null = null;

  private constructor(dir: string, db: Db, restored: PersistedState, log: LogShape, cluster: string | null, hold: number) {
    this.dir = dir;
    this.cluster = cluster;
    this.hold = hold;
    this.db = db;
    this.restored = restored;
    this.log = log;
    this.hardState = restored.hardState;
    this.membership = restored.membership;
  }

  /**
   * Opens (creating if needed) the store in `dir`, checks every record and loads it all. Rejects
   * with a StorageError naming the directory and the problem on anything inconsistent.
   */
  static async open(dir: string): Promise<LevelStorage> {
    const path = resolve(dir);
    try {
      await mkdir(path, { recursive: true });
    } catch (err) {
      throw new StorageError(path, `cannot create the directory (${errorMessage(err)})`, { cause: err });
    }
    const db: Db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StorageError(path, 'is locked: another process (or another open LevelStorage) is using it', { cause: err });
      }
      const detail = typeof cause?.message === 'string' ? cause.message : errorMessage(err);
      throw new StorageError(path, `cannot open the LevelDB store (${detail})`, { cause: err });
    }
    try {
      const { state, log, cluster, hold } = await loadAll(db, path);
      return new LevelStorage(path, db, state, log, cluster, hold);
    } catch (err) {
      await db.close().catch(() => undefined);
      if (err instanceof StorageError) throw err;
      throw new StorageError(path, `cannot read the store (${errorMessage(err)})`, { cause: err });
    }
  }

  /** What was on disk when the store was opened (later saves do not change it). */
  load(): PersistedState {
    return this.restored;
  }

  /** First index of the stored log (the snapshot index + 1), as of the last successful save. */
  firstIndex(): number {
    return this.log.snapIndex + 1;
  }

  /** Last stored index (the snapshot index when no entry follows it). */
  lastIndex(): number {
    return this.log.lastIndex;
  }

  snapshotIndex(): number {
    return this.log.snapIndex;
  }

  /**
   * Makes `update` durable in one synced batch (no write at all when it holds nothing). Applied in
   * this order: `snapshot` replaces the snapshot and the whole log; `compaction` replaces the
   * snapshot and drops entries up to its index (ignored when not newer than the snapshot then
   * stored, as when a leader's snapshot arrived after compact() in the same Ready); `entries`
   * starting at i replace every stored entry from i on; `hardState` and `membership` overwrite.
   * Concurrent calls are queued. After any rejected save the store is unusable: every later save
   * rejects with that same error. With `sync: false` the batch reaches the OS (a process crash
   * keeps it) but is not fsynced: the next synced save makes it durable, a power failure before
   * that may lose it. Meant for commit-index-only updates (see commitOnly in the driver).
   */
  save(update: PersistUpdate, opts: { readonly sync?: boolean } = {}): Promise<void> {
    if (this.closing) return Promise.reject(new StorageError(this.dir, 'is closed'));
    const sync = opts.sync ?? true;
    const done = this.tail.then(() => this.write(update, sync));
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** The id of the cluster this store belongs to; null for an empty store (or one from before cluster ids). */
  clusterId(): string | null {
    return this.cluster;
  }

  /**
   * Records the cluster this store belongs to, synced, queued after the saves before it. Rejects
   * with a StorageError for a malformed id, or once the store is closed or a save has failed.
   */
  setClusterId(id: string): Promise<void> {
    const problem = clusterIdProblem(id);
    if (problem !== null) return Promise.reject(new StorageError(this.dir, `refused to write: ${problem}`));
    return this.putRecord(CLUSTER_ID_KEY, new TextEncoder().encode(id), () => (this.cluster = id));
  }

  /** The index this node must apply before it votes, kept across restarts (0: none). */
  votingHold(): number {
    return this.hold;
  }

  /** Records the voting hold (RaftNode.holdVotingUntil) of a node that joined with nothing; synced. */
  setVotingHold(index: number): Promise<void> {
    return this.putRecord(VOTING_HOLD_KEY, encodeUint(index), () => (this.hold = index));
  }

  /** One synced record, queued after the saves before it; `done` updates memory once it is on disk. */
  private putRecord(key: Uint8Array, payload: Uint8Array, done: () => void): Promise<void> {
    if (this.closing) return Promise.reject(new StorageError(this.dir, 'is closed'));
    const written = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      try {
        await this.db.put(key, seal(key, payload), { sync: true });
      } catch (err) {
        this.failure = new StorageError(this.dir, `write failed (${errorMessage(err)})`, { cause: err });
        throw this.failure;
      }
      done();
    });
    this.tail = written.catch(() => undefined);
    return written;
  }

  /** Waits for queued saves, then releases the LevelDB lock. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.tail.then(() => this.db.close());
    return this.closing;
  }

  private async write(update: PersistUpdate, sync: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    let plan: Plan;
    try {
      plan = this.plan(update);
    } catch (err) {
      const problem = err instanceof PlanRefusal ? err.message : `refused to write: ${errorMessage(err)}`;
      this.failure = new StorageError(this.dir, problem, { cause: err instanceof CodecError ? err : undefined });
      throw this.failure;
    }
    if (plan.ops.length === 0) return;
    try {
      await this.db.batch(plan.ops, { sync });
    } catch (err) {
      this.failure = new StorageError(this.dir, `write failed (${errorMessage(err)})`, { cause: err });
      throw this.failure;
    }
    this.log = plan.log;
    this.hardState = plan.hardState;
    this.membership = plan.membership;
  }

  /** The batch for `u` and the shape the store will have once it is written. Throws on nonsense. */
  private plan(u: PersistUpdate): Plan {
    // Deletes go before puts: a truncating save may write a segment under the key of one it
    // deletes, and LevelDB applies a batch's operations in order.
    const ops: BatchOp[] = [];
    const puts: BatchOp[] = [];
    const cur = this.log;
    let snapIndex = cur.snapIndex;
    let snapTerm = cur.snapTerm;
    let lastIndex = cur.lastIndex;
    // Copy-on-write: the common append-only save pushes onto a fresh tail instead of copying.
    let base = cur.terms;
    let keep = base.length;
    // The old segments that survive are segs[0, segKeep), minus a prefix settled at the end.
    const segs = cur.segments;
    let segKeep = segs.length;
    const deleteSegmentsFrom = (first: number) => {
      for (let last = segs[segKeep - 1]; last !== undefined && last >= first; last = segs[segKeep - 1]) {
        ops.push({ type: 'del', key: segmentKey(last) });
        segKeep--;
      }
    };

    if (u.snapshot) {
      puts.push({ type: 'put', key: SNAPSHOT_KEY, value: sealSnapshot(u.snapshot) });
      deleteSegmentsFrom(0);
      snapIndex = u.snapshot.meta.index;
      snapTerm = u.snapshot.meta.term;
      lastIndex = snapIndex;
      base = [];
      keep = 0;
    }

    const c = u.compaction;
    if (c && c.meta.index > snapIndex) {
      const at = c.meta.index;
      if (at <= lastIndex) {
        const t = base[at - snapIndex - 1];
        if (t !== c.meta.term) throw new PlanRefusal(`compaction at ${at} has term ${c.meta.term} but entry ${at} has term ${String(t)}`);
      }
      puts.push({ type: 'put', key: SNAPSHOT_KEY, value: sealSnapshot(c) });
      // The segments it covers are deleted below, once the final layout is known.
      base = at < lastIndex ? base.slice(at - snapIndex, keep) : [];
      keep = base.length;
      lastIndex = Math.max(lastIndex, at);
      snapIndex = at;
      snapTerm = c.meta.term;
    }

    const added: number[] = [];
    const addedSegments: number[] = [];
    const entries = u.entries;
    const firstEntry = entries[0];
    if (firstEntry) {
      const first = firstEntry.index;
      if (!Number.isSafeInteger(first) || first <= snapIndex) {
        throw new PlanRefusal(`refused to write entry ${String(first)}: at or below the snapshot index ${snapIndex}`);
      }
      if (first > lastIndex + 1) throw new PlanRefusal(`refused to write entry ${first}: the log would have a gap after ${lastIndex}`);
      keep = first - snapIndex - 1;
      let prevTerm = keep > 0 ? at(base, keep - 1, 'the term of a kept entry') : snapTerm;
      for (const [k, e] of entries.entries()) {
        if (e.index !== first + k)
          throw new PlanRefusal(`refused to write entries: ${String(e.index)} at position ${k}, expected ${first + k}`);
        if (!(e.term >= prevTerm))
          throw new PlanRefusal(`refused to write entry ${e.index}: term ${String(e.term)} is below the previous term ${prevTerm}`);
        prevTerm = e.term;
        added.push(e.term);
      }
      // Entries from `first` on are replaced: segments starting there go, and one starting
      // before keeps its tail on disk, superseded by the segment written at `first`.
      deleteSegmentsFrom(first);
      putSegments(puts, entries, addedSegments);
      lastIndex = first + entries.length - 1;
    }

    // Old segments whose live entries all lie at or below the snapshot are dead weight: a
    // compaction or snapshot covers them, or a truncation just ended a straddling one there.
    let drop = 0;
    while (drop < segKeep) {
      const next = drop + 1 < segKeep ? segs[drop + 1] : addedSegments[0];
      const liveLast = next === undefined ? lastIndex : next - 1;
      if (liveLast > snapIndex) break;
      ops.push({ type: 'del', key: segmentKey(at(segs, drop, 'a kept segment')) });
      drop++;
    }
    for (const op of puts) ops.push(op);

    const hardState = u.hardState ?? this.hardState;
    const membership = u.membership ?? this.membership;
    if (u.hardState) ops.push({ type: 'put', key: HARD_STATE_KEY, value: seal(HARD_STATE_KEY, encodeHardState(u.hardState)) });
    if (u.membership) ops.push({ type: 'put', key: MEMBERSHIP_KEY, value: seal(MEMBERSHIP_KEY, encodeMembership(u.membership)) });

    const log: LogShape = {
      snapIndex,
      snapTerm,
      lastIndex,
      terms: joinTail(base, keep, added),
      segments: joinTail(segs, segKeep, addedSegments, drop),
    };
    const problem = inconsistency(log, hardState, membership);
    if (problem) throw new PlanRefusal(`refused to write: ${problem}`);
    return { ops, log, hardState, membership };
  }
}

interface Plan {
  readonly ops: BatchOp[];
  readonly log: LogShape;
  readonly hardState: HardState;
  readonly membership: Membership | null;
}

/** A save that would leave the store inconsistent: refused before anything is written. */
class PlanRefusal extends Error {}

/** base[from, keep) followed by `added`. */
function joinTail(base: number[], keep: number, added: readonly number[], from = 0): number[] {
  // Appending at the end (the hot path) extends the live array in place instead of copying the
  // whole log's terms or segments. That is safe before the write lands: nothing reads past
  // lastIndex or the segments it implies, which only move once the write succeeds, and a failed
  // or refused save ends the store's use.
  const out = from === 0 && keep === base.length ? base : base.slice(from, keep);
  for (const t of added) out.push(t);
  return out;
}

function sealSnapshot(s: Snapshot): Uint8Array {
  return seal(SNAPSHOT_KEY, encodeSnapshot(s));
}

/** Upper bound on what the codec spends on an entry besides its data (term, type, time, length). */
const ENTRY_OVERHEAD = 25;

/**
 * Puts `entries` as one segment, or as several when they exceed MAX_SEGMENT_BYTES (one entry
 * larger than that still gets a segment of its own), and records each segment's first index.
 */
function putSegments(ops: BatchOp[], entries: readonly Entry[], firsts: number[]): void {
  let start = 0;
  let size = 0;
  for (const [k, entry] of entries.entries()) {
    const n = entry.data.length + ENTRY_OVERHEAD;
    if (k > start && size + n > MAX_SEGMENT_BYTES) {
      putSegment(ops, entries.slice(start, k), firsts);
      start = k;
      size = 0;
    }
    size += n;
  }
  putSegment(ops, start === 0 ? entries : entries.slice(start), firsts);
}

function putSegment(ops: BatchOp[], run: readonly Entry[], firsts: number[]): void {
  const first = at(run, 0, 'a segment holds at least one entry').index;
  const key = segmentKey(first);
  ops.push({ type: 'put', key, value: seal(key, encodeEntries(run)) });
  firsts.push(first);
}

async function loadAll(db: Db, dir: string): Promise<{ state: PersistedState; log: LogShape; cluster: string | null; hold: number }> {
  // Annotated so that calls narrow types: TypeScript only does that for declared never-returners.
  const fail: (problem: string) => never = (problem) => {
    throw new StorageError(dir, problem);
  };
  let sawFormat = false;
  let sawAny = false;
  let hardState: HardState = EMPTY_HARD_STATE;
  let membership: Membership | null = null;
  let snapshot: Snapshot | null = null;
  let cluster: string | null = null;
  let hold = 0;
  // The log as the segments read so far resolve it: entries[k] has index accFirst + k.
  const entries: Entry[] = [];
  let accFirst = 0;
  const segments: number[] = [];

  const it = db.iterator();
  try {
    for (;;) {
      const batch = await it.nextv(1024);
      if (batch.length === 0) break;
      for (const [key, value] of batch) {
        const kind = key[0];
        if (!sawAny) {
          sawAny = true;
          // The format record sorts first, so it is checked before anything it governs is read.
          if (kind !== KIND_FORMAT) fail(`has no format version record (first key ${keyHex(key)}): not a meshrun store, or damaged`);
        }
        if (kind === KIND_SEGMENT) {
          const first = segmentKeyIndex(key);
          if (first === null) fail(`has a malformed segment key ${keyHex(key)}`);
          const payload = unseal(key, value);
          if (!payload) fail(`segment ${first} is corrupt (checksum mismatch)`);
          const d = decodeEntries(payload);
          if (!d.ok) fail(`segment ${first} is corrupt (${d.error})`);
          const run = d.value;
          const head = run[0];
          if (!head) fail(`segment ${first} is corrupt (it holds no entries)`);
          if (head.index !== first) fail(`segment ${first} is corrupt (it starts at index ${head.index})`);
          if (entries.length === 0) {
            accFirst = first;
          } else {
            const accLast = accFirst + entries.length - 1;
            if (first > accLast + 1) fail(`log has a gap: segment ${first} follows entry ${accLast}`);
            // Keys ascend, so first > accFirst: this drops what earlier segments hold from
            // `first` on, which the save that wrote this segment replaced.
            entries.length = first - accFirst;
          }
          for (const e of run) {
            const prev = entries[entries.length - 1];
            if (prev && e.term < prev.term) {
              fail(`segment ${first}: entry ${e.index} has term ${e.term}, below entry ${prev.index}'s term ${prev.term}`);
            }
            entries.push(e);
          }
          segments.push(first);
          continue;
        }
        if (key.length !== 1) fail(`has an unknown record with key ${keyHex(key)}`);
        const payload = unseal(key, value);
        switch (kind) {
          case KIND_FORMAT: {
            if (!payload) fail('format version record is corrupt (checksum mismatch)');
            const v = decodeUint(payload);
            if (!v.ok) fail(`format version record is corrupt (${v.error})`);
            if (v.value < STORE_FORMAT_VERSION) {
              fail(
                `format version ${v.value} was written by an older meshrun (this one reads ${STORE_FORMAT_VERSION}); ` +
                  'a member can rejoin with an empty store: stop the node, move its raft directory aside and start it again with --bootstrap',
              );
            }
            if (v.value !== STORE_FORMAT_VERSION) fail(`format version ${v.value} is not supported (expected ${STORE_FORMAT_VERSION})`);
            sawFormat = true;
            break;
          }
          case KIND_HARD_STATE: {
            if (!payload) fail('hard state is corrupt (checksum mismatch)');
            const d = decodeHardState(payload);
            if (!d.ok) fail(`hard state is corrupt (${d.error})`);
            hardState = d.value;
            break;
          }
          case KIND_MEMBERSHIP: {
            if (!payload) fail('membership is corrupt (checksum mismatch)');
            const d = decodeMembership(payload);
            if (!d.ok) fail(`membership is corrupt (${d.error})`);
            membership = d.value;
            break;
          }
          case KIND_SNAPSHOT: {
            if (!payload) fail('snapshot is corrupt (checksum mismatch)');
            const d = decodeSnapshot(payload);
            if (!d.ok) fail(`snapshot is corrupt (${d.error})`);
            snapshot = d.value;
            break;
          }
          case KIND_CLUSTER_ID: {
            if (!payload) fail('cluster id is corrupt (checksum mismatch)');
            cluster = decodeClusterId(payload, fail);
            break;
          }
          case KIND_VOTING_HOLD: {
            if (!payload) fail('voting hold is corrupt (checksum mismatch)');
            const v = decodeUint(payload);
            if (!v.ok) fail(`voting hold is corrupt (${v.error})`);
            hold = v.value;
            break;
          }
          default:
            fail(`has an unknown record with key ${keyHex(key)}`);
        }
      }
    }
  } finally {
    await it.close();
  }

  if (!sawFormat) {
    // Only a brand-new store gets here; anything else failed on its first key above.
    await db.put(FORMAT_KEY, seal(FORMAT_KEY, encodeUint(STORE_FORMAT_VERSION)), { sync: true });
  }

  const snap = snapshot;
  const snapIndex = snap ? snap.meta.index : 0;
  const snapTerm = snap ? snap.meta.term : 0;
  let live: Entry[] = entries;
  const first = segments[0];
  if (first !== undefined) {
    if (first > snapIndex + 1) {
      fail(`log has a gap: segment ${first} follows ${snap ? `the snapshot at ${snapIndex}` : 'the start of the log (0)'}`);
    }
    // Saves delete every segment the snapshot covers; one still here means a write went wrong.
    const accLast = accFirst + entries.length - 1;
    for (const [k, segment] of segments.entries()) {
      if (segment > snapIndex) break;
      const next = segments[k + 1];
      const liveLast = next === undefined ? accLast : next - 1;
      if (liveLast <= snapIndex) {
        fail(`segment ${segment} (live entries ${segment}..${liveLast}) is covered by the snapshot at ${snapIndex} but was not deleted`);
      }
    }
    // Here only segments[0] starts at or before snapIndex + 1, so it holds the log's first entry.
    if (first <= snapIndex) {
      const atSnap = at(entries, snapIndex - accFirst, 'the checks above: a segment holds entries past the snapshot');
      if (atSnap.term !== snapTerm)
        fail(`segment ${first}: entry ${snapIndex} has term ${atSnap.term}, but the snapshot at ${snapIndex} has term ${snapTerm}`);
      live = entries.slice(snapIndex + 1 - accFirst);
    }
    const head = at(live, 0, 'the checks above: entries follow the snapshot');
    if (head.term < snapTerm) fail(`segment ${first}: entry ${head.index} has term ${head.term}, below the snapshot's term ${snapTerm}`);
  }
  const log: LogShape = { snapIndex, snapTerm, lastIndex: snapIndex + live.length, terms: live.map((e) => e.term), segments };
  const problem = inconsistency(log, hardState, membership);
  if (problem) fail(problem);
  return { state: { hardState, membership, snapshot: snap, entries: live }, log, cluster, hold };
}

function decodeClusterId(payload: Uint8Array, fail: (problem: string) => never): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return fail('cluster id is corrupt (not UTF-8)');
  }
  const problem = clusterIdProblem(text);
  return problem === null ? text : fail(`cluster id is corrupt (${problem})`);
}
