// One scheduler benchmark job on a cluster of three `meshrun node` processes on loopback (fsync
// on): submit over HTTP, wait for the job's end, and measure it. Throughput is tasks / (job
// finishedAt - submittedAt), both scheduler times (leader clock), so polling granularity does not
// enter. A chain hop is the time between two consecutive tasks' committed results.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { JobSummary } from '../src/scheduler/types.js';
import { fetchGet, wholeJob } from '../test/process/whole-job.js';
import { Processes, agreedView, eventually, type NodeProcess } from '../test/process/spawn.js';
import { taskCount, type Dag } from './dags.js';
import { failureReport } from './failure-report.js';
import { listSchedule } from './list-schedule.js';
import { cpuMs, framesSent, peakRssMiB, schedulerCounters, scrapeMetrics } from './node-probes.js';
import { percentile, type Row } from './report.js';

export interface Cluster {
  readonly nodes: readonly NodeProcess[];
  /** The leader's peer id when the cluster formed. */
  readonly leader: string | null;
  readonly slotsPerNode: number;
}

/** Starts three nodes with `slots` each, runs `fn` on them, and stops them whatever happens. */
export async function onCluster<T>(slots: number, fn: (c: Cluster) => Promise<T>): Promise<T> {
  const procs = new Processes();
  try {
    const extra = ['--slots', String(slots)];
    const first = await procs.start({ name: 'n1', extra });
    const rest = [
      await procs.start({ name: 'n2', bootstrap: [first.addr], extra }),
      await procs.start({ name: 'n3', bootstrap: [first.addr], extra }),
    ];
    const nodes = [first, ...rest];
    const views = await agreedView(nodes, { voters: 3, learners: 0 });
    return await fn({ nodes, leader: views[0]?.leader ?? null, slotsPerNode: slots });
  } finally {
    await procs.cleanup();
  }
}

export interface JobOptions {
  /** Report hop latencies (a chain: tasks in the DAG's order, each on the one before). */
  readonly hops?: boolean;
  /** Set the makespan beside the zero-overhead list schedule on the cluster's slots (tasks of `sleep`). */
  readonly listSchedule?: boolean;
}

export async function runJob(c: Cluster, label: string, dag: Dag, o: JobOptions = {}): Promise<Row> {
  const { nodes } = c;
  const entry = nodes[0];
  if (entry === undefined) throw new Error('runJob: a cluster without nodes');
  // With MESHRUN_BENCH_PROFILE=<dir> (and bench/cpu-profile.mjs preloaded): profile the nodes from
  // the submit to the job's end; started before the readings, whose scrape starts a new lag
  // interval, so that starting the profiler does not count as the job's event-loop lag.
  const profiling = process.env['MESHRUN_BENCH_PROFILE'] !== undefined;
  if (profiling) signalProfilers(c, label);
  const readings = async (n: NodeProcess) => ({
    counters: await schedulerCounters(n),
    frames: await framesSent(n),
    cpu: cpuMs(n.pid),
    metrics: await scrapeMetrics(n),
  });
  const before = await Promise.all(nodes.map(readings));
  const submitStarted = performance.now();
  const { id, attempts } = await submit(entry, label, dag);
  const wall = performance.now();
  const submitMs = wall - submitStarted;
  const summary = await eventually(
    `${label} to finish`,
    async () => {
      const r = await fetch(`${entry.apiUrl}/v1/jobs`);
      const { jobs } = (await r.json()) as { jobs: JobSummary[] };
      const j = jobs.find((x) => x.id === id);
      return j && j.state !== 'running' ? j : undefined;
    },
    600_000,
    100,
  );
  const wallMs = performance.now() - wall;
  const after = await Promise.all(nodes.map(readings));
  // Stopped after the readings: writing a profile stalls the loop for most of a second, which is
  // the profiler's, not the job's.
  if (profiling) {
    signalProfilers(c, label);
    await new Promise((r) => setTimeout(r, 3000));
  }
  if (summary.state !== 'succeeded') throw new Error(`${label}: job ended ${summary.state}\n${await failureReport(entry, id)}`);
  const tasks = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  const ms = (summary.finishedAt ?? NaN) - summary.submittedAt;
  const delta = (i: number, pick: (s: (typeof before)[number]) => number): number => {
    const a = after[i];
    const b = before[i];
    return a === undefined || b === undefined ? NaN : pick(a) - pick(b);
  };
  const cpuUsed = nodes.map((_, i) => delta(i, (s) => s.cpu));
  const frames = nodes.map((_, i) => delta(i, (s) => s.frames));
  // Every replica counts every claim and every applied command: one node's counters are the cluster's.
  const accepted = delta(0, (s) => s.counters.claimsAccepted);
  const rejected = delta(0, (s) => s.counters.claimsRejected);
  const row: Row = {
    workload: label,
    tasks,
    'tasks/s': tasks / (ms / 1000),
    seconds: ms / 1000,
    'submit answered ms': submitMs,
    'submit attempts': attempts,
    'conflict %': (100 * rejected) / Math.max(1, accepted + rejected),
    'peak RSS MiB (max node)': Math.max(...nodes.map((n) => peakRssMiB(n.pid))),
    // Scheduler commands committed per task (claims, finishes, heartbeats, ticks): commits are the unit of cost.
    'commands/task': delta(0, (s) => s.counters.applied) / tasks,
    // CPU of the three node processes while the job ran: less sensitive to a busy machine than tasks/s.
    'CPU ms/1k tasks (3 nodes)': (1000 * cpuUsed.reduce((a, b) => a + b, 0)) / tasks,
    'CPU s (max node)': Math.max(...cpuUsed) / 1000,
    'Raft frames/s (max node)': Math.max(...frames) / (ms / 1000),
    'leader changes': delta(0, (s) => s.metrics.leaderChanges),
    // Each node's longest event-loop stall during the job (the leader's marked *): issue 16 wants <= 50 ms.
    'loop lag max ms': nodes
      .map((n, i) => `${Math.round(after[i]?.metrics.loopLagMaxMs ?? NaN)}${n.id === c.leader ? '*' : ''}`)
      .join(' / '),
    'loop lag max ms (max node)': Math.max(...after.map((a) => a.metrics.loopLagMaxMs)),
  };
  if (o.hops) Object.assign(row, await hopFigures(c, id, dag));
  if (o.listSchedule) {
    const bound = listSchedule(dag, c.slotsPerNode * nodes.length);
    row['list schedule s'] = bound.makespanMs / 1000;
    row['lower bound s'] = bound.lowerBoundMs / 1000;
    row['makespan / list schedule'] = ms / bound.makespanMs;
    Object.assign(row, await overheadFigures(c, id, dag, summary.submittedAt, ms));
  }
  row['wall s'] = wallMs / 1000;
  if (tasks !== taskCount(dag)) throw new Error(`${label}: the job counts ${tasks} tasks, the DAG has ${taskCount(dag)}`);
  return row;
}

