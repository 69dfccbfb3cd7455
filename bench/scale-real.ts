// Part of `npm run bench -- sim-scale` (issue 16, Scale): the same figures as the simulated
// clusters, measured on REAL_NODES `meshrun node` processes on 127.0.0.1 (3 voters, the rest
// learners; fsync on): one job of 10,000 independent `noop` tasks submitted over HTTP. Every
// process is stopped by its PID whatever happens (test/process/spawn.ts). On a 2-core machine
// ten nodes share the cores, so the figures are the machine's as much as meshrun's.
import { performance } from 'node:perf_hooks';
import { Processes, agreedView, type NodeProcess } from '../test/process/spawn.js';
import { distinct } from './dags.js';
import { cpuMs } from './node-probes.js';
import { printTable, writeResults, type BenchOptions, type Row } from './report.js';
import { REPORT_BYTES } from './sim-scale.js';
import { runJob } from './scheduler-run.js';

export const REAL_NODES = 10;
const SLOTS = 4;
const VOTERS = 3;
/** Ten processes starting and joining on a loaded machine take a while. */
const FORM_TIMEOUT_MS = 180_000;
const START_TIMEOUT_MS = 120_000;

async function gossipCounts(n: NodeProcess): Promise<{ readonly published: number; readonly accepted: number }> {
  const res = await fetch(`${n.apiUrl}/metrics`, { signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  const kind = (k: string): number =>
    Number(new RegExp(`^meshrun_gossip_messages_total\\{kind="${k}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { published: kind('published'), accepted: kind('accepted') };
}

/** The real-process row: `reportBytes` is the size of a production load report (sim-scale.ts). */
async function realScaleRow(tasks: number, reportBytes: number): Promise<Row> {
  const procs = new Processes();
  try {
    // A loaded machine answers a join slowly: ten nodes joining one after another may take minutes.
    const extra = ['--slots', String(SLOTS), '--join-timeout', '3m'];
    const base = { extra, voters: VOTERS, startTimeoutMs: START_TIMEOUT_MS };
    const first = await procs.start({ name: 'n1', ...base });
    const rest: NodeProcess[] = [];
    for (let i = 2; i <= REAL_NODES; i++) rest.push(await procs.start({ name: `n${i}`, bootstrap: [first.addr], ...base }));
    const nodes = [first, ...rest];
    const views = await agreedView(nodes, { voters: VOTERS, learners: REAL_NODES - VOTERS }, FORM_TIMEOUT_MS);
    const leaderId = views[0]?.leader ?? null;
    const leader = nodes.find((n) => n.id === leaderId);
    const gossipBefore = await Promise.all(nodes.map(gossipCounts));
    const leaderCpuBefore = leader ? cpuMs(leader.pid) : NaN;
    const started = performance.now();
    const row = await runJob({ nodes, leader: leaderId, slotsPerNode: SLOTS }, `${REAL_NODES} real nodes`, distinct(tasks));
    const secs = (performance.now() - started) / 1000;
    const leaderCpu = leader ? cpuMs(leader.pid) - leaderCpuBefore : NaN;
    const gossipAfter = await Promise.all(nodes.map(gossipCounts));
    const sum = (k: 'published' | 'accepted'): number => gossipAfter.reduce((s, g, i) => s + g[k] - (gossipBefore[i]?.[k] ?? NaN), 0);
    return {
      nodes: REAL_NODES,
      voters: VOTERS,
      job: 'succeeded',
      'conflict %': row['conflict %'] ?? NaN,
      'leader CPU ms/task': leaderCpu / tasks,
      'CPU ms/task (all nodes)': Number(row['CPU ms/1k tasks (3 nodes)'] ?? NaN) / 1000,
      'commands/task': row['commands/task'] ?? NaN,
      'gossip out B/node/s': (sum('published') * reportBytes) / REAL_NODES / secs,
      'gossip in B/node/s': (sum('accepted') * reportBytes) / REAL_NODES / secs,
      'job s': row['seconds'] ?? NaN,
      'tasks/s': row['tasks/s'] ?? NaN,
      'loop lag max ms (max node)': row['loop lag max ms (max node)'] ?? NaN,
    };
  } finally {
    await procs.cleanup();
  }
}

/** `npm run bench -- scale-real [--quick]`: the row above, printed and written to bench/results/scale-real.json. */
export async function scaleRealBench(o: BenchOptions = { quick: false }): Promise<void> {
  const tasks = o.quick ? 1_000 : 10_000;
  const row = await realScaleRow(tasks, REPORT_BYTES);
  printTable(
    `scale-real: ${REAL_NODES} meshrun node processes on 127.0.0.1, one job of ${tasks.toLocaleString('en-US')} distinct noop tasks`,
    [row],
  );
  if (!o.quick) writeResults('scale-real', [row], { tasks, slotsPerNode: SLOTS });
}
