// The data directory must be usable before anything starts: a node that discovers halfway through
// that it cannot write its Raft store is worse than one that refuses at once, naming the problem.
//
// It is also private. It holds the node's identity key (whoever copies it can pose as the node),
// the Raft log with every DAG submitted (commands, environment values) and the tasks' output: the
// directories are 0700 and the key 0600. An existing directory with looser modes (made by an
// older meshrun, or by hand) is tightened here, on every start, and each change is logged.
import { constants } from 'node:fs';
import { access, chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../errors.js';

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
/** The bits that give the group or others any access. */
const SHARED_BITS = 0o077;

/**
 * What lives in the data directory and the mode it gets: the Raft store (node.ts opens `raft`),
 * the task logs (task-env.ts writes under `logs`) and the identity key (identity.ts, `node.key`).
 * Task log files and per-job log directories are created private; the `logs` directory being 0700
 * already keeps older ones from other users, so they are not walked here.
 */
const SUBDIRS = ['raft', 'logs'] as const;
const PRIVATE_FILES = ['node.key'] as const;

/** A mode this start changed, for the node's log. */
export interface Tightened {
  readonly path: string;
  /** Octal, e.g. "755". */
  readonly was: string;
  readonly now: string;
}

export interface DataDirOptions {
  /** Told about every mode tightened (the node logs it at info level). */
  readonly onTightened?: (change: Tightened) => void;
}

export async function prepareDataDir(dir: string, opts: DataDirOptions = {}): Promise<readonly Tightened[]> {
  const changes: Tightened[] = [];
  const note = (c: Tightened | null): void => {
    if (c === null) return;
    changes.push(c);
    opts.onTightened?.(c);
  };
  note(await ensureDirectory(dir));
  await checkWritable(dir);
  for (const sub of SUBDIRS) note(await ensurePrivateSubdir(join(dir, sub)));
  for (const file of PRIVATE_FILES) note(await tightenIfPresent(join(dir, file), PRIVATE_FILE));
  return changes;
}

/** Creates `dir` (0700) or checks that it is a directory; tightens an existing one. */
async function ensureDirectory(dir: string): Promise<Tightened | null> {
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw new DataDirError(`data directory ${dir} exists but is not a directory`);
    return await tighten(dir, s.mode, PRIVATE_DIR);
  } catch (err) {
    if (err instanceof DataDirError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new DataDirError(`cannot use data directory ${dir}: ${errorMessage(err)}`);
  }
  try {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
  } catch (e) {
    throw new DataDirError(`cannot create data directory ${dir}: ${errorMessage(e)}`);
  }
  return null;
}

async function checkWritable(dir: string): Promise<void> {
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    // access() trusts permission bits; a read-only mount or a full disk only shows on a write.
    const probe = join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe, { force: true });
  } catch (err) {
    throw new DataDirError(`data directory ${dir} is not readable and writable: ${errorMessage(err)}`);
  }
}

/** Creates a subdirectory 0700 before anything else would create it with the default mode. */
async function ensurePrivateSubdir(path: string): Promise<Tightened | null> {
  try {
    await mkdir(path, { mode: PRIVATE_DIR });
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new DataDirError(`cannot create ${path}: ${errorMessage(err)}`);
  }
  const s = await stat(path).catch((err: unknown) => {
    throw new DataDirError(`cannot use ${path}: ${errorMessage(err)}`);
  });
  if (!s.isDirectory()) throw new DataDirError(`${path} exists but is not a directory (the data directory is damaged)`);
  return tighten(path, s.mode, PRIVATE_DIR);
}

async function tightenIfPresent(path: string, mode: number): Promise<Tightened | null> {
  try {
    return await tighten(path, (await stat(path)).mode, mode);
  } catch (err) {
    if (err instanceof DataDirError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DataDirError(`cannot use ${path}: ${errorMessage(err)}`);
  }
}

/** chmod to `mode` when the group or others have any access; the owner's own bits are left alone otherwise. */
async function tighten(path: string, current: number, mode: number): Promise<Tightened | null> {
  if ((current & SHARED_BITS) === 0) return null;
  try {
    await chmod(path, mode);
  } catch (err) {
    throw new DataDirError(
      `${path} is accessible to other users (mode ${octal(current)}) and cannot be made private: ${errorMessage(err)}`,
    );
  }
  return { path, was: octal(current), now: octal(mode) };
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8);
}
