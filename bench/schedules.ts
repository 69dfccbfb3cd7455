// `npm run bench -- schedules`: three `meshrun node` processes on loopback (fsync on), 1,000
// schedules firing every second (one noop task each), for 30 s. The fire lag of a tick is the
// cluster time of the entry that fired it (the job's submittedAt: the leader's stamp when it
// appended the entry, which then commits in one replication round) minus the tick's own time.
// Also counted: ticks fired, skipped and missed against the ticks due in the window. Runs are kept
// 10 s (retention), as a frequent schedule's should be: 1,000 runs a second for minutes would make
// the state, and each snapshot of it, large.
import type { ScheduleInfo } from '../src/api/types.js';
import type { JobSummary } from '../src/scheduler/types.js';
import { Processes, agreedView, apiFetch, type NodeProcess } from '../test/process/spawn.js';
import { percentile, printTable, writeResults, type Row } from './report.js';

/** MESHRUN_BENCH_SCHEDULES=200 for a smaller run (the recorded figures are for 1,000). */
const SCHEDULES = Number(process.env['MESHRUN_BENCH_SCHEDULES'] ?? 1000);
/** Puts in flight at once while the schedules are created. */
const PUT_CONCURRENCY = 50;
const RUN_MS = 30_000;
const SLOTS = 64;

export async function schedulesBench(): Promise<void> {
  const procs = new Processes();
  try {
    const extra = ['--slots', String(SLOTS)];
    const first = await procs.start({ name: 'n1', extra });
    const rest = [
      await procs.start({ name: 'n2', bootstrap: [first.addr], extra }),
      await procs.start({ name: 'n3', bootstrap: [first.addr], extra }),
    ];
    const nodes = [first, ...rest];
    await agreedView(nodes, { voters: 3, learners: 0 });
    const setupStart = Date.now();
    const created: ScheduleInfo[] = [];
    for (let i = 0; i < SCHEDULES; i += PUT_CONCURRENCY) {
      const batch = Array.from({ length: Math.min(PUT_CONCURRENCY, SCHEDULES - i) }, (_, k) => i + k);
      const body = (n: number) => ({
        name: `s${n}`,
        every: '1s',
        dag: { name: `run-${n}`, retention: '10s', tasks: { t: { handler: 'noop' } } },
      });
      created.push(
        ...(await Promise.all(batch.map((n) => post<ScheduleInfo>(nodes[n % nodes.length] as NodeProcess, '/v1/schedules', body(n))))),
      );
    }
    const setupMs = Date.now() - setupStart;
    // The window: whole seconds after every schedule exists.
    const from = Math.max(...created.map((s) => s.nextAt as number)) + 1000;
    const to = from + RUN_MS;
    // Runs leave the state 10 s after they end: collect them every 3 s while the window lasts.
    const seen = new Map<string, JobSummary>();
    while (Date.now() < to + 3000) {
      await new Promise((r) => setTimeout(r, Math.min(3000, Math.max(0, to + 3000 - Date.now()))));
      const { jobs } = await get<{ jobs: JobSummary[] }>(first, '/v1/jobs?consistent=true');
      for (const j of jobs) if (j.schedule !== undefined) seen.set(j.id, j);
    }
    const runs = [...seen.values()].filter((j) => (j.tick as number) >= from && (j.tick as number) < to);
    const ticks = new Set(runs.map((j) => `${j.schedule}@${j.tick}`));
    if (ticks.size !== runs.length) throw new Error(`${runs.length - ticks.size} tick(s) with more than one job`);
    const lags = runs.map((j) => j.submittedAt - (j.tick as number));
    const { schedules } = await get<{ schedules: ScheduleInfo[] }>(first, '/v1/schedules');
    const due = SCHEDULES * (RUN_MS / 1000);
    const row: Row = {
      schedules: SCHEDULES,
      'window s': RUN_MS / 1000,
      'ticks due': due,
      fired: runs.length,
      'skipped (all runs)': schedules.reduce((n, s) => n + s.skipped, 0),
      'missed (all runs)': schedules.reduce((n, s) => n + s.missed, 0),
      'lag p50 ms': percentile(lags, 50),
      'lag p99 ms': percentile(lags, 99),
      'lag max ms': percentile(lags, 100),
      'setup s': Math.round(setupMs / 100) / 10,
    };
    printTable(
      `schedules: 3 node processes on loopback, LevelDB with fsync; ${SCHEDULES.toLocaleString('en-US')} schedules every 1 s; fire lag = tick to the cluster time of the entry that fired it`,
      [row],
    );
    // A smaller run does not overwrite the recorded figures.
    if (SCHEDULES === 1000) writeResults('schedules', [row], { nodes: 3, slotsPerNode: SLOTS });
  } finally {
    await procs.cleanup();
  }
}

async function post<T>(node: NodeProcess, path: string, body: unknown): Promise<T> {
  const res = await apiFetch(node, path, { method: 'POST', body, timeoutMs: 30_000 });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function get<T>(node: NodeProcess, path: string): Promise<T> {
  const res = await apiFetch(node, path, { timeoutMs: 60_000 });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
