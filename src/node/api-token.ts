// Where `meshrun node` takes its API token from: `--api-token-file FILE` or the MESHRUN_TOKEN
// environment variable. Never from the command line: argv is readable by every user of the
// machine (ps, /proc/<pid>/cmdline) and lands in shell history.
import { readFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';

export const TOKEN_ENV = 'MESHRUN_TOKEN';

/** How to pass a token instead, for every message that refuses one. */
export const TOKEN_SOURCES = `--api-token-file FILE or the ${TOKEN_ENV} environment variable`;

/**
 * Visible ASCII, no spaces: the token travels in an `Authorization: Bearer` header, where a space,
 * a control character or a non-ASCII byte would break it or be mangled on the way.
 */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
/** A token is a secret of a few dozen bytes; a large file was named by mistake. */
const MAX_TOKEN_FILE_BYTES = 4096;

export type TokenSource = 'file' | 'env';
export type TokenResult =
  | { readonly ok: true; readonly token: string | null; readonly source: TokenSource | null }
  | { readonly ok: false; readonly error: string };

export interface TokenInputs {
  /** --api-token-file, if given. */
  readonly file: string | undefined;
  /** The process environment (MESHRUN_TOKEN). */
  readonly env: NodeJS.ProcessEnv;
}

/** The file wins over the environment: a flag is the more deliberate choice of the two. */
export function resolveApiToken(inputs: TokenInputs): TokenResult {
  if (inputs.file !== undefined) return tokenFromFile(inputs.file);
  const value = inputs.env[TOKEN_ENV];
  // Empty counts as unset, as it does for the client commands that send MESHRUN_TOKEN.
  if (value === undefined || value === '') return { ok: true, token: null, source: null };
  if (!TOKEN_CHARS.test(value))
    return { ok: false, error: `${TOKEN_ENV} must be printable ASCII without spaces (it is sent in an Authorization header)` };
  return { ok: true, token: value, source: 'env' };
}

function tokenFromFile(file: string): TokenResult {
  let text: string;
  try {
    text = readSmallFile(file);
  } catch (err) {
    return { ok: false, error: `cannot read --api-token-file ${file}: ${errorMessage(err)}` };
  }
  // Editors and `echo` end the file with a newline; it is not part of the token.
  const token = text.replace(/\r?\n$/, '');
  if (token === '') return { ok: false, error: `--api-token-file ${file} is empty: put the token in it (one line)` };
  if (!TOKEN_CHARS.test(token)) {
    return {
      ok: false,
      error: `--api-token-file ${file}: the token must be one line of printable ASCII without spaces (it is sent in an Authorization header)`,
    };
  }
  return { ok: true, token, source: 'file' };
}

function readSmallFile(file: string): string {
  const bytes = readFileSync(file);
  if (bytes.length > MAX_TOKEN_FILE_BYTES)
    throw new Error(`it is ${bytes.length} bytes, too large for a token (at most ${MAX_TOKEN_FILE_BYTES})`);
  return bytes.toString('utf8');
}
