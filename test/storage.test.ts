import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { at } from '../src/invariant.js';
import { decodeEntries, encodeEntries, encodeHardState, encodeSnapshot, encodeUint } from '../src/raft/codec.js';
import type { Entry, HardState, Membership, PersistUpdate, Snapshot } from '../src/raft/types.js';
import {
  CLUSTER_ID_KEY,
  VOTING_HOLD_KEY,
  FORMAT_KEY,
  HARD_STATE_KEY,
  MAX_SEGMENT_BYTES,
  SNAPSHOT_KEY,
  STORE_FORMAT_VERSION,
  seal,
  segmentKey,
  segmentKeyIndex,
  unseal,
} from '../src/storage/keys.js';
import { LevelStorage, StorageError } from '../src/storage/level-storage.js';
import { dataAt, entryAt, snapshotDataAt, termAt } from './fixtures/storage-content.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..');
const writerScript = join(here, 'fixtures', 'storage-writer.ts');

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(os.tmpdir(), 'meshrun-storage-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const none: PersistUpdate = { hardState: null, entries: [], snapshot: null, compaction: null, membership: null };
const update = (u: Partial<PersistUpdate>): PersistUpdate => ({ ...none, ...u });

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: 'normal', time: 1_700_000_000_000 + index, proposer: 'n1', data: new TextEncoder().encode(text) };
}
function run(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, k) => entry(from + k, term));
}
const conf = { voters: ['n1', 'n2', 'n3'], learners: ['n4'] };
function snap(index: number, term: number, text = `snap@${index}`): Snapshot {
  return { meta: { index, term, conf }, data: new TextEncoder().encode(text) };
}

async function reopen(dir: string): Promise<LevelStorage> {
  return LevelStorage.open(dir);
}

/** Runs `fn` against the raw LevelDB of a closed store (to corrupt it on purpose). */
async function raw(dir: string, fn: (db: Level<Uint8Array, Uint8Array>) => Promise<void>): Promise<void> {
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

/** The first index of every segment on disk, in key order. */
async function rawSegments(dir: string): Promise<number[]> {
  const out: number[] = [];
  await raw(dir, async (db) => {
    for await (const key of db.keys()) {
      const i = segmentKeyIndex(key);
      if (i !== null) out.push(i);
    }
  });
  return out;
}

/** The indexes a segment holds on disk, superseded tail included. */
async function rawSegmentIndexes(dir: string, first: number): Promise<number[]> {
  let out: number[] = [];
  await raw(dir, async (db) => {
    const key = segmentKey(first);
    const value = await db.get(key);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- level resolves undefined for a missing key, whatever its type says
    if (!value) throw new Error(`no segment ${first}`);
    const payload = unseal(key, value);
    if (!payload) throw new Error(`segment ${first} fails its checksum`);
    const d = decodeEntries(payload);
    if (!d.ok) throw new Error(d.error);
    out = d.value.map((e) => e.index);
  });
  return out;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, k) => from + k);

async function openFails(dir: string): Promise<StorageError> {
  try {
    const s = await LevelStorage.open(dir);
    await s.close();
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return err as StorageError;
  }
  throw new Error(`expected ${dir} to fail to open`);
}

