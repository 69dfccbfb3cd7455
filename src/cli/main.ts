// The meshrun entry point (bin/meshrun runs it). The polyfill comes first: libp2p needs
// Promise.withResolvers, which Node 20 lacks, as soon as it starts.
import '../net/polyfill.js';
import { CommanderError } from 'commander';
import { CliError, EXIT, type ExitCode } from './errors.js';
import { buildProgram } from './program.js';

export async function main(argv: readonly string[]): Promise<ExitCode | number> {
  let code: ExitCode | number = EXIT.ok;
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
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`meshrun: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`meshrun: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

process.exit(await main(process.argv.slice(2)));
