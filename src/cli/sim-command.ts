// `meshrun sim SCENARIO.yaml [--seed N] [--report FILE.html] [--json]`: a user's scenario in the
// deterministic simulator; `meshrun sim --seeds A-B [--nodes N [--voters V]]`: a sweep of random runs with
// faults, as CI runs it. Exit 0 when every invariant held (whatever the jobs' end states), 1 on a
// violation, 2 on a bad scenario file or bad flags.
import { writeFileSync } from 'node:fs';
import { parseArgs, UsageError } from '../../sim/args.js';
import { sweep } from '../../sim/commands.js';
import { renderHtmlReport } from '../../sim/scenario/html-report.js';
import { readScenarioFile, ScenarioError } from '../../sim/scenario/scenario-file.js';
import { runScenario } from '../../sim/scenario/scenario-run.js';
import { formatScenario } from '../../sim/scenario/scenario-text.js';
import { CliError, EXIT, type ExitCode } from './errors.js';

export interface SimCommandOptions {
  readonly seed?: string;
  readonly report?: string;
  readonly json?: boolean;
  readonly seeds?: string;
  readonly nodes?: string;
  readonly voters?: string;
  readonly workload?: string;
}

export async function simCommand(scenario: string | undefined, o: SimCommandOptions, out: (s: string) => void): Promise<ExitCode> {
  if (scenario === undefined) return sweepCommand(o, out);
  for (const [flag, v] of [
    ['--seeds', o.seeds],
    ['--nodes', o.nodes],
    ['--voters', o.voters],
    ['--workload', o.workload],
  ] as const) {
    if (v !== undefined)
      throw new CliError(
        `${flag} is for a sweep of random seeds (meshrun sim --seeds A-B); a scenario file names its own nodes`,
        EXIT.usage,
      );
  }
  let s;
  try {
    s = readScenarioFile(scenario);
  } catch (err) {
    if (err instanceof ScenarioError) throw new CliError(`invalid scenario:\n${err.problems.map((p) => `  ${p}`).join('\n')}`, EXIT.usage);
    throw err;
  }
  const seed = o.seed === undefined ? (s.seed ?? 1) : seedOf(o.seed);
  const r = runScenario(s, seed);
  if (o.report !== undefined) {
    try {
      writeFileSync(o.report, renderHtmlReport(r));
    } catch (err) {
      throw new CliError(`cannot write the report to ${o.report}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, EXIT.usage);
    }
  }
  out(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatScenario(r));
  if (o.report !== undefined && !o.json) out(`report written to ${o.report}\n`);
  return r.ok ? EXIT.ok : EXIT.jobFailed;
}

async function sweepCommand(o: SimCommandOptions, out: (s: string) => void): Promise<ExitCode> {
  if (o.seeds === undefined)
    throw new CliError('give a scenario file (meshrun sim SCENARIO.yaml) or a range of seeds (--seeds 1-100)', EXIT.usage);
  for (const [flag, v] of [
    ['--seed', o.seed],
    ['--report', o.report],
    ['--json', o.json],
  ] as const) {
    if (v !== undefined) throw new CliError(`${flag} needs a scenario file`, EXIT.usage);
  }
  const argv = [
    '--seeds',
    o.seeds,
    '--workload',
    o.workload ?? 'scheduler',
    ...(o.nodes !== undefined ? ['--nodes', o.nodes] : []),
    ...(o.voters !== undefined ? ['--voters', o.voters] : []),
  ];
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const code = await sweep(parsed, { write: out });
  return code === 0 ? EXIT.ok : EXIT.jobFailed;
}

function seedOf(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 0xffffffff)
    throw new CliError(`--seed wants a whole number from 0 to 4294967295, got '${v}'`, EXIT.usage);
  return Number(v);
}
