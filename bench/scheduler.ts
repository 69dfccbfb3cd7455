// `npm run bench -- scheduler [--quick]`: the shapes users run (issue 16), each on three `meshrun
// node` processes on loopback (fsync on), submitted over HTTP, each figure printed beside the
// issue's target, with every node's longest event-loop stall during the run:
// - 50,000 independent distinct `noop` tasks, and a 20 x 2,500 layered DAG of distinct tasks;
// - one spec of 100,000 `noop` shards (the cheapest shape);
// - a 10,000-task `noop` chain (per-hop latency);
// - Montage- and Epigenomics-like workflows of ~2,500 `sleep` tasks of tens of ms on 3 x 8 slots,
//   their makespan beside the zero-overhead list schedule of the same DAG on the same slots;
// - 5,000 shell `true` tasks, and what spawning `sh -c true` costs here on its own.
// `--quick` runs every workload at a small size on one cluster: a smoke run, not a measurement.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { chain, distinct, layers, sharded, taskCount, type Dag } from './dags.js';
import { printTable, writeResults, type BenchOptions, type Row } from './report.js';
import { onCluster, runJob, type Cluster, type JobOptions } from './scheduler-run.js';
import { epigenomics, montage } from './workflows.js';

const NOOP_SLOTS = 64;
const WORKFLOW_SLOTS = 8;
const SHELL_SLOTS = 4;
/** Every workload of a --quick run shares one cluster with this many slots per node. */
const QUICK_SLOTS = 8;
/** Issue 16: no API request, submit, apply, snapshot or compaction blocks a node's event loop longer. */
const LOOP_LAG_TARGET_MS = 50;
/** Issue 16's measurement of the sharded case ("no slower than today"). */
const SHARDS_TODAY = 10_146;

export interface Workload {
  /** Its name in MESHRUN_BENCH_WORKLOADS. */
  readonly key: string;
  readonly label: string;
  readonly slots: number;
  readonly dag: Dag;
  readonly options?: JobOptions;
  /** Issue 16's target, as printed, or '-' for a workload without one. */
  readonly target: string;
  /** The row's figure to set beside the target, and whether it meets it (null: no target). */
  readonly judge: (r: Row) => { readonly figure: string; readonly met: boolean | null };
}

const n = (v: number): string => v.toLocaleString('en-US');
const num = (r: Row, col: string): number => (typeof r[col] === 'number' ? r[col] : NaN);
const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function throughput(min: number): Pick<Workload, 'target' | 'judge'> {
  return {
    target: `>= ${n(min)} tasks/s`,
    judge: (r) => ({ figure: `${n(Math.round(num(r, 'tasks/s')))} tasks/s`, met: num(r, 'tasks/s') >= min }),
  };
}

const hops: Pick<Workload, 'target' | 'judge'> = {
  target: 'hop p50 <= 1 ms, p99 <= 3 ms',
  judge: (r) => ({
    figure: `p50 ${fixed(num(r, 'hop p50 ms'), 1)} ms, p99 ${fixed(num(r, 'hop p99 ms'), 1)} ms`,
    met: num(r, 'hop p50 ms') <= 1 && num(r, 'hop p99 ms') <= 3,
  }),
};

const nearListSchedule: Pick<Workload, 'target' | 'judge'> = {
  target: '<= 1.10 x list schedule',
  judge: (r) => ({
    figure: `${fixed(num(r, 'makespan / list schedule'), 2)} x (${fixed(num(r, 'seconds'), 2)} s / ${fixed(num(r, 'list schedule s'), 2)} s)`,
    met: num(r, 'makespan / list schedule') <= 1.1,
  }),
};

const noTarget: Pick<Workload, 'target' | 'judge'> = {
  target: '-',
  judge: (r) => ({ figure: `${n(Math.round(num(r, 'tasks/s')))} tasks/s`, met: null }),
};

const SIZES = {
  distinct: 50_000,
  depth: 20,
  width: 2_500,
  shards: 100_000,
  chain: 10_000,
  images: 500,
  lanes: 4,
  chunks: 150,
  shell: 5_000,
};
const QUICK_SIZES: typeof SIZES = {
  distinct: 1_000,
  depth: 10,
  width: 100,
  shards: 2_000,
  chain: 200,
  images: 30,
  lanes: 2,
  chunks: 10,
  shell: 100,
};

