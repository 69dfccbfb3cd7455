// The `meshrun` command line: commander with one subcommand per verb of the CLI contract (docs/cli.md §1).
// Usage errors exit 2 (commander's own default is 1), so `exitOverride` turns them into errors
// that main.ts maps to exit codes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { PACKAGE_ROOT } from '../package-root.js';
import { DEFAULT_API, DEFAULT_DATA_DIR, DEFAULT_LISTEN } from '../node/defaults.js';
import { clusterCommand } from './cluster-command.js';
import { DEFAULT_API_URL } from './client.js';
import { CliError, EXIT, type ExitCode } from './errors.js';
import {
  cancelCommand,
  jobsCommand,
  logsCommand,
  outputCommand,
  statusCommand,
  type ClientOptions,
  type LogsOptions,
  type StatusOptions,
} from './job-commands.js';
import { nodesCommand } from './nodes-command.js';
import type { RerunOptions } from './rerun-command.js';
import type { SimCommandOptions } from './sim-command.js';

export interface ProgramIo {
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Where a command's exit code goes (long-running commands decide it late). */
  readonly setExitCode: (code: ExitCode) => void;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The version in package.json, read once when the program is built. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function buildProgram(io: ProgramIo): Command {
  const program = new Command('meshrun')
    .description('peer-to-peer DAG task scheduler: one binary on every machine, a Raft log in LevelDB')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .enablePositionalOptions();

  const apiOption = (): Option =>
    new Option(
      '--api <url>',
      `a node's HTTP API; repeatable or comma-separated, the next tried when one does not answer (or MESHRUN_API; default ${DEFAULT_API_URL})`,
    ).argParser(collect);

  program
    .command('node')
    .description('run a node: a new single-voter cluster, or join one with --bootstrap')
    .option('--data <dir>', 'data directory (identity, Raft log)', DEFAULT_DATA_DIR)
    .option('--listen <multiaddr>', `libp2p listen address, repeatable (default ${DEFAULT_LISTEN})`, collect)
    .option('--api <host:port>', 'HTTP API address', DEFAULT_API)
    .option('--bootstrap <multiaddr>', 'a member to join through (ending in /p2p/<id>), repeatable', collect)
    .option('--slots <n>', 'task slots (default: number of CPUs)')
    .option('--voters <n>', 'target number of voters (odd)', '3')
    .option(
      '--swarm-key <file>',
      'pre-shared swarm key (meshrun keygen): only peers with it can connect; required to listen beyond loopback',
    )
    .option(
      '--api-token-file <file>',
      'require "Authorization: Bearer <token>" on the API, the token read from FILE (or set MESHRUN_TOKEN); needed to bind beyond loopback',
    )
    // Hidden and refused by parseNodeOptions, which names the alternatives (commander would only say "unknown option").
    .addOption(new Option('--api-token <token>', 'refused: use --api-token-file or MESHRUN_TOKEN').hideHelp())
    .option('--replace-after <duration>', 'replace a voter unreachable this long by a caught-up learner', '30s')
    .option('--name <name>', 'a readable name for this node, shown by meshrun nodes and status (default: the host name)')
    .option('--label <key=value>', "a label of this node that tasks' on: can ask for, like gpu=a100; repeatable", collect)
    .option(
      '--max-log-bytes <size>',
      'cap on the task logs in DATA/logs: logs of the oldest finished jobs go first (e.g. 512MiB; 0 for no cap)',
      '1GiB',
    )
    .addOption(new Option('--snapshot-every <n>', 'compact the log every N applied entries').default('10000').hideHelp())
    .addOption(new Option('--join-timeout <duration>', 'give up joining after this long').default('30s').hideHelp())
    .addOption(new Option('--test-hooks', 'enable the /v1/debug endpoints').hideHelp())
    .addOption(
      new Option(
        '--test-partitions',
        'TEST ONLY: enable POST /v1/test/partition and /v1/test/heal, which cut this node off from peers',
      ).hideHelp(),
    )
    .action(async (opts: Record<string, unknown>) => {
      // Loaded on demand, like every module only some commands need (the option parser, the DAG
      // reader, libp2p, the simulator): client commands start without them.
      const { parseNodeOptions } = await import('../node/options.js');
      const parsed = parseNodeOptions(opts);
      if (!parsed.ok) throw new CliError(parsed.error, EXIT.usage);
      const { nodeCommand } = await import('./node-command.js');
      io.setExitCode(await nodeCommand(parsed.value, io.out));
    });

  program
    .command('cluster')
    .description("show a node's view of the Raft cluster: term, leader, commit, voters, learners")
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (opts: { json?: boolean; api?: string[] }) => {
      await clusterCommand(opts, io.out, io.err);
    });

