// `npm run bench -- [name...] [--quick] [--markdown]`: runs the named benchmarks (all when none is named), prints
// a table per benchmark and writes its figures as JSON under bench/results/. `--quick` asks the
// benchmarks that have one for a smoke-run size (nothing is written then).
import '../src/net/polyfill.js';
import { bigJobBench } from './big-job.js';
import { cliBench } from './cli.js';
import { codecBench } from './codec.js';
import { dashboardBench } from './dashboard.js';
import { failoverBench } from './failover.js';
import { raftNetBench } from './raft-net.js';
import { raftBench } from './raft.js';
import { schedulerBench } from './scheduler.js';
import { schedulesBench } from './schedules.js';
import { submitBench } from './submit.js';
import { targetsBench } from './targets.js';
import { scaleRealBench } from './scale-real.js';
import { simScaleBench } from './sim-scale.js';
import { simWorkflowsBench } from './sim-workflows.js';
import type { Benchmark } from './report.js';

const benchmarks: Record<string, Benchmark> = {
  raft: raftBench,
  'raft-net': raftNetBench,
  failover: failoverBench,
  scheduler: schedulerBench,
  schedules: schedulesBench,
  submit: submitBench,
  cli: cliBench,
  dashboard: dashboardBench,
  codec: codecBench,
  'big-job': bigJobBench,
  'sim-scale': simScaleBench,
  'sim-workflows': simWorkflowsBench,
  // Last: the table of every figure beside its target, from what the others wrote.
  targets: targetsBench,
  'scale-real': scaleRealBench,
};

const argv = process.argv.slice(2);
const flags = argv.filter((a) => a.startsWith('--'));
const args = argv.filter((a) => !a.startsWith('--'));
const badFlags = flags.filter((f) => f !== '--quick' && f !== '--markdown');
if (badFlags.length > 0) {
  console.error(`unknown option: ${badFlags.join(', ')} (known: --quick, --markdown)`);
  process.exit(2);
}
const unknown = args.filter((a) => !(a in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})`);
  process.exit(2);
}
for (const name of args.length > 0 ? args : Object.keys(benchmarks)) {
  await (benchmarks[name] as Benchmark)({ quick: flags.includes('--quick'), markdown: flags.includes('--markdown') });
}
