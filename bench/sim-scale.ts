// `npm run bench -- sim-scale [--quick]` (issue 16, Scale): what a meshrun cluster does as it grows,
// measured in the deterministic simulator, which runs the production Raft core and driver,
// scheduler, worker and claim policy (docs/simulation.md). For each cluster size (3, 10, 30, 100
// and 200 nodes; 3 or 5 voters, the rest learners; 4 slots each) one job of TASKS ready `noop`
// tasks is submitted at once, and the run reports:
// - claim conflicts: tasks named in claim proposals that the scheduler refused (another node had
//   claimed them first), per task;
// - the leader's work per task: Raft messages it handled and sent, and their bytes; log entries
//   appended (the leader's last index) per task;
// - load gossip per node per second: reports published and received, in bytes of the production
//   wire format (load-report.ts) without gossipsub's framing and signature;
// - simulated time from the submit to the last task's claim (scheduling 10,000 ready tasks) and to
//   the job's end, and the simulation's wall time.
// Figures other than wall time are deterministic: the same code gives the same numbers.
import { performance } from 'node:perf_hooks';
import { encodeLoadReport } from '../src/net/load-report.js';
import type { Cluster } from '../sim/cluster.js';
import type { NetTally } from '../sim/network.js';
import { parseScenario } from '../sim/scenario/scenario-file.js';
import { runScenario } from '../sim/scenario/scenario-run.js';
import { MAX_SIM_NODES } from '../sim/scale.js';
import type { SchedulerApplied } from '../sim/scheduler-sm.js';
import type { SchedulerWorkload } from '../sim/scheduler-workload.js';
import { claimScanRows } from './claim-scan.js';
import { printTable, writeResults, type BenchOptions, type Row } from './report.js';

const TASKS = 10_000;
const SLOTS = 4;
/**
 * Replicas' whole states compared every this many entries (entries themselves at every index):
 * hashing a 10,000-task state on every node after every entry would be most of the wall time,
 * measuring the checker rather than the cluster.
 */
const STATE_HASH_EVERY = 100;
const SIZES = [3, 10, 30, 100, 200];
const QUICK = { sizes: [3, 10], tasks: 500 };

/**
 * A load report as a production node publishes it (a 52-character peer id, a name, an API URL):
 * the simulated gossip carries the same fields with short ids, so bytes are counted at this size.
 */
export const REPORT_BYTES = encodeLoadReport({
  node: '12D3KooWGzh9aZb8Q2uKZfJ3nGv3e1a8cXo5nVzR4pQm7YtLkWx1',
  slots: 64,
  free: 12,
  running: 52,
  handlers: ['noop', 'sleep'],
  applied: 1_234_567,
  at: 1_765_000_000_000,
  name: 'worker-17',
  api: 'http://10.0.0.17:7070',
  logBytes: 123_456_789,
}).length;

/** MESHRUN_BENCH_SIZES=3,30 runs only those cluster sizes (then nothing is written). */
function chosenSizes(quick: boolean): { readonly sizes: readonly number[]; readonly partial: boolean } {
  const env = process.env['MESHRUN_BENCH_SIZES'];
  if (env === undefined || env === '') return { sizes: quick ? QUICK.sizes : SIZES, partial: false };
  const sizes = env.split(',').map((v) => Number(v));
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 1 || n > MAX_SIM_NODES)
      throw new Error(`MESHRUN_BENCH_SIZES: '${env}' is not a list of sizes from 1 to ${MAX_SIM_NODES}`);
  }
  return { sizes, partial: true };
}

export async function simScaleBench(o: BenchOptions = { quick: false }): Promise<void> {
  const { sizes, partial } = chosenSizes(o.quick);
  const tasks = o.quick ? QUICK.tasks : TASKS;
  const scan = claimScanRows(sizes);
  printTable(
    'sim-scale: one node choosing 4 claims over 10,000 ready tasks (src/worker/claim-policy.ts), without and with the owner cache',
    scan,
  );
  const rows: Row[] = [];
  for (const nodes of sizes) {
    const row = runSize(nodes, tasks);
    rows.push(row);
    console.log(`sim-scale: ${nodes} nodes done in ${String(row['wall s'])} s wall`);
    // Let the event loop breathe between sizes (output flushes).
    await new Promise((r) => setImmediate(r));
  }
  printTable(`sim-scale: one job of ${tasks.toLocaleString('en-US')} ready noop tasks, ${SLOTS} slots per node (simulated)`, rows);
  if (!o.quick && !partial)
    writeResults('sim-scale', rows, {
      claimPolicy: scan,
      tasks,
      slotsPerNode: SLOTS,
      stateHashEvery: STATE_HASH_EVERY,
      reportBytes: REPORT_BYTES,
    });
}

export function runSize(nodes: number, tasks: number): Row {
  const voters = nodes < 5 ? nodes : 5;
  const dag = `name: wide\ntasks:\n  t: { handler: noop, shards: ${tasks} }\n`;
  const s = parseScenario(
    `nodes: ${nodes}\nvoters: ${voters}\nslots: ${SLOTS}\ndags: [wide.yaml]\nfaults: []\nduration: 1s\n`,
    'sim-scale',
    () => dag,
  );
  const tally: NetTally = new Map();
  let run: { readonly cluster: Cluster<SchedulerApplied>; readonly workload: SchedulerWorkload } | null = null;
  const started = performance.now();
  const r = runScenario(s, 1, {
    stateHashEvery: STATE_HASH_EVERY,
    observe: (handed) => {
      handed.cluster.net.tally = tally;
      run = handed;
    },
  });
  const wall = (performance.now() - started) / 1000;
  const handed = run as { readonly cluster: Cluster<SchedulerApplied>; readonly workload: SchedulerWorkload } | null;
  if (!handed) throw new Error('the scenario never handed over its cluster');
  const w = handed.workload;
  const submit = r.timeline.find((e) => e.kind === 'submit')?.t ?? 0;
  const lastClaim = r.timeline.reduce((t, e) => (e.kind === 'claim' ? Math.max(t, e.t) : t), 0);
  let leader: string | null = null;
  let elections = 0;
  for (const e of r.timeline) {
    if (e.kind !== 'leader') continue;
    leader = e.node;
    elections++;
  }
  const traffic = leader === null ? undefined : tally.get(leader);
  const claims = w.claimTotals();
  const gossip = w.gossipStats();
  const simSec = r.endedAt / 1000;
  const job = r.jobs[0];
  const jobEnd = r.timeline.find((e) => e.kind === 'job')?.t ?? r.endedAt;
  const lastIndex = leader === null ? NaN : (handed.cluster.status(leader)?.lastIndex ?? NaN);
  return {
    nodes,
    voters,
    violations: r.ok ? 0 : (r.verdict.find((v) => !v.ok)?.invariant ?? 'yes'),
    job: job?.state ?? 'none',
    elections,
    'refused claims/task': (claims.proposed - claims.accepted) / tasks,
    'leader msgs/task': traffic ? (traffic.sent.messages + traffic.received.messages) / tasks : NaN,
    'leader KB/task': traffic ? (traffic.sent.bytes + traffic.received.bytes) / 1024 / tasks : NaN,
    'entries/task': leader === null ? NaN : lastIndex / tasks,
    'gossip out B/node/s': (gossip.published * REPORT_BYTES) / nodes / simSec,
    'gossip in B/node/s': (gossip.delivered * REPORT_BYTES) / nodes / simSec,
    'schedule s (sim)': (lastClaim - submit) / 1000,
    'job s (sim)': (jobEnd - submit) / 1000,
    'wall s': Math.round(wall * 10) / 10,
  };
}
