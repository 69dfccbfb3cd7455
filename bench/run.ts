// `npm run bench -- [name...]`: runs the named benchmarks (all when none is named), prints a
// table per benchmark and writes its figures as JSON under bench/results/.
import { known } from '../src/invariant.js';
import '../src/net/polyfill.js';
import { codecBench } from './codec.js';
import { failoverBench } from './failover.js';
import { raftNetBench } from './raft-net.js';
import { raftBench } from './raft.js';
import { schedulerBench } from './scheduler.js';
import type { Benchmark } from './report.js';

const benchmarks: Record<string, Benchmark> = { raft: raftBench, 'raft-net': raftNetBench, failover: failoverBench, scheduler: schedulerBench, codec: codecBench };

const args = process.argv.slice(2);
const unknown = args.filter((a) => !(a in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})`);
  process.exit(2);
}
for (const name of args.length > 0 ? args : Object.keys(benchmarks)) {
  await known(benchmarks[name], 'unknown names exited above')();
}
