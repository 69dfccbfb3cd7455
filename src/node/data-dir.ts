// The data directory must be usable before anything starts: a node that discovers halfway through
// that it cannot write its Raft store is worse than one that refuses at once, naming the problem.
import { constants } from 'node:fs';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export async function prepareDataDir(dir: string): Promise<void> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new DataDirError(`data directory ${dir} exists but is not a directory`);
  } catch (err) {
    if (err instanceof DataDirError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataDirError(`cannot use data directory ${dir}: ${describe(err)}`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new DataDirError(`cannot create data directory ${dir}: ${describe(e)}`);
    }
  }
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    // access() trusts permission bits; a read-only mount or a full disk only shows on a write.
    const probe = join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  } catch (err) {
    throw new DataDirError(`data directory ${dir} is not readable and writable: ${describe(err)}`);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
