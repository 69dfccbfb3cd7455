// `npm run bench -- cli [--quick]`: the user's own path, whole `meshrun` processes against three
// node processes on loopback (issue 16): `submit FILE --wait` of a 5,000- and a 50,000-task YAML
// file (a 20-layer DAG of distinct `noop` tasks, each on two of the layer before): time to the id
// printed (accepted) and to the exit (done); `validate` of the same files; and the latency of
// `jobs` and `status` (median of several runs), with `--version` as the floor of starting a
// process at all. Whether bin/meshrun ran the compiled build or compiled TypeScript at start
// (tsx) is part of the answer, so it is printed.
import { statSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { JobSummary } from '../src/scheduler/types.js';
import { BIN, Processes, runCli } from '../test/process/spawn.js';
import { layers, taskCount, toYaml } from './dags.js';
import { percentile, printTable, writeResults, type BenchOptions, type Row } from './report.js';
import { onCluster, type Cluster } from './scheduler-run.js';

/** Issue 16: a 50,000-task YAML file validated and submitted in < 2 s; `jobs`/`status` in < 150 ms. */
const SUBMIT_TARGET_MS = 2_000;
const READ_TARGET_MS = 150;

export async function cliBench(o: BenchOptions): Promise<void> {
  const runs = o.quick ? 2 : 7;
  const files = o.quick ? [layers(20, 25), layers(20, 100)] : [layers(20, 250), layers(20, 2_500)];
  const launcher = compiledBuildIsFresh() ? 'compiled (dist/)' : 'tsx (no fresh build)';
  const procs = new Processes();
  try {
    const dir = procs.tempDir('meshrun-bench-cli-');
    const paths = files.map((dag) => {
      const path = join(dir, `${taskCount(dag)}-tasks.yaml`);
      writeFileSync(path, toYaml(dag));
      return { path, tasks: taskCount(dag), kib: statSync(path).size / 1024 };
    });
    const rows = await onCluster(64, async (c) => {
      const api = c.nodes[0]?.apiUrl ?? '';
      const out: Row[] = [await timed('meshrun --version', ['--version'], runs, '-')];
      for (const f of paths) out.push(await timed(`meshrun validate (${f.tasks.toLocaleString('en-US')} tasks, ${Math.round(f.kib)} KiB)`, ['validate', f.path], Math.min(runs, 3), '-'));
      const ids: string[] = [];
      for (const f of paths) {
        const { row, id } = await submitWait(procs, c, f, api);
        out.push(row);
        ids.push(id);
      }
      out.push(await timed('meshrun jobs', ['jobs', '--api', api], runs, `< ${READ_TARGET_MS} ms`));
      for (const [i, id] of ids.entries()) {
        out.push(await timed(`meshrun status (${paths[i]?.tasks.toLocaleString('en-US')}-task job)`, ['status', id, '--api', api], Math.min(runs, 3), `< ${READ_TARGET_MS} ms`));
      }
      return out;
    });
    printTable(`cli: whole meshrun processes (bin/meshrun ran ${launcher}) against 3 node processes on loopback; times in ms from spawn`, rows);
    if (!o.quick) writeResults('cli', rows, { nodes: 3, slotsPerNode: 64, launcher });
  } finally {
    await procs.cleanup();
  }
}

/** Runs `meshrun args` `runs` times (each must exit 0) and reports the median whole-process time. */
async function timed(label: string, args: readonly string[], runs: number, target: string): Promise<Row> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await runCli(args, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`meshrun ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-500)}`);
    ms.push(performance.now() - t);
  }
  const median = percentile(ms, 50);
  const bound = /^< (\d+) ms$/.exec(target)?.[1];
  return { command: label, runs, 'median ms': median, 'min ms': Math.min(...ms), 'max ms': Math.max(...ms), target, met: bound === undefined ? '-' : median < Number(bound) ? 'yes' : 'NO' };
}

/** `meshrun submit FILE --wait`: ms to the id on stdout (the job accepted) and to a successful exit. */
async function submitWait(procs: Processes, c: Cluster, f: { path: string; tasks: number; kib: number }, api: string): Promise<{ row: Row; id: string }> {
  const label = `meshrun submit --wait (${f.tasks.toLocaleString('en-US')} tasks, ${Math.round(f.kib)} KiB)`;
  const started = performance.now();
  const p = procs.spawn(label, ['submit', f.path, '--wait', '--api', api]);
  let acceptedMs = NaN;
  const onData = (): void => {
    if (!p.stdout().includes('\n')) return;
    acceptedMs = performance.now() - started;
    p.child.stdout?.off('data', onData);
  };
  p.child.stdout?.on('data', onData);
  const exit = await p.exited;
  const doneMs = performance.now() - started;
  if (exit.code !== 0) throw new Error(`${label} exited ${exit.code ?? exit.signal}: ${p.stderr().slice(-500)}`);
  const id = p.stdout().split('\n')[0]?.trim() ?? '';
  const job = await jobSummary(c, id);
  return {
    id,
    row: {
      command: label,
      runs: 1,
      'accepted ms': acceptedMs,
      'done ms': doneMs,
      // The job's own time from its submit's commit to its end: what remains is the CLI's and the API's.
      'job ms (scheduler)': (job.finishedAt ?? NaN) - job.submittedAt,
      target: f.tasks >= 50_000 ? `accepted < ${SUBMIT_TARGET_MS} ms` : '-',
      met: f.tasks >= 50_000 ? (acceptedMs < SUBMIT_TARGET_MS ? 'yes' : 'NO') : '-',
    },
  };
}

async function jobSummary(c: Cluster, id: string): Promise<JobSummary> {
  const res = await fetch(`${c.nodes[0]?.apiUrl ?? ''}/v1/jobs`);
  const job = ((await res.json()) as { jobs: JobSummary[] }).jobs.find((j) => j.id === id);
  if (job === undefined) throw new Error(`job ${JSON.stringify(id)} is not in GET /v1/jobs`);
  return job;
}

/**
 * Whether bin/meshrun runs dist/ rather than the sources through tsx: its rule (a build stamp
 * newer than every file under src, sim, package.json and tsconfig.json), restated here to label
 * the figures.
 */
function compiledBuildIsFresh(): boolean {
  const root = join(BIN, '..', '..');
  const mtime = (p: string): number => statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const stamp = mtime(join(root, 'dist', '.build-stamp'));
  if (stamp === 0) return false;
  const newest = (p: string): number => {
    const stat = statSync(p, { throwIfNoEntry: false });
    if (stat === undefined || !stat.isDirectory()) return mtime(p);
    return readdirSync(p, { recursive: true, encoding: 'utf8' }).reduce((m, e) => Math.max(m, mtime(join(p, e))), stat.mtimeMs);
  };
  return ['src', 'sim', 'package.json', 'tsconfig.json'].every((s) => newest(join(root, s)) <= stamp);
}
