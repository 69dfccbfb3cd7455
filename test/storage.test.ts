import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHardState, encodeUint } from '../src/raft/codec.js';
import type { Entry, Membership, Snapshot } from '../src/raft/types.js';
import {
  FORMAT_KEY,
  HARD_STATE_KEY,
  entryKey,
  entryKeyIndex,
  seal,
} from '../src/storage/keys.js';
import { LevelStorage, StorageError, type StorageUpdate } from '../src/storage/level-storage.js';
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

const none: StorageUpdate = { hardState: null, entries: [], snapshot: null, compaction: null, membership: null };
const update = (u: Partial<StorageUpdate>): StorageUpdate => ({ ...none, ...u });

function entry(index: number, term: number, text = `e${index}`): Entry {
  return { index, term, type: 'normal', time: 1_700_000_000_000 + index, data: new TextEncoder().encode(text) };
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

async function rawEntryIndexes(dir: string): Promise<number[]> {
  const out: number[] = [];
  await raw(dir, async (db) => {
    for await (const key of db.keys()) {
      const i = entryKeyIndex(key);
      if (i !== null) out.push(i);
    }
  });
  return out;
}

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

  it('truncates a conflicting suffix, deleting the keys past the new end', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 3 }, entries: run(1, 10, 1) }));
    await s.save(update({ hardState: { term: 2, vote: null, commit: 3 }, entries: run(6, 7, 2) }));
    expect(s.lastIndex()).toBe(7);
    await s.close();
    expect(await rawEntryIndexes(dir)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const t = await reopen(dir);
    expect(t.load().entries).toEqual([...run(1, 5, 1), ...run(6, 7, 2)]);
    // Rewriting the tail of the same length, then extending.
    await t.save(update({ hardState: { term: 3, vote: null, commit: 3 }, entries: [...run(7, 7, 3), ...run(8, 12, 3)] }));
    await t.close();
    const u = await reopen(dir);
    expect(u.load().entries).toEqual([...run(1, 5, 1), entry(6, 2), ...run(7, 12, 3)]);
    await u.close();
  });

  it('installs a snapshot from the leader by discarding the whole log', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 8 }, entries: run(1, 10, 1) }));
    await s.save(update({ hardState: { term: 3, vote: null, commit: 20 }, snapshot: snap(20, 3), membership: { conf, index: 20 } }));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([21, 20]);
    await s.save(update({ entries: run(21, 22, 3) }));
    await s.close();
    expect(await rawEntryIndexes(dir)).toEqual([21, 22]);
    const t = await reopen(dir);
    expect(t.load()).toEqual({
      hardState: { term: 3, vote: null, commit: 20 },
      membership: { conf, index: 20 },
      snapshot: snap(20, 3),
      entries: run(21, 22, 3),
    });
    await t.close();
  });

  it('compaction discards the prefix; an older compaction never replaces a newer snapshot', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: 'n1', commit: 10 }, entries: run(1, 10, 1) }));
    await s.save(update({ compaction: snap(6, 1) }));
    expect([s.firstIndex(), s.lastIndex()]).toEqual([7, 10]);
    // A Ready holding both: compact() ran, then a leader's snapshot arrived before ready().
    await s.save(update({ hardState: { term: 2, vote: null, commit: 30 }, snapshot: snap(30, 2), compaction: snap(8, 1), entries: run(31, 32, 2) }));
    await s.close();
    expect(await rawEntryIndexes(dir)).toEqual([31, 32]);
    const t = await reopen(dir);
    expect(t.load().snapshot).toEqual(snap(30, 2));
    expect(t.load().entries).toEqual(run(31, 32, 2));
    await t.close();
  });

  it('queues saves issued without waiting, in order', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    const writes = [];
    for (let i = 1; i <= 20; i++) writes.push(s.save(update({ hardState: { term: 1, vote: null, commit: i - 1 }, entries: [entry(i, 1)] })));
    await Promise.all(writes);
    await s.close();
    const t = await reopen(dir);
    expect(t.load().entries).toEqual(run(1, 20, 1));
    expect(t.load().hardState.commit).toBe(19);
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

    const cases: [StorageUpdate, RegExp][] = [
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

  it('refuses a store written by a future format version, naming it', async () => {
    const dir = tempDir();
    await (await LevelStorage.open(dir)).close();
    await raw(dir, (db) => db.put(FORMAT_KEY, seal(FORMAT_KEY, encodeUint(7))));
    const err = await openFails(dir);
    expect(err.message).toBe(`meshrun storage ${dir}: format version 7 is not supported (expected 1)`);
  });

  it('refuses a LevelDB that is not a meshrun store', async () => {
    const dir = tempDir();
    await raw(dir, (db) => db.put(Uint8Array.of(0x42), Uint8Array.of(1)));
    expect((await openFails(dir)).message).toMatch(/has no format version record \(first key 0x42\)/);
  });

  it('refuses an entry with a flipped byte, naming the entry', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 40 }, entries: run(1, 50, 1) }));
    await s.close();
    await raw(dir, async (db) => {
      const key = entryKey(42);
      const value = Uint8Array.from(await db.get(key) as Uint8Array);
      value[value.length - 1] = (value[value.length - 1] as number) ^ 0x10;
      await db.put(key, value);
    });
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: entry 42 is corrupt (checksum mismatch)`);
  });

  it('refuses an entry stored under the wrong index', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 0 }, entries: run(1, 5, 1) }));
    await s.close();
    await raw(dir, async (db) => {
      await db.put(entryKey(3), (await db.get(entryKey(4))) as Uint8Array);
    });
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: entry 3 is corrupt (checksum mismatch)`);
  });

  it('refuses a log with a gap', async () => {
    const dir = tempDir();
    const s = await LevelStorage.open(dir);
    await s.save(update({ hardState: { term: 1, vote: null, commit: 3 }, entries: run(1, 20, 1) }));
    await s.close();
    await raw(dir, (db) => db.batch([{ type: 'del', key: entryKey(16) }]));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: log has a gap: entry 17 follows 15`);
    await raw(dir, (db) => db.batch([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((i) => ({ type: 'del' as const, key: entryKey(i) }))));
    expect((await openFails(dir)).message).toBe(`meshrun storage ${dir}: log has a gap: entry 17 follows the start of the log (0)`);
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
    expect((await openFails(join(file, 'raft'))).message).toMatch(/^meshrun storage .*plain-file\/raft: cannot create the directory \(ENOTDIR/);
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
    for (const [lines, batch] of [[200, 7], [260, 31], [330, 3]] as const) {
      const { reported } = await writeThenKill(dir, lines, batch);
      expect(reported).toBeGreaterThanOrEqual(before + lines * batch);
      before = await checkSurvivors(dir, reported);
    }
  });
});
