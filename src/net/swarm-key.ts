// Pre-shared swarm keys for a private network (@libp2p/pnet): with one, a peer that lacks the key
// cannot even complete a connection. The file format is the go-ipfs/libp2p "v1 PSK" text:
//   /key/swarm/psk/1.0.0/
//   /base16/
//   <64 hex digits: 32 random bytes>
// @libp2p/pnet's own generateKey writes the same three lines but no final newline; we end the file
// with one so it is a proper text file (pnet's parser accepts both).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';

const HEADER = '/key/swarm/psk/1.0.0/';
const CODEC = '/base16/';
const KEY_HEX = /^[0-9a-fA-F]{64}$/;
/** The canonical file is 95 bytes plus a newline; allow some slack for CRLF and trailing blanks. */
const MAX_FILE_BYTES = 1024;

export class SwarmKeyError extends Error {
  override readonly name = 'SwarmKeyError';
}

/** A fresh swarm key file's text (32 bytes from the OS's CSPRNG). */
export function generateSwarmKey(): string {
  return `${HEADER}\n${CODEC}\n${randomBytes(32).toString('hex')}\n`;
}

/**
 * Parses swarm key text; returns the canonical key bytes in the form @libp2p/pnet's `psk` option
 * takes (the text itself, normalised), or throws naming `source` and the problem.
 */
export function parseSwarmKey(text: string, source: string): Uint8Array {
  const lines = text.split(/\r\n|\n|\r/);
  // Trailing empty lines (a final newline, or several) are harmless; anything else after the key is not.
  while (lines.length > 3 && lines[lines.length - 1]?.trim() === '') lines.pop();
  const [header, codec, key, ...rest] = lines.map((l) => l.trim());
  if (header !== HEADER) throw new SwarmKeyError(`swarm key ${source} is malformed: first line must be ${HEADER}`);
  if (codec !== CODEC)
    throw new SwarmKeyError(`swarm key ${source} is malformed: second line must be ${CODEC} (the only encoding supported)`);
  if (key === undefined || !KEY_HEX.test(key))
    throw new SwarmKeyError(`swarm key ${source} is malformed: third line must be 64 hex digits`);
  if (rest.length > 0) throw new SwarmKeyError(`swarm key ${source} is malformed: unexpected text after the key`);
  return new TextEncoder().encode(`${HEADER}\n${CODEC}\n${key.toLowerCase()}`);
}

/** Reads and validates a swarm key file (as written by `meshrun keygen`); errors name the file. */
export function readSwarmKey(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
    if (code === 'ENOENT') throw new SwarmKeyError(`swarm key file ${file} does not exist (create one with: meshrun keygen ${file})`);
    throw new SwarmKeyError(`cannot read swarm key file ${file}: ${errorMessage(err)}`);
  }
  if (bytes.length > MAX_FILE_BYTES) throw new SwarmKeyError(`swarm key ${file} is malformed: ${bytes.length} bytes is far too large`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SwarmKeyError(`swarm key ${file} is malformed: not UTF-8 text`);
  }
  return parseSwarmKey(text, file);
}
