// `npm run bench -- scheduler`: three `meshrun node` processes on loopback (fsync on), jobs
// submitted over HTTP. Workloads of the issue: 100,000 independent noop tasks, a 10,000-task noop
// chain, 20 layers x 500 noop tasks each depending on two of the layer before, and 5,000 shell
// tasks running `true`; plus what spawning `sh -c true` costs here on its own.
// Throughput is tasks / (job finishedAt - submittedAt), both scheduler times (leader clock), so
// polling granularity does not enter. A chain hop is the time between two consecutive tasks'
// committed results.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { at } from '../src/invariant.js';
import type { JobSummary, JobView } from '../src/scheduler/types.js';
import { Processes, agreedView, eventually, type NodeProcess } from '../test/process/spawn.js';
import { percentile, printTable, writeResults, type Row } from './report.js';

const SLOTS = 64;
const SHELL_SLOTS = 4;

export async function schedulerBench(): Promise<void> {
  const rows: Row[] = [];
  // MESHRUN_BENCH_WORKLOADS=independent,chain (names: spawn, independent, chain, layers, shell) runs only those.
  const only = process.env['MESHRUN_BENCH_WORKLOADS']?.split(',').map((w) => w.trim()).filter((w) => w !== '');
  const want = (name: string): boolean => only === undefined || only.length === 0 || only.includes(name);
  if (want('spawn')) rows.push(await spawnCost(2_000, SHELL_SLOTS * 3));
  if (want('independent')) rows.push(await onCluster(SLOTS, (nodes) => runJob(nodes, '100,000 independent noop', { name: 'independent', tasks: { t: { handler: 'noop', shards: 100_000 } } })));
  if (want('chain')) rows.push(await onCluster(SLOTS, (nodes, leader) => runJob(nodes, '10,000-task noop chain', chain(10_000), { hops: true, leader })));
  if (want('layers')) rows.push(await onCluster(SLOTS, (nodes) => runJob(nodes, '20 layers x 500 noop', layers(20, 500))));
  if (want('shell')) rows.push(await onCluster(SHELL_SLOTS, (nodes) => runJob(nodes, '5,000 shell `true`', { name: 'shell', tasks: { t: { run: 'true', shards: 5_000 } } })));
  printTable('scheduler: 3 node processes on loopback, LevelDB with fsync; tasks/s end to end (submit committed to job finished)', rows);
  // A partial run does not overwrite the recorded figures.
  if (only === undefined) writeResults('scheduler', rows, { nodes: 3, slotsPerNode: SLOTS, shellSlotsPerNode: SHELL_SLOTS });
}

type Dag = { name: string; tasks: Record<string, { handler?: string; run?: string; deps?: string[]; shards?: number }> };

function chain(n: number): Dag {
  const tasks: Dag['tasks'] = {};
  for (let i = 0; i < n; i++) tasks[`c${i}`] = { handler: 'noop', ...(i > 0 ? { deps: [`c${i - 1}`] } : {}) };
  return { name: 'chain', tasks };
}

function layers(depth: number, width: number): Dag {
  const tasks: Dag['tasks'] = {};
  for (let l = 0; l < depth; l++) {
    for (let i = 0; i < width; i++) {
      const deps = l === 0 ? [] : [`l${l - 1}_${i}`, `l${l - 1}_${(i + 1) % width}`];
      tasks[`l${l}_${i}`] = { handler: 'noop', ...(deps.length > 0 ? { deps } : {}) };
    }
  }
  return { name: 'layers', tasks };
}

async function onCluster(slots: number, fn: (nodes: NodeProcess[], leader: string | null) => Promise<Row>): Promise<Row> {
  const procs = new Processes();
  try {
    const extra = ['--slots', String(slots)];
    const first = await procs.start({ name: 'n1', extra });
    const rest = [await procs.start({ name: 'n2', bootstrap: [first.addr], extra }), await procs.start({ name: 'n3', bootstrap: [first.addr], extra })];
    const nodes = [first, ...rest];
    const views = await agreedView(nodes, { voters: 3, learners: 0 });
    return await fn(nodes, views[0]?.leader ?? null);
  } finally {
    await procs.cleanup();
  }
}

interface DebugStats {
  readonly scheduler: { claimsAccepted: number; claimsRejected: number; applied: number };
}

async function schedulerStats(n: NodeProcess): Promise<DebugStats['scheduler']> {
  return ((await (await fetch(`${n.apiUrl}/v1/debug/stats`)).json()) as DebugStats).scheduler;
}

/** Raft frames this node's transport has sent so far. */
async function framesSent(n: NodeProcess): Promise<number> {
  const r = (await (await fetch(`${n.apiUrl}/v1/debug/net`)).json()) as { transport?: { framesSent?: number } };
  return r.transport?.framesSent ?? NaN;
}

