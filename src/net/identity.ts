// The node's libp2p identity: an Ed25519 private key kept in the data directory. The peer id it
// derives is the node's Raft identity, so losing or changing the key makes the node a stranger to
// its own cluster: the file is created once, atomically, and never replaced.
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { errorMessage } from '../errors.js';

export const KEY_FILE = 'node.key';

/** A protobuf-encoded Ed25519 private key is 68 bytes; anything far larger is not a key file. */
const MAX_KEY_FILE_BYTES = 4096;

export interface Identity {
  readonly privateKey: PrivateKey;
  readonly peerId: PeerId;
  /** The peer id as a string: the node's Raft identity. */
  readonly id: string;
}

export class IdentityError extends Error {
  override readonly name = 'IdentityError';
}

function isMissing(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

function identityOf(privateKey: PrivateKey): Identity {
  const peerId = peerIdFromPrivateKey(privateKey);
  return { privateKey, peerId, id: peerId.toString() };
}

/** Parses key file bytes; the error names the file because the operator has to go and fix it. */
function parseKey(file: string, bytes: Uint8Array): PrivateKey {
  if (bytes.length === 0) throw new IdentityError(`key file ${file} is empty (corrupt); restore it or remove it to create a new identity`);
  if (bytes.length > MAX_KEY_FILE_BYTES)
    throw new IdentityError(`key file ${file} is ${bytes.length} bytes, too large to be a private key (corrupt)`);
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (err) {
    throw new IdentityError(`key file ${file} is corrupt: ${errorMessage(err)}`);
  }
  // Other key types decode too, but the project's contract is Ed25519 (short, fast peer ids).
  if (key.type !== 'Ed25519') throw new IdentityError(`key file ${file} holds a ${key.type} key; expected Ed25519`);
  return key;
}

/**
 * Creates `file` holding `bytes`, atomically and only if it does not exist yet: the bytes go to a
 * synced temporary file that is then hard-linked into place (link, unlike rename, fails when the
 * target exists), so a crash leaves no file or a complete one, and two processes racing on one
 * data directory cannot end up with different keys. Returns false if the file already existed.
 */
async function createAtomically(file: string, bytes: Uint8Array): Promise<boolean> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, file);
    } catch (err) {
      if (err instanceof Error && (err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  // Sync the directory so the new entry itself survives a power loss. Best effort: some file
  // systems refuse fsync on a directory, and the key is already complete on disk.
  try {
    const dir = await open(dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // ignored, see above
  }
  return true;
}

/**
 * Loads `<dataDir>/node.key`, or creates it (mode 0600) when it does not exist. A file that exists
 * but does not decode is an error naming the file: replacing it would give the node a new Raft
 * identity behind the operator's back.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<Identity> {
  const file = join(dataDir, KEY_FILE);
  try {
    const bytes = await readFile(file);
    return identityOf(parseKey(file, bytes));
  } catch (err) {
    if (!isMissing(err)) {
      if (err instanceof IdentityError) throw err;
      throw new IdentityError(`cannot read key file ${file}: ${errorMessage(err)}`);
    }
  }
  const key = await generateKeyPair('Ed25519');
  let created: boolean;
  try {
    // Private, as the data directory is (data-dir.ts): the key lets whoever copies it pose as this node.
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    created = await createAtomically(file, privateKeyToProtobuf(key));
  } catch (err) {
    throw new IdentityError(`cannot write key file ${file}: ${errorMessage(err)}`);
  }
  // Another process created it first: its key is the identity.
  if (!created) return identityOf(parseKey(file, await readFile(file)));
  return identityOf(key);
}
