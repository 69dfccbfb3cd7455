// `npm run bench -- big-job`: reads of one big job (issue 16: GET /v1/jobs/{id} of a 1,000,000-task
// job used to block its node 6-8 s and build a 190-260 MB answer). One `meshrun node` process on
// loopback holds a job of N shards (MESHRUN_BENCH_BIG_TASKS, default 1,000,000; --quick 20,000)
// whose handler no node has, so it stays as submitted (every task ready) and the reads are all
// that runs. Then, one at a time, a mix of reads: the job (summary and per-spec counts), its
// progress summary, pages of 500 at cursors spread over the job, pages of 5,000, and a page with a
// state filter that matches nothing (the worst case: a scan of every task). Prints each kind's
// latency p50/p99 and answer size, the node's longest event-loop stall during that kind's reads
// (prom-client's lag max, reset by the scrape before them), and its resident memory per task;
// writes bench/results/big-job.json. Then the same size runs to its end on three nodes
// (bench/big-job-run.ts). MESHRUN_BENCH_BIG_PARTS=reads or =run runs one part alone.
import { performance } from 'node:perf_hooks';
import type { JobSummary } from '../src/scheduler/types.js';
import { Processes, eventually, type NodeProcess } from '../test/process/spawn.js';
import { scrapeMetrics } from './node-probes.js';
import { percentile, printTable, writeResults, type BenchOptions, type Row } from './report.js';
import { bigJobRunBench, rssMiB } from './big-job-run.js';

/** Reads of each kind. */
const ROUNDS = 60;
const PAGE_P99_TARGET_MS = 50;
const LOOP_LAG_TARGET_MS = 50;

/** A deterministic spread of shard numbers over [0, n): the same cursors on every run. */
function cursors(n: number, count: number): number[] {
  let x = 12345;
  return Array.from({ length: count }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  });
}

interface Timed {
  readonly ms: number;
  readonly bytes: number;
}