  program
    .command('submit')
    .description('submit a DAG file (YAML or JSON); prints the job id')
    .argument('<file>', 'the DAG file')
    .option(
      '--wait',
      'follow the job until it ends (on another node if this one dies); exit 0 if it succeeded, 1 if not, listing the failed tasks',
    )
    .option('--json', 'print JSON')
    .option('--idempotency-key <key>', 'submitting again with the same key returns the same job')
    .addOption(apiOption())
    .action(async (file: string, opts: { wait?: boolean; json?: boolean; api?: string[]; idempotencyKey?: string }) => {
      const { submitCommand } = await import('./submit-command.js');
      io.setExitCode(await submitCommand(file, opts, { out: io.out, err: io.err }));
    });

  program
    .command('status')
    .description(
      "a job's state, counts and elapsed time, its specs' counts (for a job with shards or many tasks), and a table of its first tasks (state, node, attempt, duration, exit code)",
    )
    .argument('<job>', 'the job id (meshrun jobs lists them)')
    .option('--task <task>', "list this task's attempts (node, start, duration, outcome, exit, reason) instead; a shard is name[3]")
    .option(
      '--state <state>',
      'list every task in this state (waiting, ready, running, succeeded, failed, skipped) instead of the first ones',
    )
    .option(
      '--json',
      "print the API response (GET /v1/jobs/{id}: summary and specs) as JSON; with --task, the task's attempts; with --state, {tasks}",
    )
    .addOption(apiOption())
    .action(async (job: string, opts: StatusOptions) => {
      await statusCommand(job, opts, io.out, io.err);
    });

  program
    .command('jobs')
    .description('list the jobs the cluster holds (running, and finished ones until their retention ends)')
    .option('--json', 'print the API response (GET /v1/jobs) as JSON')
    .addOption(apiOption())
    .action(async (opts: ClientOptions) => {
      await jobsCommand(opts, io.out, io.err);
    });