/** The workloads at issue 16's sizes (Montage ~2,500 and Epigenomics ~2,400 tasks), or at smoke-run sizes. */
export function workloads(quick: boolean): Workload[] {
  const s = quick ? QUICK_SIZES : SIZES;
  const sched: JobOptions = { listSchedule: true };
  const mon = montage(s.images, 1);
  const epi = epigenomics(s.lanes, s.chunks, 2);
  return [
    {
      key: 'distinct',
      label: `${n(s.distinct)} independent distinct noop`,
      slots: NOOP_SLOTS,
      dag: distinct(s.distinct),
      ...throughput(20_000),
    },
    {
      key: 'layers',
      label: `${s.depth} x ${n(s.width)} layered DAG, distinct noop`,
      slots: NOOP_SLOTS,
      dag: layers(s.depth, s.width),
      ...throughput(20_000),
    },
    {
      key: 'shards',
      label: `${n(s.shards)} shards of one noop spec`,
      slots: NOOP_SLOTS,
      dag: sharded(s.shards),
      ...throughput(SHARDS_TODAY),
    },
    { key: 'chain', label: `${n(s.chain)}-task noop chain`, slots: NOOP_SLOTS, dag: chain(s.chain), options: { hops: true }, ...hops },
    {
      key: 'montage',
      label: `Montage-like, ${n(taskCount(mon))} sleep tasks`,
      slots: WORKFLOW_SLOTS,
      dag: mon,
      options: sched,
      ...nearListSchedule,
    },
    {
      key: 'epigenomics',
      label: `Epigenomics-like, ${n(taskCount(epi))} sleep tasks`,
      slots: WORKFLOW_SLOTS,
      dag: epi,
      options: sched,
      ...nearListSchedule,
    },
    {
      key: 'shell',
      label: `${n(s.shell)} shell \`true\``,
      slots: SHELL_SLOTS,
      dag: { name: 'shell', tasks: { t: { run: 'true', shards: s.shell } } },
      ...noTarget,
    },
  ];
}

/**
 * Runs `chosen`, each on a fresh cluster with its own slots (its memory and counters its own),
 * or with `quick` all on one cluster of QUICK_SLOTS per node; each row carries its figure, the
 * target and whether it was met, and the same for the event-loop lag.
 */
export async function runWorkloads(chosen: readonly Workload[], quick: boolean): Promise<Row[]> {
  const one = async (c: Cluster, w: Workload): Promise<Row> => withVerdicts(w, await runJob(c, w.label, w.dag, w.options));
  if (quick) {
    return onCluster(QUICK_SLOTS, async (c) => {
      const rows: Row[] = [];
      for (const w of chosen) rows.push(await one(c, w));
      return rows;
    });
  }
  const rows: Row[] = [];
  for (const w of chosen) rows.push(await onCluster(w.slots, (c) => one(c, w)));
  return rows;
}

function withVerdicts(w: Workload, r: Row): Row {
  const { figure, met } = w.judge(r);
  const lag = num(r, 'loop lag max ms (max node)');
  return {
    ...r,
    figure,
    target: w.target,
    met: met === null ? '-' : met ? 'yes' : 'NO',
    [`lag <= ${LOOP_LAG_TARGET_MS} ms`]: lag <= LOOP_LAG_TARGET_MS ? 'yes' : 'NO',
  };
}

const HEADLINE = ['workload', 'tasks', 'figure', 'target', 'met', 'loop lag max ms', `lag <= ${LOOP_LAG_TARGET_MS} ms`, 'leader changes'];

export async function schedulerBench(o: BenchOptions = { quick: false }): Promise<void> {
  // MESHRUN_BENCH_WORKLOADS=distinct,chain (names: spawn and the workloads' keys) runs only those.
  const only = process.env['MESHRUN_BENCH_WORKLOADS']
    ?.split(',')
    .map((w) => w.trim())
    .filter((w) => w !== '');
  const want = (name: string): boolean => only === undefined || only.length === 0 || only.includes(name);
  const chosen = workloads(o.quick).filter((w) => want(w.key));
  const rows = await runWorkloads(chosen, o.quick);
  if (want('spawn')) rows.push(await spawnCost(o.quick ? 100 : 2_000, SHELL_SLOTS * 3));
  const where = o.quick
    ? `--quick: small sizes, one cluster of 3 x ${QUICK_SLOTS} slots`
    : `${NOOP_SLOTS} slots per node for noop, ${WORKFLOW_SLOTS} for the workflows, ${SHELL_SLOTS} for shell`;
  printTable(
    `scheduler: 3 node processes on loopback, LevelDB with fsync (${where}); issue 16's targets; loop lag: each node's longest event-loop stall during the job, leader *`,
    rows.map((r) => Object.fromEntries(HEADLINE.filter((c) => c in r).map((c) => [c, r[c] ?? '']))),
  );
  printTable(
    'scheduler, details: tasks/s end to end (submit committed to job finished, scheduler time)',
    rows.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => !HEADLINE.includes(c) || c === 'workload'))),
  );
  // A partial or quick run does not overwrite the recorded figures.
  if (only === undefined && !o.quick)
    writeResults('scheduler', rows, {
      nodes: 3,
      slotsPerNode: { noop: NOOP_SLOTS, workflow: WORKFLOW_SLOTS, shell: SHELL_SLOTS },
      loopLagTargetMs: LOOP_LAG_TARGET_MS,
    });
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
  return {
    workload: `spawn sh -c true alone (${concurrency} at a time)`,
    tasks: total,
    'tasks/s': total / (ms / 1000),
    seconds: ms / 1000,
    figure: `${n(Math.round(total / (ms / 1000)))} /s`,
    target: '-',
    met: '-',
  };
}
