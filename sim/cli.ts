// `npm run sim -- ...`: run one seed of the deterministic cluster simulator, or sweep many.
import { performance } from 'node:perf_hooks';
import { hex } from './hash.js';
import { parseArgs, USAGE, UsageError, type CliOptions } from './args.js';
import { formatFailure } from './report.js';
import { runSimulation } from './run.js';
import { runSweep } from './sweep.js';

async function main(argv: readonly string[]): Promise<number> {
  let o: CliOptions;
  try {
    o = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sim: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  return o.single ? runOne(o) : sweep(o);
}

function runOne(o: CliOptions): number {
  const started = performance.now();
  const r = runSimulation({
    seed: o.seeds.from,
    nodes: o.nodes,
    durationMs: o.durationMs,
    workload: o.workload,
    ...(o.plant !== undefined ? { plant: o.plant } : {}),
    traceSink: o.trace ? (line) => process.stdout.write(`${line}\n`) : undefined,
    hashTrace: true,
  });
  for (const l of r.summary) process.stdout.write(`${l}\n`);
  process.stdout.write(`trace hash ${hex(r.traceHash)}\n`);
  if (!r.ok) process.stdout.write(`\n${formatFailure(r)}`);
  else process.stdout.write('ok: no violations\n');
  const secs = (performance.now() - started) / 1000;
  process.stderr.write(`${secs.toFixed(2)}s wall, ${Math.round(r.events / secs)} events/s\n`);
  return r.ok ? 0 : 1;
}

async function sweep(o: CliOptions): Promise<number> {
  const started = performance.now();
  let events = 0;
  const failing: number[] = [];
  await runSweep(o, (r) => {
    events += r.events;
    if (!r.ok) {
      failing.push(r.seed);
      process.stdout.write(formatFailure(r));
    }
  });
  const secs = (performance.now() - started) / 1000;
  const n = o.seeds.to - o.seeds.from + 1;
  process.stdout.write(
    `sweep seeds ${o.seeds.from}-${o.seeds.to}, ${o.workload} workload${o.plant !== undefined ? ` with planted ${o.plant}` : ''}, ` +
      `${o.nodes} nodes, ${o.durationMs}ms faults: ${n} seeds run, ` +
      `${failing.length} violations, ${(n / secs).toFixed(1)} seeds/s, ${Math.round(events / secs)} simulated events/s ` +
      `(${secs.toFixed(1)}s, ${o.jobs} jobs)\n`,
  );
  if (failing.length > 0) process.stdout.write(`failing seeds: ${failing.join(' ')}\n`);
  return failing.length > 0 ? 1 : 0;
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