  program
    .command('cancel')
    .description('cancel a running job: running tasks are stopped, the rest skipped')
    .argument('<job>', 'the job id')
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (job: string, opts: ClientOptions) => {
      await cancelCommand(job, opts, io.out, io.err);
    });

  program
    .command('rerun')
    .description('re-run part of a finished job: its failed part, or named tasks (and what follows them); earlier attempts are kept')
    .argument('<job>', 'the job id')
    .option('--failed', 'every failed task and the skipped ones behind it')
    .option('--task <task>', 'a task to re-run (a spec: all its shards; name[3]: one shard); repeatable', collect)
    .option('--downstream', 'also every task downstream of the --task ones')
    .option('--wait', 'follow the job to its end: exit 0 when it succeeded, 1 when it failed')
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (job: string, opts: RerunOptions) => {
      const { rerunCommand } = await import('./rerun-command.js');
      io.setExitCode(await rerunCommand(job, opts, { out: io.out, err: io.err }));
    });

  program
    .command('logs')
    .description("print a task's output (stdout and stderr) from the node that ran it; the latest attempt unless --attempt")
    .argument('<job>', 'the job id')
    .argument('<task>', 'the task name, e.g. transform[3] for a shard')
    .option('--attempt <n>', 'which attempt (1-based)')
    .option('--json', 'print {job, task, attempt, node, log} as JSON')
    .addOption(apiOption())
    .action(async (job: string, task: string, opts: LogsOptions) => {
      await logsCommand(job, task, opts, io.out, io.err);
    });

  // Each subcommand loads its module (the schedule file reader, croner, YAML) only when it runs.
  const schedule = program
    .command('schedule')
    .description('schedules: a DAG run at every tick of a cron expression or a period (docs/schedules.md)');
  schedule
    .command('add')
    .description('create a schedule from a file, or replace the one of its name (its dag: file is read relative to it)')
    .argument('<file>', 'the schedule file (YAML or JSON)')
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (file: string, opts: ClientOptions) => {
      const { scheduleAddCommand } = await import('./schedule-commands.js');
      await scheduleAddCommand(file, opts, io.out, io.err);
    });
  schedule
    .command('ls')
    .description('list the schedules with their next tick and latest run')
    .option('--json', 'print the API response (GET /v1/schedules) as JSON')
    .addOption(apiOption())
    .action(async (opts: ClientOptions) => {
      const { scheduleListCommand } = await import('./schedule-commands.js');
      await scheduleListCommand(opts, io.out, io.err);
    });
  schedule
    .command('show')
    .description('one schedule: cadence, policies, next tick, counts and recent runs')
    .argument('<name>', 'the schedule name')
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (name: string, opts: ClientOptions) => {
      const { scheduleShowCommand } = await import('./schedule-commands.js');
      await scheduleShowCommand(name, opts, io.out, io.err);
    });
  for (const [action, what] of [
    ['pause', 'stop deciding ticks until resumed'],
    ['resume', 'decide ticks again (the ticks that fell while paused are not owed)'],
    ['trigger', 'start a run now, outside the cadence'],
  ] as const) {
    schedule
      .command(action)
      .description(what)
      .argument('<name>', 'the schedule name')
      .option('--json', 'print the API response as JSON')
      .addOption(apiOption())
      .action(async (name: string, opts: ClientOptions) => {
        const { scheduleActionCommand } = await import('./schedule-commands.js');
        await scheduleActionCommand(action, name, opts, io.out, io.err);
      });
  }
  schedule
    .command('rm')
    .description('remove a schedule (its running runs go on)')
    .argument('<name>', 'the schedule name')
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (name: string, opts: ClientOptions) => {
      const { scheduleRemoveCommand } = await import('./schedule-commands.js');
      await scheduleRemoveCommand(name, opts, io.out, io.err);
    });

  const pool = program.command('pool').description('cluster-wide pools: how many tasks naming one run at once (docs/dag-file.md §14)');
  pool
    .command('set')
    .description('create a pool or set its size (0 pauses its tasks; running ones go on)')
    .argument('<name>', 'the pool name')
    .argument('<size>', 'how many of its tasks may run at once, 0 to 10000')
    .option('--json', 'print the API response as JSON')
    .addOption(apiOption())
    .action(async (name: string, size: string, opts: ClientOptions) => {
      const { poolSetCommand } = await import('./pool-commands.js');
      await poolSetCommand(name, size, opts, io.out, io.err);
    });
  pool
    .command('ls')
    .description('list the pools with their size and the slots running tasks hold')
    .option('--json', 'print the API response (GET /v1/pools) as JSON')
    .addOption(apiOption())
    .action(async (opts: ClientOptions) => {
      const { poolListCommand } = await import('./pool-commands.js');
      await poolListCommand(opts, io.out, io.err);
    });

  program
    .command('output')
    .description('print what a succeeded task handed on to its dependents ($MESHRUN_OUTPUT, or what its handler returned), raw')
    .argument('<job>', 'the job id')
    .argument('<task>', 'the task name, e.g. transform[3] for a shard')
    .option('--json', 'print {job, task, output} as JSON (output null when it wrote none)')
    .addOption(apiOption())
    .action(async (job: string, task: string, opts: ClientOptions) => {
      await outputCommand(job, task, opts, io.out, io.err);
    });

  program
    .command('nodes')
    .description(
      'the nodes the cluster knows: name, role, up or down (since when), slots used and free, running tasks, handlers, task log size, last heard',
    )
    .option('--json', 'print the API response (GET /v1/nodes, with roles) as JSON')
    .addOption(apiOption())
    .action(async (opts: ClientOptions) => {
      await nodesCommand(opts, io.out, io.err);
    });

  program
    .command('demo')
    .description('start 3 local nodes, run examples/etl.yaml with live progress, print the dashboard URL; Ctrl-C stops everything')
    .option('--exit', 'stop the cluster when the job ends; exit 0 if it succeeded, 1 if not')
    .addOption(new Option('--file <dag>', 'run this DAG file instead of examples/etl.yaml').hideHelp())
    .action(async (opts: { exit?: boolean; file?: string }) => {
      const { demoCommand } = await import('./demo-command.js');
      io.setExitCode(await demoCommand(opts, io.out, io.err));
    });

  program
    .command('validate')
    .description('check a DAG file here, as submit would, without sending it: exit 0 when valid, 2 with every problem and its line')
    .argument('<file>', 'the DAG file (YAML or JSON)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { readDagFile } = await import('./submit-command.js');
      const { spec } = await readDagFile(file);
      const tasks = spec.tasks.reduce((n, t) => n + (t.shards ?? 1), 0);
      if (opts.json) io.out(`${JSON.stringify({ file, valid: true, name: spec.name, specs: spec.tasks.length, tasks })}\n`);
      else
        io.out(
          `${file}: a valid DAG "${spec.name}" with ${spec.tasks.length} task${spec.tasks.length === 1 ? '' : 's'} (${tasks} to run, shards counted)\n`,
        );
    });

  program
    .command('keygen')
    .description('write a new pre-shared swarm key to FILE, or to stdout')
    .argument('[file]', 'file to create (refuses to overwrite)')
    .action(async (file: string | undefined) => {
      const { keygenCommand } = await import('./keygen-command.js');
      keygenCommand(file, io.out);
    });

  program
    .command('sim')
    .description('run a scenario (nodes, DAG files, faults) in the deterministic simulator: timeline, verdict, end states')
    .argument('[scenario]', 'a scenario file (YAML); see examples/scenarios/')
    .option('--seed <n>', "the run's seed: the same seed gives the same output, byte for byte (default: the file's seed: or 1)")
    .option('--report <file>', 'also write a self-contained HTML page with the run drawn')
    .option('--json', 'print the result as JSON')
    .option('--seeds <a-b>', 'without a scenario: a sweep of random runs with faults over these seeds')
    .option('--nodes <n>', 'with --seeds: cluster size, 3 to 200 (default 5)')
    .option('--voters <n>', 'with --seeds: voters at the start, the rest learners (default: all up to 9 nodes, else 5; at most 7 beyond 9)')
    .option('--workload <w>', 'with --seeds: scheduler (default) or kv')
    .action(async (scenario: string | undefined, opts: SimCommandOptions) => {
      const { simCommand } = await import('./sim-command.js');
      io.setExitCode(await simCommand(scenario, opts, io.out));
    });

  return program;
}