describe('LevelStorage', () => {
  it('starts empty and round-trips every record kind across close and reopen', async () => {
    const dir = join(tempDir(), 'nested', 'raft');
    const s = await LevelStorage.open(dir);
    expect(s.load()).toEqual({ hardState: { term: 0, vote: null, commit: 0 }, membership: null, snapshot: null, entries: [] });
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 0]);
    const membership: Membership = { conf, index: 3 };
    await s.save(update({ hardState: { term: 2, vote: 'n2', commit: 4 }, entries: run(1, 5, 1), membership }));
    await s.save(update({ entries: run(6, 7, 2) }));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([1, 7]);
    await s.close();

    const t = await reopen(dir);
    expect(t.load()).toEqual({
      hardState: { term: 2, vote: 'n2', commit: 4 },
      membership,
      snapshot: null,
      entries: [...run(1, 5, 1), ...run(6, 7, 2)],
    });
    await t.save(update({ compaction: snap(4, 1), hardState: { term: 2, vote: null, commit: 7 } }));
    await t.close();

    const u = await reopen(dir);
    expect(u.load()).toEqual({
      hardState: { term: 2, vote: null, commit: 7 },
      membership,
      snapshot: snap(4, 1),
      entries: [entry(5, 1), ...run(6, 7, 2)],
    });
    expect([u.firstIndex(), u.lastIndex(), u.snapshotIndex()]).toEqual([5, 7, 4]);
    await u.close();
  });

  it('truncates a conflicting suffix: later segments are deleted, an earlier one is superseded from there', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 3 }, entries: run(1, 10, 1) }));
    await s.save(update({ hardState: { term: 2, vote: null, commit: 3 }, entries: run(6, 7, 2) }));
    expect(s.lastIndex()).toBe(7);
    await s.close();
    // One segment per save; the first still holds 6..10 on disk, superseded by the one at 6.
    expect(await rawSegments(dir)).toEqual([1, 6]);
    expect(await rawSegmentIndexes(dir, 1)).toEqual(range(1, 10));
    const t = await reopen(dir);
    expect(t.load().entries).toEqual([...run(1, 5, 1), ...run(6, 7, 2)]);
    expect(t.lastIndex()).toBe(7);
    // Rewriting the tail of the same length, then extending.
    await t.save(update({ hardState: { term: 3, vote: null, commit: 3 }, entries: [...run(7, 7, 3), ...run(8, 12, 3)] }));
    await t.close();
    expect(await rawSegments(dir)).toEqual([1, 6, 7]);
    const u = await reopen(dir);
    expect(u.load().entries).toEqual([...run(1, 5, 1), entry(6, 2), ...run(7, 12, 3)]);
    // Truncating at a segment's own first index replaces it and deletes every later one.
    await u.save(update({ hardState: { term: 4, vote: null, commit: 3 }, entries: run(6, 6, 4) }));
    await u.close();
    expect(await rawSegments(dir)).toEqual([1, 6]);
    expect(await rawSegmentIndexes(dir, 6)).toEqual([6]);
    const v = await reopen(dir);
    expect(v.load().entries).toEqual([...run(1, 5, 1), entry(6, 4)]);
    await v.close();
  });

  it('installs a snapshot from the leader by discarding the whole log', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 8 }, entries: run(1, 10, 1) }));
    await s.save(update({ hardState: { term: 3, vote: null, commit: 20 }, snapshot: snap(20, 3), membership: { conf, index: 20 } }));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([21, 20]);
    await s.save(update({ entries: run(21, 22, 3) }));
    await s.save(update({ entries: run(23, 30, 3) }));
    await s.save(update({ entries: run(31, 32, 3) }));
    await s.close();
    expect(await rawSegments(dir)).toEqual([21, 23, 31]);
    const t = await reopen(dir);
    expect(t.load()).toEqual({
      hardState: { term: 3, vote: null, commit: 20 },
      membership: { conf, index: 20 },
      snapshot: snap(20, 3),
      entries: run(21, 32, 3),
    });
    // A snapshot inside the middle segment, with a later segment past it: every one goes.
    await t.save(update({ hardState: { term: 4, vote: null, commit: 25 }, snapshot: snap(25, 4) }));
    expect([t.firstIndex(), t.lastIndex()]).toEqual([26, 25]);
    await t.close();
    expect(await rawSegments(dir)).toEqual([]);
    const u = await reopen(dir);
    expect(u.load().snapshot).toEqual(snap(25, 4));
    expect(u.load().entries).toEqual([]);
    await u.close();
  });

  it('compaction discards the prefix; an older compaction never replaces a newer snapshot', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 10 }, entries: run(1, 10, 1) }));
    await s.save(update({ compaction: snap(6, 1) }));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([7, 10]);
    // The segment still has live entries after the snapshot, so it stays whole.
    // A Ready holding both: compact() ran, then a leader's snapshot arrived before ready().
    await s.save(
      update({ hardState: { term: 2, vote: null, commit: 30 }, snapshot: snap(30, 2), compaction: snap(8, 1), entries: run(31, 32, 2) }),
    );
    await s.close();
    expect(await rawSegments(dir)).toEqual([31]);
    const t = await reopen(dir);
    expect(t.load().snapshot).toEqual(snap(30, 2));
    expect(t.load().entries).toEqual(run(31, 32, 2));
    await t.close();
  });

  it('does not bring back the superseded tail of an older segment after a truncation and reopen', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 2 }, entries: run(1, 10, 1) }));
    // Truncate in the middle of segment 1, then reopen straight away.
    await s.save(update({ hardState: { term: 2, vote: null, commit: 2 }, entries: run(5, 6, 2) }));
    await s.close();
    expect(await rawSegments(dir)).toEqual([1, 5]);
    const t = await reopen(dir);
    expect(t.load().entries).toEqual([...run(1, 4, 1), ...run(5, 6, 2)]);
    expect(t.lastIndex()).toBe(6);
    // Extending past where segment 1's stale tail ended: 7..10 come from the new save only.
    await t.save(update({ entries: run(7, 12, 2) }));
    await t.close();
    expect(await rawSegments(dir)).toEqual([1, 5, 7]);
    const u = await reopen(dir);
    expect(u.load().entries).toEqual([...run(1, 4, 1), ...run(5, 12, 2)]);
    // Truncating inside segment 1 again drops both later segments; its stored tail stays superseded.
    await u.save(update({ hardState: { term: 3, vote: null, commit: 2 }, entries: run(3, 3, 3) }));
    expect(u.lastIndex()).toBe(3);
    await u.close();
    expect(await rawSegments(dir)).toEqual([1, 3]);
    expect(await rawSegmentIndexes(dir, 1)).toEqual(range(1, 10));
    const v = await reopen(dir);
    expect(v.load().entries).toEqual([...run(1, 2, 1), entry(3, 3)]);
    expect(v.lastIndex()).toBe(3);
    await v.close();
  });

  it('keeps the log right across several truncations in a row', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 1 }, entries: run(1, 10, 1) }));
    // Each step: the save's entries, then the expected log and segment keys on disk.
    const steps: [Entry[], Entry[], number[]][] = [
      [run(8, 12, 2), [...run(1, 7, 1), ...run(8, 12, 2)], [1, 8]],
      [run(4, 9, 3), [...run(1, 3, 1), ...run(4, 9, 3)], [1, 4]],
      [run(6, 6, 4), [...run(1, 3, 1), ...run(4, 5, 3), entry(6, 4)], [1, 4, 6]],
      [run(5, 5, 5), [...run(1, 3, 1), entry(4, 3), entry(5, 5)], [1, 4, 5]],
      [run(2, 3, 6), [entry(1, 1), ...run(2, 3, 6)], [1, 2]],
      [run(4, 20, 6), [entry(1, 1), ...run(2, 3, 6), ...run(4, 20, 6)], [1, 2, 4]],
    ];
    let store = s;
    for (const [entries, want, keys] of steps) {
      const term = (entries[0] as Entry).term;
      await store.save(update({ hardState: { term, vote: null, commit: 1 }, entries }));
      expect(store.lastIndex()).toBe((want[want.length - 1] as Entry).index);
      await store.close();
      expect(await rawSegments(dir)).toEqual(keys);
      store = await reopen(dir);
      expect(store.load().entries).toEqual(want);
    }
    // The same truncations without reopening in between end in the same place.
    const dir2 = tempDir();
    const t = await LevelStorage.open(dir2);
    await t.save(update({ hardState: { term: 1, vote: null, commit: 1 }, entries: run(1, 10, 1) }));
    for (const [entries] of steps) {
      await t.save(update({ hardState: { term: (entries[0] as Entry).term, vote: null, commit: 1 }, entries }));
    }
    await t.close();
    const last = steps[steps.length - 1] as [Entry[], Entry[], number[]];
    expect(await rawSegments(dir2)).toEqual(last[2]);
    const u = await reopen(dir2);
    expect(u.load().entries).toEqual(store.load().entries);
    await u.close();
    await store.close();
  });

  it('keeps a segment that straddles a compaction until none of its entries is live', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 10 }, entries: run(1, 10, 1) }));
    await s.save(update({ hardState: { term: 1, vote: null, commit: 15 }, entries: run(11, 20, 1) }));
    // Compaction at 15: segment 1 (1..10) is wholly covered, segment 11 straddles it.
    await s.save(update({ compaction: snap(15, 1) }));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([16, 20]);
    await s.close();
    expect(await rawSegments(dir)).toEqual([11]);
    const t = await reopen(dir);
    expect(t.load().snapshot).toEqual(snap(15, 1));
    expect(t.load().entries).toEqual(run(16, 20, 1));
    expect([t.firstIndex(), t.lastIndex(), t.snapshotIndex()]).toEqual([16, 20, 15]);
    // A truncation right after the snapshot ends segment 11's live part at 15: it goes too.
    await t.save(update({ hardState: { term: 2, vote: null, commit: 15 }, entries: run(16, 17, 2) }));
    await t.close();
    expect(await rawSegments(dir)).toEqual([16]);
    const u = await reopen(dir);
    expect(u.load().entries).toEqual(run(16, 17, 2));
    // Straddling again (segment 16 is covered, 18 is not), then a compaction at the very end
    // removes every segment.
    await u.save(update({ entries: run(18, 30, 2) }));
    await u.save(update({ hardState: { term: 2, vote: null, commit: 30 }, compaction: snap(25, 2) }));
    await u.close();
    expect(await rawSegments(dir)).toEqual([18]);
    const v = await reopen(dir);
    expect(v.load().entries).toEqual(run(26, 30, 2));
    await v.save(update({ compaction: snap(30, 2) }));
    expect([v.firstIndex(), v.lastIndex()]).toEqual([31, 30]);
    await v.close();
    expect(await rawSegments(dir)).toEqual([]);
    const w = await reopen(dir);
    expect(w.load().entries).toEqual([]);
    expect(w.load().snapshot).toEqual(snap(30, 2));
    await w.close();
  });

  it('splits a save over MAX_SEGMENT_BYTES into several segments in the same batch', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    const big = (index: number): Entry => ({ ...entry(index, 1), data: new Uint8Array(MAX_SEGMENT_BYTES * 0.375).fill(index) });
    const entries = [1, 2, 3, 4, 5].map(big);
    // Element-wise toEqual on megabytes of data takes tens of seconds: compare bytes natively.
    const same = (got: readonly Entry[], want: readonly Entry[]) => {
      const strip = (es: readonly Entry[]) => es.map((e) => ({ ...e, data: e.data.length }));
      expect(strip(got)).toEqual(strip(want));
      for (let k = 0; k < want.length; k++) expect(Buffer.compare((got[k] as Entry).data, (want[k] as Entry).data)).toBe(0);
    };
    await s.save(update({ hardState: { term: 1, vote: null, commit: 2 }, entries }));
    // Two entries of 1.5 MiB fit in 4 MiB, a third does not.
    await s.close();
    expect(await rawSegments(dir)).toEqual([1, 3, 5]);
    await raw(dir, async (db) => {
      for (const first of [1, 3, 5]) expect((await db.get(segmentKey(first))).length).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    });
    const t = await reopen(dir);
    same(t.load().entries, entries);
    // Truncating into the middle of the split save deletes the later parts.
    await t.save(update({ hardState: { term: 2, vote: null, commit: 2 }, entries: run(4, 4, 2) }));
    await t.close();
    expect(await rawSegments(dir)).toEqual([1, 3, 4]);
    const u = await reopen(dir);
    same(u.load().entries, [...entries.slice(0, 3), entry(4, 2)]);
    await u.close();
  });

  it('queues saves issued without waiting, in order', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    const writes = [];
    for (let i = 1; i <= 20; i++)
      writes.push(s.save(update({ hardState: { term: 1, vote: null, commit: i - 1 }, entries: [entry(i, 1)] })));
    await Promise.all(writes);
    await s.close();
    const t = await reopen(dir);
    expect(t.load().entries).toEqual(run(1, 20, 1));
    expect(t.load().hardState.commit).toBe(19);
    await t.close();
  });

  it('writes an unsynced save in order with the synced ones around it', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    const first = s.save(update({ hardState: { term: 1, vote: 'a', commit: 0 }, entries: run(1, 3, 1) }));
    const unsynced = s.save(update({ hardState: { term: 1, vote: 'a', commit: 2 } }), { sync: false });
    const last = s.save(update({ entries: [entry(4, 1)] }));
    await Promise.all([first, unsynced, last]);
    await s.close();
    const t = await reopen(dir);
    expect(t.load().entries).toEqual(run(1, 4, 1));
    expect(t.load().hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
    await t.close();
  });

  it('refuses a save that would make the store inconsistent, and stays refused', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 0 }, entries: run(1, 3, 1) }));
    const first = await s.save(update({ entries: run(5, 6, 1) })).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(StorageError);
    expect((first as Error).message).toBe(`meshrun storage ${dir}: refused to write entry 5: the log would have a gap after 3`);
    // Even a harmless save is refused now, with the same error.
    expect(await s.save(update({ hardState: { term: 1, vote: null, commit: 1 } })).catch((e: unknown) => e)).toBe(first);
    await s.close();
    const t = await reopen(dir);
    expect(t.load().entries).toEqual(run(1, 3, 1));

    const cases: [PersistUpdate, RegExp][] = [
      [update({ hardState: { term: 1, vote: null, commit: 9 } }), /refused to write: commit 9 is beyond last index 3$/],
      [update({ entries: run(4, 4, 2) }), /refused to write: entry 4 has term 2, beyond the current term 1$/],
      [update({ entries: [entry(4, 1), entry(6, 1)] }), /refused to write entries: 6 at position 1, expected 5$/],
      [update({ entries: [{ ...entry(4, 1), term: 0.5 }] }), /term 0.5 is below the previous term 1/],
      [update({ entries: [{ ...entry(4, 1), time: -1 }] }), /refused to write: entry time -1 must be a finite number >= 0/],
      [update({ compaction: snap(2, 7) }), /compaction at 2 has term 7 but entry 2 has term 1$/],
      [update({ membership: { conf, index: 4 } }), /membership from index 4 is beyond last index 3$/],
    ];
    await t.close();
    for (const [u, re] of cases) {
      const v = await reopen(dir);
      await expect(v.save(u)).rejects.toThrow(re);
      await v.close();
    }
  });

  it('makes itself unusable after a failed write', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 0 }, entries: run(1, 3, 1) }));
    // Pull the database out from under it, so the next batch fails inside LevelDB.
    await (s as unknown as { db: { close(): Promise<void> } }).db.close();
    await s.save(none); // nothing to write: no write is attempted
    const failed = await s.save(update({ entries: run(4, 4, 1) })).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(StorageError);
    expect((failed as Error).message).toMatch(new RegExp(`^meshrun storage ${dir}: write failed \\(`));
    expect(await s.save(none).catch((e: unknown) => e)).toBe(failed);
    expect(s.lastIndex()).toBe(3);
    await s.close();
    const t = await reopen(dir);
    expect(t.load().entries).toEqual(run(1, 3, 1));
    await t.close();
    await expect(t.save(none)).rejects.toThrow(/is closed/);
  });

  it('refuses a store written by another format version, naming it', async () => {
    const dir = tempDir();
    await (await LevelStorage.open(dir)).close();
    expect(STORE_FORMAT_VERSION).toBe(4);
    await raw(dir, (db) => db.put(FORMAT_KEY, seal(FORMAT_KEY, encodeUint(7))));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: format version 7 is not supported (expected 4)`);
    // An older store is refused with what to do about it, not migrated: 3 is the last one with
    // the hand-written record layouts, 1 the first.
    for (const old of [3, 1]) {
      await raw(dir, (db) => db.put(FORMAT_KEY, seal(FORMAT_KEY, encodeUint(old))));
      expect((await openFails(dir)).message).toBe(
        `meshrun storage ${dir}: format version ${old} was written by an older meshrun (this one reads 4); a member can rejoin with an empty store: stop the node, move its raft directory aside and start it again with --bootstrap`,
      );
    }
  });

  it('keeps the cluster id across reopen, beside the Raft state, and refuses a malformed or corrupt one', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    expect(s.clusterId()).toBeNull();
    const id = 'ab'.repeat(16);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 0 } }));
    await s.setClusterId(id);
    expect(s.clusterId()).toBe(id);
    await expect(s.setClusterId('not-hex')).rejects.toThrow(/refused to write: cluster id "not-hex" is not 32 lowercase hex digits/);
    await s.close();
    await expect(s.setClusterId(id)).rejects.toThrow(/is closed/);

    const again = await reopen(dir);
    expect(again.clusterId()).toBe(id);
    expect(again.load().hardState).toEqual({ term: 1, vote: 'n1', commit: 0 });
    await again.close();

    await raw(dir, (db) => db.put(CLUSTER_ID_KEY, seal(CLUSTER_ID_KEY, new TextEncoder().encode('ZZ'))));
    expect((await openFails(dir)).message).toBe(
      `meshrun storage ${dir}: cluster id is corrupt (cluster id "ZZ" is not 32 lowercase hex digits)`,
    );
    const flipped = seal(CLUSTER_ID_KEY, new TextEncoder().encode(id));
    flipped[6] = at(flipped, 6, 'a stored value is longer') ^ 1;
    await raw(dir, (db) => db.put(CLUSTER_ID_KEY, flipped));
    expect((await openFails(dir)).message).toMatch(/cluster id is corrupt \(checksum mismatch\)/);
  });

  it('keeps the voting hold of a node that joined with nothing across reopen, and refuses a corrupt one', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    expect(s.votingHold()).toBe(0);
    await s.setVotingHold(1234);
    expect(s.votingHold()).toBe(1234);
    await s.close();
    const again = await reopen(dir);
    expect(again.votingHold()).toBe(1234);
    await again.close();
    const flipped = seal(VOTING_HOLD_KEY, encodeUint(1234));
    flipped[flipped.length - 1] = at(flipped, flipped.length - 1, 'a non-empty value') ^ 1;
    await raw(dir, (db) => db.put(VOTING_HOLD_KEY, flipped));
    expect((await openFails(dir)).message).toMatch(/voting hold is corrupt \(checksum mismatch\)/);
  });

  it('refuses a LevelDB that is not a meshrun store', async () => {
    const dir = tempDir();
    await raw(dir, (db) => db.put(Uint8Array.of(0x42), Uint8Array.of(1)));
    expect((await openFails(dir)).message).toMatch(/has no format version record \(first key 0x42\)/);
  });

  it('refuses a segment with a flipped byte, naming the segment', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 20 }, entries: run(1, 20, 1) }));
    await s.save(update({ hardState: { term: 1, vote: null, commit: 40 }, entries: run(21, 50, 1) }));
    await s.close();
    expect(await rawSegments(dir)).toEqual([1, 21]);
    await raw(dir, async (db) => {
      const key = segmentKey(21);
      const value = Uint8Array.from(await db.get(key));
      // A byte in the middle of the run: inside some entry's data, not at either end.
      const middle = value.length >> 1;
      value[middle] = at(value, middle, 'a non-empty segment') ^ 0x10;
      await db.put(key, value);
    });
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: segment 21 is corrupt (checksum mismatch)`);
  });

  it('refuses a segment stored under the wrong index', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 0 }, entries: run(1, 2, 1) }));
    await s.save(update({ entries: run(3, 5, 1) }));
    await s.close();
    // Moved under another key, the CRC (which covers the key) no longer matches.
    await raw(dir, async (db) => {
      const value = await db.get(segmentKey(3));
      await db.batch([
        { type: 'del', key: segmentKey(3) },
        { type: 'put', key: segmentKey(4), value },
      ]);
    });
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: segment 4 is corrupt (checksum mismatch)`);
    // Resealed for that key, the mismatch between key and content is still caught.
    await raw(dir, (db) => db.put(segmentKey(4), seal(segmentKey(4), encodeEntries(run(3, 5, 1)))));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: segment 4 is corrupt (it starts at index 3)`);
  });

  it('refuses a log with a gap', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 3 }, entries: run(1, 5, 1) }));
    for (const [from, to] of [
      [6, 15],
      [16, 17],
      [18, 20],
    ] as const)
      await s.save(update({ entries: run(from, to, 1) }));
    await s.close();
    expect(await rawSegments(dir)).toEqual([1, 6, 16, 18]);
    await raw(dir, (db) => db.batch([{ type: 'del', key: segmentKey(16) }]));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: log has a gap: segment 18 follows entry 15`);
    await raw(dir, (db) => db.batch([1, 6].map((i) => ({ type: 'del' as const, key: segmentKey(i) }))));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: log has a gap: segment 18 follows the start of the log (0)`);
  });

  it('refuses a log whose terms decrease across segments, naming the segment', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 2, vote: null, commit: 0 }, entries: run(1, 5, 2) }));
    await s.close();
    await raw(dir, (db) => db.put(segmentKey(6), seal(segmentKey(6), encodeEntries(run(6, 8, 1)))));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: segment 6: entry 6 has term 1, below entry 5's term 2`);
  });

  it('refuses a segment the snapshot covers, and one that disagrees with it', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 5 }, entries: run(1, 5, 1) }));
    await s.save(update({ hardState: { term: 1, vote: null, commit: 10 }, entries: run(6, 10, 1) }));
    await s.close();
    // A snapshot at 7 put in by hand: no save deleted segment 1, whose live entries are 1..5.
    await raw(dir, (db) => db.put(SNAPSHOT_KEY, seal(SNAPSHOT_KEY, encodeSnapshot(snap(7, 1)))));
    expect((await openFails(dir)).message).toBe(
      `meshrun storage ${dir}: segment 1 (live entries 1..5) is covered by the snapshot at 7 but was not deleted`,
    );
    await raw(dir, (db) =>
      db.batch([
        { type: 'del', key: segmentKey(1) },
        { type: 'put', key: SNAPSHOT_KEY, value: seal(SNAPSHOT_KEY, encodeSnapshot(snap(7, 2))) },
      ]),
    );
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: segment 6: entry 7 has term 1, but the snapshot at 7 has term 2`);
    await raw(dir, (db) => db.put(SNAPSHOT_KEY, seal(SNAPSHOT_KEY, encodeSnapshot(snap(7, 1)))));
    const t = await reopen(dir);
    expect(t.load().entries).toEqual(run(8, 10, 1));
    expect([t.firstIndex(), t.lastIndex()]).toEqual([8, 10]);
    await t.close();
  });

  it('refuses a commit index beyond the log', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 3 }, entries: run(1, 40, 1) }));
    await s.close();
    await raw(dir, (db) => db.put(HARD_STATE_KEY, seal(HARD_STATE_KEY, encodeHardState({ term: 1, vote: null, commit: 50 }))));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: commit 50 is beyond last index 40`);
  });

  it('refuses a directory locked by another open instance, and one it cannot create', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    try {
      const err = await openFails(dir);
      expect(err.message).toBe(`meshrun storage ${dir}: is locked: another process (or another open LevelStorage) is using it`);
    } finally {
      await s.close();
    }
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'x');
    expect((await openFails(join(file, 'raft'))).message).toMatch(
      /^meshrun storage .*plain-file\/raft: cannot create the directory \(ENOTDIR/,
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random saves applied to LevelStorage and to a trivial in-memory model of the
// PersistUpdate contract leave the same state, however they cut across segments.

interface Model {
  readonly hardState: HardState;
  readonly membership: Membership | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

const emptyModel: Model = { hardState: { term: 0, vote: null, commit: 0 }, membership: null, snapshot: null, entries: [] };

/** The contract, written as plainly as possible: filter and concatenate. */
function applyToModel(m: Model, u: PersistUpdate): Model {
  let snapshot = m.snapshot;
  let entries = m.entries;
  if (u.snapshot) {
    snapshot = u.snapshot;
    entries = [];
  }
  const c = u.compaction;
  if (c && c.meta.index > (snapshot?.meta.index ?? 0)) {
    snapshot = c;
    entries = entries.filter((e) => e.index > c.meta.index);
  }
  const head = u.entries[0];
  if (head) entries = [...entries.filter((e) => e.index < head.index), ...u.entries];
  return { hardState: u.hardState ?? m.hardState, membership: u.membership ?? m.membership, snapshot, entries };
}

/** One step, drawn as raw numbers and turned into a legal save against the model of the moment. */
type Step =
  | {
      readonly kind: 'append';
      readonly count: number;
      readonly bump: number;
      readonly commit: number | null;
      readonly compact: number | null;
    }
  | { readonly kind: 'truncate'; readonly at: number; readonly count: number; readonly bump: number }
  | { readonly kind: 'compact'; readonly at: number }
  | { readonly kind: 'install'; readonly at: number; readonly bump: number; readonly count: number }
  | { readonly kind: 'hardState'; readonly commit: number; readonly bump: number; readonly vote: boolean }
  | { readonly kind: 'membership'; readonly at: number }
  | { readonly kind: 'reopen' };

const r = fc.nat({ max: 1_000_000 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      count: fc.integer({ min: 1, max: 12 }),
      bump: fc.integer({ min: 0, max: 1 }),
      commit: fc.option(r, { freq: 2 }),
      compact: fc.option(r, { freq: 4 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      at: r,
      count: fc.integer({ min: 1, max: 8 }),
      bump: fc.integer({ min: 0, max: 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('compact' as const), at: r }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('install' as const),
      at: r,
      bump: fc.integer({ min: 0, max: 1 }),
      count: fc.constantFrom(0, 0, 1, 3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('hardState' as const), commit: r, bump: fc.integer({ min: 0, max: 1 }), vote: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('membership' as const), at: r }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
);

/** An integer in [lo, hi] picked by the raw number `x`; lo when the range is empty. */
const pick = (lo: number, hi: number, x: number): number => (hi <= lo ? lo : lo + (x % (hi - lo + 1)));
/**
 * Like pick, but a third of the time the given edge: compacting exactly at commit and then
 * truncating right after it is what leaves a segment straddling the snapshot with nothing live.
 */
const pickEdge = (lo: number, hi: number, edge: number, x: number): number => (x % 3 === 0 ? edge : pick(lo, hi, Math.floor(x / 3)));

function modelShape(m: Model): { snapIndex: number; snapTerm: number; lastIndex: number; termAt: (i: number) => number } {
  const snapIndex = m.snapshot?.meta.index ?? 0;
  const snapTerm = m.snapshot?.meta.term ?? 0;
  return {
    snapIndex,
    snapTerm,
    lastIndex: snapIndex + m.entries.length,
    termAt: (i) => (i === snapIndex ? snapTerm : (m.entries[i - snapIndex - 1] as Entry).term),
  };
}

function propEntry(index: number, term: number): Entry {
  // Sizes vary so segments differ in length; contents depend on index and term, so an entry
  // from a superseded tail never equals the one that replaced it.
  return {
    index,
    term,
    type: index % 7 === 0 ? 'conf' : 'normal',
    time: index * 3 + term,
    proposer: `n${term % 3}`,
    data: new Uint8Array((index * 37) % 50).fill(index + term),
  };
}
const propRun = (from: number, count: number, term: number): Entry[] => Array.from({ length: count }, (_, k) => propEntry(from + k, term));

/** The save `step` stands for against model `m`, or null for a reopen. Every save is legal. */
function saveFor(m: Model, step: Step): PersistUpdate | null {
  const { snapIndex, lastIndex, termAt } = modelShape(m);
  const hs = m.hardState;
  switch (step.kind) {
    case 'append': {
      const term = Math.max(hs.term, 1) + step.bump;
      const entries = propRun(lastIndex + 1, step.count, term);
      const newLast = lastIndex + step.count;
      const compaction =
        step.compact !== null && hs.commit > snapIndex
          ? ((at) => snap(at, termAt(at)))(pickEdge(snapIndex + 1, hs.commit, hs.commit, step.compact))
          : null;
      // Commit often stays put, so several uncommitted segments build up for truncations and
      // snapshot installs to cut into.
      const commit = step.commit === null ? hs.commit : pick(hs.commit, newLast, step.commit);
      return update({ hardState: { term, vote: term === hs.term ? hs.vote : null, commit }, entries, compaction });
    }
    case 'truncate': {
      // Never below commit + 1: committed entries are never rewritten.
      const at = pickEdge(hs.commit + 1, lastIndex + 1, hs.commit + 1, step.at);
      const term = Math.max(hs.term, 1) + step.bump;
      return update({ hardState: { term, vote: null, commit: hs.commit }, entries: propRun(at, step.count, term) });
    }
    case 'compact': {
      if (hs.commit <= snapIndex) return none;
      const at = pickEdge(snapIndex + 1, hs.commit, hs.commit, step.at);
      return update({ compaction: snap(at, termAt(at)) });
    }
    case 'install': {
      // A leader's snapshot past our commit index: inside our log (cutting a segment) or past it.
      const at = pick(hs.commit + 1, lastIndex + 2, step.at);
      const term = Math.max(hs.term, 1) + step.bump;
      return update({
        hardState: { term, vote: null, commit: at },
        snapshot: snap(at, term),
        membership: { conf, index: at },
        entries: propRun(at + 1, step.count, term),
      });
    }
    case 'hardState':
      return update({
        hardState: { term: hs.term + step.bump, vote: step.vote ? 'n2' : null, commit: pick(hs.commit, lastIndex, step.commit) },
      });
    case 'membership':
      return update({ membership: { conf: { voters: ['n1'], learners: [] }, index: pick(0, hs.commit, step.at) } });
    case 'reopen':
      return null;
  }
}

function expectMatches(s: LevelStorage, m: Model, loaded: boolean): void {
  const { snapIndex, lastIndex } = modelShape(m);
  expect([s.firstIndex(), s.lastIndex(), s.snapshotIndex()]).toEqual([snapIndex + 1, lastIndex, snapIndex]);
  if (loaded) expect(s.load()).toEqual({ ...m, entries: [...m.entries] });
}

describe('LevelStorage against a model', () => {
  it('loads exactly what the model holds after any sequence of saves and reopens', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 40 }), async (steps) => {
        const dir = tempDir();
        let s = await LevelStorage.open(dir);
        let m = emptyModel;
        try {
          for (const step of steps) {
            const u = saveFor(m, step);
            if (u === null) {
              await s.close();
              s = await reopen(dir);
              expectMatches(s, m, true);
              continue;
            }
            await s.save(u);
            m = applyToModel(m, u);
            expectMatches(s, m, false);
          }
          await s.close();
          s = await reopen(dir);
          expectMatches(s, m, true);
        } finally {
          await s.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Crash test: a child process writes and reports what is synced; SIGKILL; everything reported
// must be there, exactly.

interface Killed {
  /** The highest index the child reported as synced. */
  readonly reported: number;
  readonly lines: number;
}

/** Starts the writer on `dir`, waits for `lines` reports, and kills it with SIGKILL. */
async function writeThenKill(dir: string, lines: number, batchSize: number): Promise<Killed> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dir, String(batchSize), '100000'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    let seen = 0;
    let reported = 0;
    await new Promise<void>((resolve, reject) => {
      // A bound on a hung child, not a timing assumption: the test waits on output lines.
      const timer = setTimeout(() => reject(new Error(`writer gave ${seen} of ${lines} lines in 45 s; stderr: ${stderr}`)), 45_000);
      const rl = createInterface({ input: child.stdout });
      rl.on('line', (line) => {
        const n = Number(line);
        if (!Number.isSafeInteger(n) || n <= reported) {
          clearTimeout(timer);
          reject(new Error(`writer printed ${JSON.stringify(line)} after ${reported}`));
          return;
        }
        reported = n;
        if (++seen === lines) {
          clearTimeout(timer);
          rl.close();
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`writer exited (${String(code)}, ${String(signal)}) after ${seen} lines; stderr: ${stderr}`));
      });
    });
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    return { reported, lines: seen };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

async function checkSurvivors(dir: string, reported: number): Promise<number> {
  const s = await LevelStorage.open(dir);
  try {
    const { hardState, snapshot, entries } = s.load();
    const snapIndex = snapshot ? snapshot.meta.index : 0;
    if (snapshot) {
      expect(snapshot.meta.term).toBe(termAt(snapIndex));
      expect(snapshot.data).toEqual(snapshotDataAt(snapIndex));
    }
    expect(s.lastIndex()).toBeGreaterThanOrEqual(reported);
    expect(hardState.commit).toBeGreaterThanOrEqual(reported);
    expect(entries.length).toBe(s.lastIndex() - snapIndex);
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k] as Entry;
      const want = entryAt(snapIndex + 1 + k);
      if (e.index !== want.index || e.term !== want.term || e.time !== want.time || Buffer.compare(e.data, dataAt(e.index)) !== 0) {
        throw new Error(`entry ${snapIndex + 1 + k} differs after the crash: ${JSON.stringify({ ...e, data: e.data.length })}`);
      }
    }
    return s.lastIndex();
  } finally {
    await s.close();
  }
}

describe('LevelStorage crash safety', () => {
  it('keeps everything a SIGKILLed writer reported as synced, across repeated kills', async () => {
    const dir = tempDir();
    let before = 0;
    for (const [lines, batch] of [
      [200, 7],
      [260, 31],
      [330, 3],
    ] as const) {
      const { reported } = await writeThenKill(dir, lines, batch);
      expect(reported).toBeGreaterThanOrEqual(before + lines * batch);
      before = await checkSurvivors(dir, reported);
    }
  });
});