async function timedGet(node: NodeProcess, path: string): Promise<Timed> {
  const t0 = performance.now();
  const res = await fetch(`${node.apiUrl}${path}`, { signal: AbortSignal.timeout(60_000) });
  const body = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${Buffer.from(body).toString()}`);
  return { ms, bytes: body.byteLength };
}

const PARTS = ['reads', 'run'] as const;

export async function bigJobBench(o: BenchOptions): Promise<void> {
  const n = o.quick ? 20_000 : Number(process.env['MESHRUN_BENCH_BIG_TASKS'] ?? 1_000_000);
  const parts = (process.env['MESHRUN_BENCH_BIG_PARTS'] ?? PARTS.join(',')).split(',');
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0) throw new Error(`MESHRUN_BENCH_BIG_PARTS: unknown part ${unknown.join(', ')} (known: ${PARTS.join(', ')})`);
  if (parts.includes('reads')) await readsBench(n, o);
  if (parts.includes('run')) await bigJobRunBench(n, o.quick);
}

/** One node holding a job of `n` tasks that never runs: reads only. */
async function readsBench(n: number, o: BenchOptions): Promise<void> {
  const procs = new Processes();
  try {
    const node = await procs.start({ name: 'big' });
    const before = rssMiB(node.pid);
    const dag = { name: 'big-reads', tasks: { big: { handler: 'absent', shards: n } } };
    const submitT0 = performance.now();
    const res = await fetch(`${node.apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dag),
      signal: AbortSignal.timeout(120_000),
    });
    if (res.status !== 201) throw new Error(`the submit answered ${res.status}: ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    const submitMs = performance.now() - submitT0;
    await eventually('the job to be readable', async () => ((await timedGet(node, `/v1/jobs/${id}/summary`)).ms >= 0 ? true : undefined));
    const after = rssMiB(node.pid);

    const job = `/v1/jobs/${id}`;
    const at = cursors(n, ROUNDS);
    const kinds: { label: string; path: (i: number) => string }[] = [
      { label: 'GET /v1/jobs/{id} (summary + per-spec counts)', path: () => job },
      { label: 'GET /v1/jobs/{id}/summary', path: () => `${job}/summary` },
      { label: 'page of 500 at a cursor', path: (i) => `${job}/tasks?after=${encodeURIComponent(`big[${at[i] ?? 0}]`)}` },
      { label: 'page of 5,000 at a cursor', path: (i) => `${job}/tasks?limit=5000&after=${encodeURIComponent(`big[${at[i] ?? 0}]`)}` },
      { label: 'state=failed (no match: scans every task)', path: () => `${job}/tasks?state=failed` },
      { label: 'one task', path: (i) => `${job}/tasks/${encodeURIComponent(`big[${at[i] ?? 0}]`)}` },
    ];
    // Warm-up; then each kind's reads in a lag interval of their own (a scrape starts one).
    for (const k of kinds) await timedGet(node, k.path(0));
    await scrapeMetrics(node);
    const samples = kinds.map(() => [] as Timed[]);
    const lags: number[] = [];
    const readsT0 = performance.now();
    for (const [k, kind] of kinds.entries()) {
      for (let i = 0; i < ROUNDS; i++) samples[k]?.push(await timedGet(node, kind.path(i)));
      lags.push((await scrapeMetrics(node)).loopLagMaxMs);
    }
    const readsMs = performance.now() - readsT0;
    const { leaderChanges } = await scrapeMetrics(node);
    const loopLagMaxMs = Math.max(...lags);

    const rows: Row[] = kinds.map((k, i) => {
      const s = samples[i] ?? [];
      const ms = s.map((x) => x.ms);
      return {
        read: k.label,
        'p50 ms': percentile(ms, 50),
        'p99 ms': percentile(ms, 99),
        'answer KiB': Math.round((s[0]?.bytes ?? 0) / 102.4) / 10,
        'node loop lag max ms': lags[i] ?? NaN,
        figure: `p50 ${Math.round(percentile(ms, 50))} ms, p99 ${Math.round(percentile(ms, 99))} ms; loop lag max ${Math.round(lags[i] ?? NaN)} ms`,
        target: `p99 < ${PAGE_P99_TARGET_MS} ms, lag <= ${LOOP_LAG_TARGET_MS} ms`,
        met: percentile(ms, 99) < PAGE_P99_TARGET_MS && (lags[i] ?? Infinity) <= LOOP_LAG_TARGET_MS ? 'yes' : 'NO',
      };
    });
    const summary: Row = {
      tasks: n,
      'submit answered ms': Math.round(submitMs),
      reads: ROUNDS * kinds.length,
      'reads s': readsMs / 1000,
      'node loop lag max ms (target <= 50)': loopLagMaxMs,
      'node RSS MiB before / after the job': `${Math.round(before)} / ${Math.round(after)}`,
      'RSS bytes per task (target < 1,024)': Math.round(((after - before) * 2 ** 20) / n),
      'leader changes': leaderChanges,
    };
    printTable(
      `big-job reads: one node process, a job of ${n.toLocaleString('en-US')} tasks, ${ROUNDS} reads of each kind, one at a time (page p99 target <= ${PAGE_P99_TARGET_MS} ms)`,
      rows,
    );
    printTable('big-job reads: the serving node', [summary]);
    if (!o.quick) writeResults('big-job', rows, { summary, pageP99TargetMs: PAGE_P99_TARGET_MS, loopLagTargetMs: LOOP_LAG_TARGET_MS });
    const jobs = (await (await fetch(`${node.apiUrl}/v1/jobs`)).json()) as { jobs: JobSummary[] };
    if (!jobs.jobs.some((j) => j.id === id && j.state === 'running'))
      throw new Error('the job is not running any more: the reads measured something else');
  } finally {
    await procs.cleanup();
  }
}