/** Most 503s a submit may answer (not committed within the API's 10 s) before the benchmark gives up. */
const SUBMIT_ATTEMPTS = 5;

/**
 * POST /v1/jobs, retried with the same Idempotency-Key on a 503 as `meshrun submit` is told to
 * (docs/cli.md §5): a big submit on a loaded machine may be committed after the API stopped
 * waiting, and the retry then answers with that job.
 */
async function submit(entry: NodeProcess, label: string, dag: Dag): Promise<{ id: string; attempts: number }> {
  const headers = { 'content-type': 'application/json', 'idempotency-key': `bench-${randomUUID()}` };
  const body = JSON.stringify(dag);
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${entry.apiUrl}/v1/jobs`, { method: 'POST', headers, body });
    const answer = (await res.json()) as { id?: string; error?: string };
    if ((res.status === 201 || res.status === 200) && answer.id !== undefined) return { id: answer.id, attempts: attempt };
    if (res.status !== 503 || attempt === SUBMIT_ATTEMPTS)
      throw new Error(`${label}: submit answered ${res.status} ${JSON.stringify(answer)} (attempt ${attempt})`);
  }
}

/** Starts or stops the CPU profilers (bench/cpu-profile.mjs) and says which file will be whose. */
export function signalProfilers(c: Cluster, label: string): void {
  for (const n of c.nodes) process.kill(n.pid, 'SIGUSR2');
  const who = c.nodes.map((n) => `${n.pid}.cpuprofile ${n.id === c.leader ? 'leader' : 'follower'} ${n.name}`);
  console.error(`${label}: profiler signalled (${who.join(', ')})`);
}

/**
 * Where a workflow's time beyond the list schedule goes, task by task (scheduler times): the wait
 * from ready (its last dependency's result committed, or the submit) to its claim committed, and
 * from its claim to its result committed beyond its own run time (start on the node, finish
 * commit); and how busy the slots were (run time / (slots x makespan)).
 */
async function overheadFigures(c: Cluster, id: string, dag: Dag, submittedAt: number, makespanMs: number): Promise<Row> {
  const entry = c.nodes[0];
  if (entry === undefined) return {};
  const view = await wholeJob(fetchGet(entry.apiUrl), id);
  const waits: number[] = [];
  const tails: number[] = [];
  let runMs = 0;
  for (const [name, spec] of Object.entries(dag.tasks)) {
    const t = view.tasks[name];
    const { startedAt, finishedAt, durationMs } = t ?? { startedAt: null, finishedAt: null, durationMs: null };
    if (startedAt === null || finishedAt === null || durationMs === null) continue;
    const readyAt = (spec.deps ?? []).reduce((at, d) => Math.max(at, view.tasks[d]?.finishedAt ?? NaN), submittedAt);
    waits.push(startedAt - readyAt);
    tails.push(finishedAt - startedAt - durationMs);
    runMs += durationMs;
  }
  return {
    'ready→claimed p50 ms': percentile(waits, 50),
    'ready→claimed p99 ms': percentile(waits, 99),
    'claimed→result beyond run p50 ms': percentile(tails, 50),
    'slot busy %': (100 * runMs) / (c.slotsPerNode * c.nodes.length * makespanMs),
  };
}

async function hopFigures(c: Cluster, id: string, dag: Dag): Promise<Row> {
  const entry = c.nodes[0];
  if (entry === undefined) return {};
  const view = await wholeJob(fetchGet(entry.apiUrl), id);
  const names = Object.keys(dag.tasks);
  const done = names.map((name) => view.tasks[name]?.finishedAt ?? NaN);
  const hops = done.slice(1).map((t, i) => t - (done[i] ?? NaN));
  // A hop ends with the commit of the finish of the task that ran on `holder`: the leader's own
  // commits skip the forward to the leader and the commit notice back.
  const holders = names.slice(1).map((name) => view.tasks[name]?.node ?? null);
  const onLeader = hops.filter((_, i) => holders[i] === c.leader);
  const onFollowers = hops.filter((_, i) => holders[i] !== c.leader);
  return {
    'hop p50 ms': percentile(hops, 50),
    'hop p99 ms': percentile(hops, 99),
    'hops on leader %': (100 * onLeader.length) / Math.max(1, hops.length),
    ...(onLeader.length > 0 ? { 'leader hop p50 ms': percentile(onLeader, 50) } : {}),
    ...(onFollowers.length > 0 ? { 'follower hop p50 ms': percentile(onFollowers, 50) } : {}),
  };
}
