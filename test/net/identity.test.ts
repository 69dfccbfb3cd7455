import { mkdtemp, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY_FILE, loadOrCreateIdentity } from '../../src/net/identity.js';

describe('node identity', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshrun-id-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates an Ed25519 key once and keeps the peer id across restarts', async () => {
    const first = await loadOrCreateIdentity(dir);
    expect(first.privateKey.type).toBe('Ed25519');
    expect(first.id).toBe(first.peerId.toString());
    expect(first.id).toMatch(/^12D3KooW/);
    const again = await loadOrCreateIdentity(dir);
    expect(again.id).toBe(first.id);
    expect(again.privateKey.equals(first.privateKey)).toBe(true);
    const st = await stat(join(dir, KEY_FILE));
    expect(st.mode & 0o777).toBe(0o600);
    // Written through a temporary file that must not be left behind.
    expect(await readdir(dir)).toEqual([KEY_FILE]);
  });

  it('creates the data directory when it does not exist', async () => {
    const nested = join(dir, 'a', 'b');
    const id = await loadOrCreateIdentity(nested);
    expect((await loadOrCreateIdentity(nested)).id).toBe(id.id);
    // Private, as the key in it.
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'a'))).mode & 0o777).toBe(0o700);
  });

  it('refuses a corrupt key file with an error naming the file, and leaves it alone', async () => {
    const file = join(dir, KEY_FILE);
    await writeFile(file, Buffer.from('definitely not a protobuf key'));
    await expect(loadOrCreateIdentity(dir)).rejects.toThrow(file);
    await writeFile(file, Buffer.alloc(0));
    await expect(loadOrCreateIdentity(dir)).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is empty`));
    expect((await stat(file)).size).toBe(0);
  });
});

describe('node identity under concurrency', () => {
  it('two loaders racing on an empty directory agree on one key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshrun-id-'));
    try {
      const ids = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateIdentity(dir)));
      expect(new Set(ids.map((i) => i.id)).size).toBe(1);
      expect((await loadOrCreateIdentity(dir)).id).toBe(ids[0]?.id);
      expect(await readdir(dir)).toEqual([KEY_FILE]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
