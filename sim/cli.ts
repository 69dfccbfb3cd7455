// `npm run sim -- ...`: run one seed of the deterministic cluster simulator, or sweep many.
import { parseArgs, USAGE, UsageError, type CliOptions } from './args.js';
import { runOne, sweep } from './commands.js';

async function main(argv: readonly string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sim: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  return o.single ? runOne(o, process.stdout, process.stderr) : sweep(o, process.stdout);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
