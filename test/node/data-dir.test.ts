// The data directory is private: created 0700 with its raft and logs directories, and an existing
// one with looser modes (or a readable key file) tightened on start, each change reported.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareDataDir, type Tightened } from '../../src/node/data-dir.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(os.tmpdir(), 'meshrun-datadir-'));
  dirs.push(d);
  return d;
}
const mode = (path: string): number => statSync(path).mode & 0o777;

describe('prepareDataDir', () => {
  it('creates the data directory and its raft and logs directories 0700, reporting nothing', async () => {
    const data = join(tempDir(), 'a', 'data');
    const told: Tightened[] = [];
    expect(await prepareDataDir(data, { onTightened: (c) => told.push(c) })).toEqual([]);
    expect(told).toEqual([]);
    for (const p of [data, join(data, 'raft'), join(data, 'logs')]) expect(mode(p), p).toBe(0o700);
  });

  it('tightens an existing directory, raft, logs and key file open to others, and reports each change', async () => {
    const data = join(tempDir(), 'data');
    mkdirSync(join(data, 'raft'), { recursive: true });
    mkdirSync(join(data, 'logs'));
    writeFileSync(join(data, 'node.key'), 'key');
    chmodSync(data, 0o755);
    chmodSync(join(data, 'raft'), 0o750);
    chmodSync(join(data, 'logs'), 0o777);
    chmodSync(join(data, 'node.key'), 0o644);
    const told: Tightened[] = [];
    const changes = await prepareDataDir(data, { onTightened: (c) => told.push(c) });
    expect(told).toEqual(changes);
    expect(changes).toEqual([
      { path: data, was: '755', now: '700' },
      { path: join(data, 'raft'), was: '750', now: '700' },
      { path: join(data, 'logs'), was: '777', now: '700' },
      { path: join(data, 'node.key'), was: '644', now: '600' },
    ]);
    expect([mode(data), mode(join(data, 'raft')), mode(join(data, 'logs')), mode(join(data, 'node.key'))]).toEqual([
      0o700, 0o700, 0o700, 0o600,
    ]);
    // Once private, a restart changes nothing.
    expect(await prepareDataDir(data)).toEqual([]);
  });

  it('leaves modes that are already private alone', async () => {
    const data = join(tempDir(), 'data');
    mkdirSync(data, { mode: 0o700 });
    chmodSync(data, 0o700);
    writeFileSync(join(data, 'node.key'), 'key', { mode: 0o400 });
    chmodSync(join(data, 'node.key'), 0o400);
    expect(await prepareDataDir(data)).toEqual([]);
    expect(mode(join(data, 'node.key'))).toBe(0o400);
  });

  it('refuses a raft or logs path that is not a directory, naming it', async () => {
    const data = join(tempDir(), 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'logs'), 'not a directory');
    await expect(prepareDataDir(data)).rejects.toThrow(`${join(data, 'logs')} exists but is not a directory`);
  });
});
