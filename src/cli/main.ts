// The meshrun entry point (bin/meshrun runs it). The polyfill comes first: libp2p needs
// Promise.withResolvers, which Node 20 lacks, as soon as it starts.
import '../net/polyfill.js';
import { CommanderError } from 'commander';
import { CliError, EXIT } from './errors.js';
import { buildProgram } from './program.js';

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram({
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    setExitCode: (c) => (code = c),
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is a usage error.
      if (err.exitCode === 0) return EXIT.ok;
      if (wantsJson(argv))
        process.stdout.write(`${JSON.stringify({ error: err.message.replace(/^error: /, ''), details: { code: err.code } })}\n`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      // With --json a script reads the error where it reads results: on stdout, as JSON.
      if (wantsJson(argv)) process.stdout.write(`${JSON.stringify({ error: err.message, details: err.details })}\n`);
      else process.stderr.write(`meshrun: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`meshrun: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// Exit only once stdout and stderr have handed everything to the OS: into a pipe, Node writes
// asynchronously, and exiting at once cut piped output at the pipe's buffer (64 KiB). Exiting
// explicitly (rather than waiting for the event loop to empty) keeps a stray handle from holding
// a finished command open.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);

/** Resolves once everything written to `stream` so far is flushed (or the stream is gone). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}
