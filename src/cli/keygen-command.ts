// `meshrun keygen [FILE]`: a new pre-shared swarm key, to FILE (mode 0600, never overwriting) or stdout.
import { writeFileSync } from 'node:fs';
import { errorMessage } from '../errors.js';
import { generateSwarmKey } from '../net/swarm-key.js';
import { CliError, EXIT } from './errors.js';

export function keygenCommand(file: string | undefined, out: (s: string) => void): void {
  const key = generateSwarmKey();
  if (file === undefined) {
    out(key);
    return;
  }
  try {
    // 'wx': an existing key file is someone's cluster key; replacing it would lock them out.
    writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'it already exists (remove it first if you mean to replace it)' : errorMessage(err);
    throw new CliError(`cannot write the swarm key to ${file}: ${why}`, EXIT.usage);
  }
}