/** CPU time (user + system) a process has used, in ms, from /proc: figures that the machine's other load does not inflate as much as wall time. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the command name: state is field 3; utime and stime are fields 14 and 15 (1-based, in clock ticks of 10 ms).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function runJob(nodes: readonly NodeProcess[], label: string, dag: Dag, o: { hops?: boolean; leader?: string | null } = {}): Promise<Row> {
  const entry = at(nodes, 0, 'the bench starts three nodes');
  const appliedBefore = (await schedulerStats(entry)).applied;
  const cpuBefore = nodes.map((n) => cpuMs(n.pid));
  const framesBefore = await Promise.all(nodes.map(framesSent));
  const res = await fetch(`${entry.apiUrl}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(dag) });
  const body = (await res.json()) as { id?: string; error?: string };
  if (res.status !== 201 || body.id === undefined) throw new Error(`${label}: submit answered ${res.status} ${JSON.stringify(body)}`);
  const id = body.id;
  const wall = performance.now();
  // With MESHRUN_BENCH_PROFILE=<dir> (and bench/cpu-profile.mjs preloaded): profile the nodes during the job.
  const profiling = process.env['MESHRUN_BENCH_PROFILE'] !== undefined;
  if (profiling) for (const n of nodes) process.kill(n.pid, 'SIGUSR2');
  const summary = await eventually(`${label} to finish`, async () => {
    const r = await fetch(`${entry.apiUrl}/v1/jobs`);
    const { jobs } = (await r.json()) as { jobs: JobSummary[] };
    const j = jobs.find((x) => x.id === id);
    return j && j.state !== 'running' ? j : undefined;
  }, 600_000, 100);
  const wallMs = performance.now() - wall;
  const cpuUsed = nodes.map((n, i) => cpuMs(n.pid) - at(cpuBefore, i, 'one reading per node'));
  if (profiling) {
    for (const n of nodes) process.kill(n.pid, 'SIGUSR2');
    await new Promise((r) => setTimeout(r, 3000));
  }
  if (summary.state !== 'succeeded') throw new Error(`${label}: job ended ${summary.state}`);
  const tasks = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  const ms = (summary.finishedAt ?? NaN) - summary.submittedAt;
  const stats = await Promise.all(nodes.map(schedulerStats));
  const framesAfter = await Promise.all(nodes.map(framesSent));
  const frames = framesAfter.map((f, i) => f - at(framesBefore, i, 'one reading per node'));
  // Every replica counts every claim; one node's counters are the cluster's.
  const s = at(stats, 0, 'one reading per node');
  const row: Row = {
    workload: label,
    tasks,
    'tasks/s': tasks / (ms / 1000),
    'seconds': ms / 1000,
    'conflict %': (100 * s.claimsRejected) / Math.max(1, s.claimsAccepted + s.claimsRejected),
    'peak RSS MiB (max node)': Math.max(...nodes.map(peakRssMiB)),
    // Scheduler commands committed per task (claims, finishes, heartbeats, ticks): commits are the unit of cost.
    'commands/task': (s.applied - appliedBefore) / tasks,
    // CPU of the three node processes while the job ran: less sensitive to a busy machine than tasks/s.
    'CPU ms/1k tasks (3 nodes)': (1000 * cpuUsed.reduce((a, b) => a + b, 0)) / tasks,
    'CPU s (max node)': Math.max(...cpuUsed) / 1000,
    'Raft frames/s (max node)': Math.max(...frames) / (ms / 1000),
  };
  if (o.hops) {
    const view = (await (await fetch(`${entry.apiUrl}/v1/jobs/${id}`)).json()) as JobView;
    const names = Object.keys(dag.tasks);
    const done = names.map((name) => view.tasks[name]?.finishedAt ?? NaN);
    const hops = done.slice(1).map((t, i) => t - at(done, i, 'one time per task'));
    row['hop p50 ms'] = percentile(hops, 50);
    row['hop p99 ms'] = percentile(hops, 99);
    // A hop ends with the commit of the finish of the task that ran on `holder`: the leader's own
    // commits skip the forward to the leader and the commit notice back.
    const holders = names.slice(1).map((name) => view.tasks[name]?.node ?? null);
    const onLeader = hops.filter((_, i) => holders[i] === o.leader);
    const onFollowers = hops.filter((_, i) => holders[i] !== o.leader);
    row['hops on leader %'] = (100 * onLeader.length) / Math.max(1, hops.length);
    if (onLeader.length > 0) row['leader hop p50 ms'] = percentile(onLeader, 50);
    if (onFollowers.length > 0) row['follower hop p50 ms'] = percentile(onFollowers, 50);
  }
  row['wall s'] = wallMs / 1000;
  return row;
}

/** VmHWM: the resident set's high-water mark of a live process. */
function peakRssMiB(n: NodeProcess): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${n.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** `sh -c true` processes per second at a given concurrency, with nothing else running. */
async function spawnCost(total: number, concurrency: number): Promise<Row> {
  const started = performance.now();
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = spawn('sh', ['-c', 'true'], { stdio: 'ignore', detached: true });
      c.on('error', reject);
      c.on('exit', () => resolve());
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        await one();
      }
    }),
  );
  const ms = performance.now() - started;
  return { workload: `spawn sh -c true alone (${concurrency} at a time)`, tasks: total, 'tasks/s': total / (ms / 1000), seconds: ms / 1000 };
}
